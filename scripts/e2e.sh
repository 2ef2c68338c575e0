#!/usr/bin/env bash
# make e2e: the whole chain on this machine, for real, against a local registry with auth.
#  1 registry (htpasswd)  2 Debian bases by debootstrap (amd64 + arm64, cached)  3 make push of this repository's
#  bookworm image for both arches (arm64 under qemu)  4 check --exec (real gcc -dumpfullversion)  5 index + select
#  6 a broken aarch64 variant is refused and nothing of it is published  7 bump --dry-run after a new base push.
# Env: E2E_SUITE (bookworm), E2E_IMAGE (builder-any-x86_64_gcc11.0.0.Dockerfile), E2E_KEEP=1 keeps the work dir.
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

echo "== 3. make push of $image for both arches"
repo="$work/repo"
mkdir -p "$repo/images"
cp "images/$image" "$repo/images/$image"
ln -s "$image" "$repo/images/${image/x86_64/aarch64}"
# The build points BASE_IMAGE at the local bases; the pin in the file itself is rewritten to the local digest so
# bump can follow it in step 7 (no Docker Hub here).
sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=$reg/debian:$suite@$base_digest|" "$repo/images/$image"
printf 'repositories: [%s/builders]\nengine: buildah\n' "$reg" > "$repo/builder-images.yaml"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=e2e -c user.email=e2e@example.com commit -qm e2e
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
  for a in x86_64 aarch64; do cli --cwd "$repo" select --index "$work/index.yaml" --target debian --arch "$a" --kernel-release "$k"; done
done | tee "$work/select.txt"
grep -q "image:  $reg/builders:any-aarch64" "$work/select.txt" || fail "select picked no aarch64 image"
step "5. index ($work/index.yaml) + select, 6 picks"

echo "== 6. a broken aarch64 variant is refused"
printf 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN ln -s /bin/true /usr/bin/gcc-11\n' > "$repo/images/builder-broken-aarch64_gcc11.0.0.Dockerfile"
git -C "$repo" add -A
git -C "$repo" -c user.name=e2e -c user.email=e2e@example.com commit -qm broken
if make -s push REGISTRY="$reg/builders" ENGINE=buildah PUSH_FLAGS="--cwd $repo --build-arg BASE_IMAGE=$reg/debian:$suite builder-broken-aarch64_gcc11.0.0.Dockerfile" > "$work/broken.txt" 2>&1; then
  cat "$work/broken.txt"; fail "push accepted the broken image"
fi
finding=$(grep -o 'check failed, nothing published: /usr/bin/gcc-11.0.0 is missing[^|]*' "$work/broken.txt" | head -1 | sed 's/[[:space:]]*$//') \
  || { cat "$work/broken.txt"; fail "push did not say why"; }
echo "push refused it, the check found: ${finding#check failed, nothing published: }"
grep -E '^(IMAGE|broken-)' "$work/broken.txt" | sed 's/^/  /'
cli --cwd "$repo" plan --all --format json > "$work/plan.json"
node -e "const p=require('$work/plan.json');const b=p.find(r=>r.image.includes('broken'));if(!b||b.built)process.exit(1)" || fail "the broken image reached the registry"
step "6. broken aarch64 refused (gcc-11.0.0 missing), none published"

echo "== 7. bump --dry-run after a new base push"
BASES_STAMP="e2e $(date +%s)" bash scripts/make-bases.sh "$suite" "$reg" amd64 arm64 > "$work/new-digest"
new_digest=$(cat "$work/new-digest")
[ "$new_digest" != "$base_digest" ] || fail "the new base push did not change the digest"
cli --cwd "$repo" bump --dry-run | tee "$work/bump.txt"
grep -q "^+ARG BASE_IMAGE=$reg/debian:$suite@$new_digest" "$work/bump.txt" || fail "bump did not move the pin to $new_digest"
step "7. bump --dry-run shows ${base_digest:7:7} -> ${new_digest:7:7}"

echo
echo "== e2e summary"
printf '%s\n' "${summary[@]}"
echo "total ${SECONDS}s: all 7 steps passed"
