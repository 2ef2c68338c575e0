#!/usr/bin/env bash
# make e2e: the whole chain on this machine, for real, against a local registry with auth.
#  1 registry (htpasswd)  2 Debian bases by debootstrap (amd64 + arm64, cached)  3 make push of this repository's
#  bookworm image for both arches (arm64 under qemu)  4 check --exec (real gcc -dumpfullversion)  5 index + select
#  6 a broken aarch64 variant is refused and nothing of it is published  7 bump --dry-run after a new base push
#  8 verify: bookworm's kernel headers (amd64 from apt, arm64 by https URL); select picks step 3's Debian GCC 12
#    image for that kernel and a probe module is built with it and judged on both arches; the GCC 11 image is
#    reported failing, and an image without make is refused by push --verify's check (the driver builder's
#    contract) with nothing published.
# Env: E2E_SUITE (bookworm), E2E_IMAGE (builder-any-x86_64_gcc11.0.0.Dockerfile), E2E_KEEP=1 keeps the work dir.
# Step 3 also builds a Debian GCC 12 image (the GCC Debian builds bookworm's kernel with) for step 8; the two
# arm64 builds under qemu run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$PWD
suite=${E2E_SUITE:-bookworm}
image=${E2E_IMAGE:-builder-any-x86_64_gcc11.0.0.Dockerfile}
cli() { node "$project/bin/builder-images.js" "$@"; }
work=$(mktemp -d /tmp/bi-e2e-XXXXXX)
summary=()
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  [ "${E2E_KEEP:-}" = 1 ] && echo "work dir kept: $work" || rm -rf "$work"
}
trap cleanup EXIT
# Everything buildah builds or pulls here lives in this run's own containers storage, removed with the work dir.
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/containers/storage"\nrunroot = "%s/containers/run"\n' "$work" "$work" > "$work/storage.conf"
export CONTAINERS_STORAGE_CONF="$work/storage.conf"
step_start=$SECONDS
step() { # name: closes the previous step
  summary+=("$(printf '%-66s %4ss' "$1" $((SECONDS - step_start)))")
  step_start=$SECONDS
}
fail() { echo "e2e FAILED: $*" >&2; exit 1; }
commit() { git -C "$repo" add -A; git -C "$repo" -c user.name=e2e -c user.email=e2e@example.com commit -qm "$1"; }
refused() { # NAME PATTERN PUSH_ARGS…: make push refuses the image NAME saying PATTERN, and publishes nothing of it
  local name=$1 pattern=$2 out="$work/$1.txt"
  shift 2
  if make -s push REGISTRY="$reg/builders" ENGINE=buildah PUSH_FLAGS="--cwd $repo $*" > "$out" 2>&1; then cat "$out"; fail "push accepted the $name image"; fi
  local finding
  finding=$(grep -oE "$pattern[^|]*" "$out" | head -1 | sed 's/[[:space:]]*$//') || { cat "$out"; fail "push did not say why it refused the $name image"; }
  echo "push refused it: $finding"
  grep -E "^(IMAGE|$name-)" "$out" | sed 's/^/  /'
  cli --cwd "$repo" plan --all --format json > "$work/plan-$name.json"
  node -e "const p=require('$work/plan-$name.json');const b=p.find(r=>r.image.includes('$name'));if(!b||b.built)process.exit(1)" || fail "the $name image reached the registry"
}

echo "== 1. local registry with htpasswd auth"
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
reg="127.0.0.1:$port"
user=e2e
pass=$(openssl rand -hex 16)
htpasswd -Bbn "$user" "$pass" > "$work/htpasswd"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry }, delete: { enabled: true } }
http: { addr: "$reg", secret: $(openssl rand -hex 16) }
auth: { htpasswd: { realm: e2e, path: $work/htpasswd } }
YAML
docker-registry serve "$work/registry.yml" 2>"$work/registry.log" &
registry_pid=$!
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$reg/v2/")" = 401 ] && break; sleep 0.1; done
# Credentials the way Docker keeps them; buildah reads the same file.
mkdir -p "$work/docker"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$reg" "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" > "$work/docker/config.json"
export DOCKER_CONFIG="$work/docker" REGISTRY_AUTH_FILE="$work/docker/config.json"
step "1. registry with auth on $reg"

