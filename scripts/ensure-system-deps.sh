#!/usr/bin/env bash
# Install the system tools a make target uses, only those that are missing:
#   ensure-system-deps.sh test|e2e|bench ...   (one or more profiles; `make test`, `make e2e`, `make bench`)
# The CLI's own targets (push, plan, lint, index) never come here: they need Node and, for push, the build engine
# (scripts/require-engine.sh). Idempotent and quiet when everything is there. Debian/Ubuntu (apt); elsewhere it
# says what to install.
set -euo pipefail

profiles=()
for arg in "$@"; do
  case "$arg" in
    test | e2e | bench) profiles+=("$arg") ;;
    *) echo "usage: $0 test|e2e|bench ... (unknown profile \"$arg\")" >&2; exit 2 ;;
  esac
done
[ ${#profiles[@]} -gt 0 ] || { echo "usage: $0 test|e2e|bench ..." >&2; exit 2; }

# binary -> Debian package
declare -A PKG=(
  [docker-registry]=docker-registry   # CNCF distribution registry, the real registry the tests run
  [htpasswd]=apache2-utils            # htpasswd files for Basic auth tests
  [buildah]=buildah                   # daemonless build engine
  [podman]=podman                     # podman image mount: push checks a buildah image's root without a copy
  [skopeo]=skopeo                     # writes docker archives for the tests; peer for benchmarks
  [umoci]=umoci                       # the runtime reference of the tar differential test; peer for benchmarks
  [debootstrap]=debootstrap           # real Debian base root file systems
  [qemu-aarch64-static]=qemu-user-static  # arm64 RUN steps on amd64
  [openssl]=openssl                   # test certificates for token auth, e2e secrets
  [zstd]=zstd                         # zstd-compressed test layers
  [dockerd]=docker.io                 # the docker engine's tests run a private daemon (vfs, no iptables)
  [curl]=curl                         # e2e waits for its registry
  [xz]=xz-utils                       # verify unpacks .deb/.rpm kernel headers compressed with xz
)
# profile -> the binaries its target runs
declare -A USES=(
  [test]="docker-registry htpasswd buildah podman openssl zstd dockerd skopeo umoci xz"
  [e2e]="docker-registry htpasswd buildah openssl debootstrap qemu-aarch64-static curl xz"
  [bench]="docker-registry buildah skopeo umoci debootstrap"
)

want=()
for profile in "${profiles[@]}"; do
  for bin in ${USES[$profile]}; do
    command -v "$bin" >/dev/null 2>&1 && continue
    case " ${want[*]-} " in *" ${PKG[$bin]} "*) ;; *) want+=("${PKG[$bin]}") ;; esac
  done
done
# buildah and skopeo refuse to pull without /etc/containers/policy.json. (CONTAINERS_POLICY_JSON: tests only.)
policy=${CONTAINERS_POLICY_JSON:-/etc/containers/policy.json}
need_policy=0
[ -f "$policy" ] || need_policy=1
[ ${#want[@]} -eq 0 ] && [ $need_policy -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  [ $need_policy -eq 1 ] && want+=("the package that ships $policy (containers-common)")
  echo "missing system packages: ${want[*]} (install them with your package manager)" >&2
  exit 1
fi
SUDO=""
[ "$EUID" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Fresh VMs and CI runners often run apt at boot: wait for it instead of failing. DPkg::Lock::Timeout makes apt-get
# wait for dpkg's locks; the lists and archives locks (apt-get update, downloads) have no timeout in apt, so a
# "Could not get lock" there is retried until the same deadline. APT_LOCK_TIMEOUT: seconds, default 600.
lock_timeout=${APT_LOCK_TIMEOUT:-600}
[[ "$lock_timeout" =~ ^[0-9]+$ ]] || { echo "APT_LOCK_TIMEOUT must be a number of seconds, not \"$lock_timeout\"" >&2; exit 2; }
lock_deadline=$((SECONDS + lock_timeout))
apt_get() {
  local err code said=0 left
  while :; do
    left=$((lock_deadline - SECONDS))
    [ "$left" -gt 0 ] || left=0
    code=0
    err=$(LC_ALL=C $SUDO apt-get -o DPkg::Lock::Timeout="$left" "$@" 2>&1 >/dev/null) || code=$?
    if [ $code -eq 0 ]; then
      [ -z "$err" ] || printf '%s\n' "$err" >&2
      return 0
    fi
    if [[ "$err" == *"Could not get lock"* ]] && [ "$SECONDS" -lt "$lock_deadline" ]; then
      if [ $said -eq 0 ]; then
        echo "waiting up to ${left}s for another apt to finish (${err%%$'\n'*})" >&2
        said=1
      fi
      sleep 2
      continue
    fi
    printf '%s\n' "$err" >&2
    return $code
  done
}
apt_get update -qq
if [ $need_policy -eq 1 ]; then
  # containers-common on Debian 13 and Ubuntu; on Debian 12 policy.json is in golang-github-containers-common
  # (`dpkg -S /etc/containers/policy.json`), golang-github-containers-image only ships registries.conf.
  found=""
  for pkg in containers-common golang-github-containers-common; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then found=$pkg; break; fi
  done
  if [ -n "$found" ]; then
    want+=("$found")
  else
    echo "warning: no package here ships $policy (tried containers-common, golang-github-containers-common);" \
      "buildah and skopeo will refuse to pull until it exists" >&2
  fi
fi
[ ${#want[@]} -eq 0 ] && exit 0
echo "installing system packages: ${want[*]}" >&2
apt_get install -y -qq --no-install-recommends "${want[@]}"
