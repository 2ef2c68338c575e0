#!/usr/bin/env bash
# Install the system tools the tests and the quick start use, only those that are missing.
# Idempotent and quiet when everything is there. Debian/Ubuntu (apt); elsewhere it says what to install.
set -euo pipefail

# binary -> Debian package
declare -A PKG=(
  [docker-registry]=docker-registry   # CNCF distribution registry, the real registry the tests run
  [htpasswd]=apache2-utils            # htpasswd files for Basic auth tests
  [buildah]=buildah                   # daemonless build engine
  [podman]=podman                     # podman image mount: push checks a buildah image's root without a copy
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
# buildah and skopeo refuse to pull without /etc/containers/policy.json: containers-common ships it on newer
# Debian and Ubuntu, golang-github-containers-image on Debian 12 (checked against the package lists below).
need_policy=0
[ -f /etc/containers/policy.json ] || need_policy=1
[ ${#want[@]} -eq 0 ] && [ $need_policy -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${want[*]} (install them with your package manager)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
if [ $need_policy -eq 1 ]; then
  for pkg in containers-common golang-github-containers-image; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then want+=("$pkg"); break; fi
  done
fi
echo "installing system packages: ${want[*]}" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