echo "== 2. Debian $suite bases by debootstrap (amd64, arm64)"
bash scripts/enable-binfmt.sh
base_digest=$(bash scripts/make-bases.sh "$suite" "$reg" amd64 arm64)
step "2. bases $reg/debian:$suite (amd64, arm64)"

gcc12=builder-debian-x86_64_gcc12.0.0.Dockerfile
echo "== 3. make push of $image and $gcc12 for both arches"
repo="$work/repo"
mkdir -p "$repo/images"
cp "images/$image" "$repo/images/$image"
ln -s "$image" "$repo/images/${image/x86_64/aarch64}"
# The build points BASE_IMAGE at the local bases; the pin in the file itself is rewritten to the local digest so
# bump can follow it in step 7 (no Docker Hub here).
sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=$reg/debian:$suite@$base_digest|" "$repo/images/$image"
# The same image with bookworm's GCC 12, as the debian target: what select picks for bookworm's 6.1 kernel.
sed 's/gcc-11/gcc-12/g; s/g++-11/g++-12/g; s/GCC 11/GCC 12/g' "$repo/images/$image" > "$repo/images/$gcc12"
ln -s "$gcc12" "$repo/images/${gcc12/x86_64/aarch64}"
printf '.cache/\n' > "$repo/.gitignore"
printf 'repositories: [%s/builders]\nengine: buildah\n' "$reg" > "$repo/builder-images.yaml"
git -C "$repo" init -q -b main
commit e2e
cli --cwd "$repo" lint --no-index
make -s push REGISTRY="$reg/builders" ENGINE=buildah PUSH_FLAGS="--cwd $repo --jobs 2"
step "3. make push (build, check, per-arch tags, index)"

