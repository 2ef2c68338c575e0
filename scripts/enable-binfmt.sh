#!/usr/bin/env bash
# Register qemu-user-static for foreign-arch RUN steps (arm64 on amd64 and the reverse), so buildah/docker can
# build both arches on one machine. Idempotent; needs root (or sudo). Prints what it did.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
dir=/proc/sys/fs/binfmt_misc
if [ ! -e "$dir/register" ]; then
  $SUDO mount -t binfmt_misc binfmt_misc "$dir"
fi
register() { # name magic mask interpreter
  local name=$1 magic=$2 mask=$3 interp=$4
  if [ -e "$dir/$name" ]; then
    grep -q '^enabled' "$dir/$name" || echo 1 | $SUDO tee "$dir/$name" >/dev/null
    echo "binfmt: $name already registered"
    return
  fi
  [ -x "$interp" ] || { echo "binfmt: $interp missing (apt-get install qemu-user-static)" >&2; return 1; }
  # F: the kernel opens the interpreter now, so it works inside chroots and containers too.
  printf ':%s:M::%s:%s:%s:F\n' "$name" "$magic" "$mask" "$interp" | $SUDO tee "$dir/register" >/dev/null
  echo "binfmt: registered $name -> $interp"
}
case "$(uname -m)" in
  x86_64)
    register qemu-aarch64 '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' \
      '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' /usr/bin/qemu-aarch64-static ;;
  aarch64)
    register qemu-x86_64 '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00' \
      '\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff' /usr/bin/qemu-x86_64-static ;;
esac
