#!/usr/bin/env bash
# Install the system tools the tests and the quick start use, only those that are missing.
# Idempotent and quiet when everything is there. Debian/Ubuntu (apt); elsewhere it says what to install.
set -euo pipefail

# binary -> Debian package
declare -A PKG=(
  [docker-registry]=docker-registry   # CNCF distribution registry, the real registry the tests run
  [htpasswd]=apache2-utils            # htpasswd files for Basic auth tests
  [buildah]=buildah                   # daemonless build engine
  [skopeo]=skopeo                     # peer for benchmarks
  [umoci]=umoci                       # peer for benchmarks
  [debootstrap]=debootstrap           # real Debian base root file systems
  [qemu-aarch64-static]=qemu-user-static  # arm64 RUN steps on amd64
  [openssl]=openssl                   # test certificates for token auth
  [zstd]=zstd                         # zstd-compressed test layers
  [dockerd]=docker.io                 # the docker engine's tests run a private daemon (vfs, no iptables)
)
want=()
for bin in "${!PKG[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || want+=("${PKG[$bin]}")
done
# buildah's vfs storage on a fresh machine needs these policy files; the package ships them.
[ -f /etc/containers/policy.json ] || want+=(containers-common)
[ ${#want[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${want[*]} (install them with your package manager)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing system packages: ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
