#!/usr/bin/env bash
# vitest run, with colours only for a terminal: vitest's colour library (tinyrainbow) does not look at whether
# stdout is one, so `make test > test.log` would fill the log with ANSI escapes. FORCE_COLOR=1 keeps them anyway;
# NO_COLOR set by the caller is respected as it is.
#   vitest.sh [vitest run arguments...]
set -euo pipefail
if [ ! -t 1 ] && [ -z "${FORCE_COLOR+x}" ]; then export NO_COLOR=1; fi
exec npx vitest run "$@"
