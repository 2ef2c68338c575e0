#!/usr/bin/env bash
# `make push` needs Node and the build engine it will use, nothing else: this checks the engine is on PATH and
# says how to get it. It installs nothing (a CI runner or a maintainer's machine has its engine already).
#   require-engine.sh [auto|buildah|podman|docker]
set -euo pipefail

engine=${1:-auto}
declare -A PKG=([buildah]=buildah [podman]=podman [docker]=docker.io)
case "$engine" in
  buildah | podman | docker)
    command -v "$engine" >/dev/null 2>&1 && exit 0
    echo "make push: the $engine engine is not installed (ENGINE=$engine). Install it (Debian/Ubuntu:" \
      "apt-get install ${PKG[$engine]}) or choose another with ENGINE=buildah|podman|docker." >&2
    exit 1
    ;;
  auto)
    for candidate in docker podman buildah; do command -v "$candidate" >/dev/null 2>&1 && exit 0; done
    echo "make push: no build engine is installed (looked for docker, podman, buildah). Install one" \
      "(Debian/Ubuntu: apt-get install buildah, the daemonless one) and pass ENGINE=buildah." >&2
    exit 1
    ;;
  *)
    echo "make push: ENGINE=$engine is not an engine: use buildah, podman, docker or auto." >&2
    exit 2
    ;;
esac