echo "== 4. check --exec on both arches"
name=${image%.Dockerfile}; name=${name#builder-}
x86_tag="$reg/builders:$name-latest"
arm_tag="$reg/builders:${name/x86_64/aarch64}-latest"
cli --cwd "$repo" check --exec --engine buildah "$x86_tag" "$arm_tag" | tee "$work/check.txt"
grep -q 'exec gcc-.*: ok: runs as GCC' "$work/check.txt" || fail "check --exec ran no compiler"
[ "$(grep -c ': ok: runs as GCC' "$work/check.txt")" -ge 2 ] || fail "check --exec did not run on both arches"
step "4. check --exec (real gcc -dumpfullversion, amd64 + arm64)"

echo "== 5. index for $reg/builders and select"
cli --cwd "$repo" index --repo "$reg/builders" --output "$work/index.yaml"
echo "the index for $reg/builders is $work/index.yaml ($(grep -c '^  - name:' "$work/index.yaml") image(s); the work dir is removed at the end, E2E_KEEP=1 keeps it):"
sed 's/^/  /' "$work/index.yaml"
for k in 5.10.0-28-amd64 6.1.0-18-amd64 4.19.0-26-amd64; do
  # Each arch's own release of the kernel (6.1.0-18-arm64 for aarch64): select refuses another arch's.
  cli --cwd "$repo" select --index "$work/index.yaml" --target debian --arch x86_64 --kernel-release "$k"
  cli --cwd "$repo" select --index "$work/index.yaml" --target debian --arch aarch64 --kernel-release "${k%-amd64}-arm64"
done | tee "$work/select.txt"
grep -q "image:  $reg/builders:any-aarch64" "$work/select.txt" || fail "select picked no aarch64 image"
step "5. index ($work/index.yaml) + select, 6 picks"

echo "== 6. a broken aarch64 variant is refused"
printf 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN ln -s /bin/true /usr/bin/gcc-11\n' > "$repo/images/builder-broken-aarch64_gcc11.0.0.Dockerfile"
commit broken
refused broken 'check failed, nothing published: /usr/bin/gcc-11.0.0 is missing' --build-arg BASE_IMAGE=$reg/debian:$suite builder-broken-aarch64_gcc11.0.0.Dockerfile
step "6. broken aarch64 refused (gcc-11.0.0 missing), none published"

echo "== 7. bump --dry-run after a new base push"
BASES_STAMP="e2e $(date +%s)" bash scripts/make-bases.sh "$suite" "$reg" amd64 arm64 > "$work/new-digest"
new_digest=$(cat "$work/new-digest")
[ "$new_digest" != "$base_digest" ] || fail "the new base push did not change the digest"
cli --cwd "$repo" bump --dry-run | tee "$work/bump.txt"
grep -q "^+ARG BASE_IMAGE=$reg/debian:$suite@$new_digest" "$work/bump.txt" || fail "bump did not move the pin to $new_digest"
step "7. bump --dry-run shows ${base_digest:7:7} -> ${new_digest:7:7}"

echo "== 8. verify: a kernel module for bookworm's kernel (amd64 + arm64) with the image select picks"
# Headers: the current bookworm kernel's packages. amd64 through apt (cached under .cache/e2e-headers); arm64 by
# their https URLs (same pool paths, arch swapped), downloaded and cached by verify itself.
hdr="$project/.cache/e2e-headers"
mkdir -p "$hdr"
abi=$(apt-cache depends linux-headers-amd64 | sed -n 's/.*Depends: linux-headers-\(.*\)-amd64$/\1/p' | head -1)
[ -n "$abi" ] || fail "apt knows no linux-headers-amd64 (apt-get update?)"
kbuild=linux-kbuild-${abi%%.0-*}
krel="$abi-amd64"
pkgs=("linux-headers-$abi-amd64" "linux-headers-$abi-common" "$kbuild")
uris=$(apt-get download --print-uris "${pkgs[@]}")
amd64_debs=()
for f in $(awk '{print $2}' <<<"$uris"); do amd64_debs+=("$hdr/$f"); done
if ! ls "${amd64_debs[@]}" >/dev/null 2>&1; then (cd "$hdr" && apt-get download "${pkgs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true); fi
ls "${amd64_debs[@]}" >/dev/null || fail "apt-get download of ${pkgs[*]} failed"
arm64_urls=()
for u in $(awk '{print $1}' <<<"$uris" | tr -d "'" | grep -v -- '-common_'); do
  u=${u/#http:/https:}; u=${u/-amd64_/-arm64_}; arm64_urls+=("${u/_amd64.deb/_arm64.deb}")
done
echo "kernel $krel: ${amd64_debs[*]##*/} + arm64 ${arm64_urls[*]##*/}"
for r in "x86_64 $abi-amd64" "aarch64 $abi-arm64"; do cli --cwd "$repo" select --index "$work/index.yaml" --target debian --arch "${r% *}" --kernel-release "${r#* }"; done | tee "$work/select-verify.txt"
[ "$(grep -c "image:  $reg/builders:debian-.*_gcc12.0.0-latest" "$work/select-verify.txt")" = 2 ] || fail "select does not pick the debian GCC 12 images for $krel"
cli --cwd "$repo" verify --index "$work/index.yaml" --headers "${amd64_debs[@]}" "${arm64_urls[@]}" | tee "$work/verify.txt"
[ "$(grep -cE "^$abi-(amd64|arm64) .* pass " "$work/verify.txt")" = 2 ] || fail "verify did not pass on both arches"
grep -q "vermagic $abi-arm64 SMP" "$work/verify.txt" || fail "no arm64 vermagic read from the module"
# Unusable: step 3's GCC 11 image cannot build this kernel's modules (its .config asks for GCC 12 flags).
if cli --cwd "$repo" verify "$x86_tag" --headers "${amd64_debs[@]}" > "$work/verify-gcc11.txt" 2>&1; then cat "$work/verify-gcc11.txt"; fail "verify passed GCC 11 for $krel"; fi
cat "$work/verify-gcc11.txt" | grep -v '^verify:' || true
grep -q "fail" "$work/verify-gcc11.txt" && grep -q "error" "$work/verify-gcc11.txt" || fail "verify did not say why GCC 11 failed"
# Unusable: an "any" GCC 12 image without make (select would fall back to it for debian) is refused by
# push --verify before its verify runs: check finds make missing from the driver builder's contract, and
# nothing of it is published.
printf 'ARG BASE_IMAGE=%s/builders:debian-x86_64_gcc12.0.0-latest\nFROM ${BASE_IMAGE}\nRUN rm -f /usr/bin/make\n' "$reg" > "$repo/images/builder-any-x86_64_gcc12.0.0.Dockerfile"
commit nomake
refused any-x86_64_gcc12.0.0 'check failed, nothing published: .*make is not on PATH' builder-any-x86_64_gcc12.0.0.Dockerfile --verify "${amd64_debs[*]}"
step "8. verify $krel: .ko on amd64 + arm64; GCC 11 failed, no make refused by check"

echo
echo "== e2e summary"
printf '%s\n' "${summary[@]}"
echo "total ${SECONDS}s: all 8 steps passed"
