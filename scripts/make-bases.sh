#!/usr/bin/env bash
# make-bases.sh SUITE REGISTRY [ARCH...]
# Real Debian base images: debootstrap (minbase) roots for each arch, cached as .cache/bases/SUITE-ARCH.tar,
# pushed to REGISTRY/debian:SUITE-ARCH and as the multi-arch index REGISTRY/debian:SUITE. Prints the index digest.
# A foreign arch runs debootstrap's second stage under qemu (scripts/enable-binfmt.sh).
# Env: DEBIAN_MIRROR, BASES_CACHE, BASES_STAMP (a value written to /etc/builder-images-stamp: a new digest),
#      REGISTRY_AUTH_FILE (credentials for the registry), BUILDAH_STORAGE_DRIVER (vfs).
set -euo pipefail
suite=${1:?usage: make-bases.sh SUITE REGISTRY [ARCH...]}
registry=${2:?usage: make-bases.sh SUITE REGISTRY [ARCH...]}
shift 2
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)
cache=${BASES_CACHE:-.cache/bases}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
bah=(buildah --storage-driver "${BUILDAH_STORAGE_DRIVER:-vfs}")
native=$(dpkg --print-architecture 2>/dev/null || echo amd64)
mkdir -p "$cache"

# debootstrap says a line per package (about 450 per arch): all of it goes to a log file, and the terminal gets
# the first line of each stage (retrieving, extracting, unpacking, configuring…), every W:/E: line, and where
# the log is.
stages() { # arch log: filter stdin
  local arch=$1 log=$2 line stage last=""
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$log"
    case "$line" in
      "I: "*) stage=${line#I: }; stage=${stage%% *} ;;
      *) echo "bases: $arch: $line" >&2; continue ;;
    esac
    # A package is retrieved, then validated: one stage.
    [ "$stage" = Validating ] && stage=Retrieving
    [ "$stage" = "$last" ] && continue
    last=$stage
    echo "bases: $arch: ${line#I: }" >&2
  done
}

rootfs() { # arch -> cached tar of a minbase root
  local arch=$1 tar="$cache/$suite-$arch.tar"
  if [ -s "$tar" ]; then echo "bases: $suite/$arch from cache ($tar)" >&2; return; fi
  local root start=$SECONDS log="$cache/$suite-$arch.debootstrap.log"
  root=$(mktemp -d)
  : > "$log"
  echo "bases: debootstrap $suite/$arch (its full output: $log)" >&2
  if [ "$arch" = "$native" ]; then
    debootstrap --variant=minbase --arch "$arch" "$suite" "$root" "$mirror" 2>&1 | stages "$arch" "$log" ||
      { echo "bases: debootstrap $suite/$arch failed; the end of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
  else
    { debootstrap --variant=minbase --foreign --arch "$arch" "$suite" "$root" "$mirror" 2>&1 &&
      chroot "$root" /debootstrap/debootstrap --second-stage 2>&1; } | stages "$arch" "$log" ||
      { echo "bases: debootstrap $suite/$arch failed; the end of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/dev/*
  tar --numeric-owner -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf "$root"
  echo "bases: debootstrap $suite/$arch took $((SECONDS - start))s" >&2
}

list="localhost/builder-images-bases:$suite"
"${bah[@]}" manifest rm "$list" >/dev/null 2>&1 || true
"${bah[@]}" manifest create "$list" >/dev/null
for arch in "${arches[@]}"; do
  rootfs "$arch"
  ctr=$("${bah[@]}" from --quiet --arch "$arch" scratch)
  "${bah[@]}" add "$ctr" "$cache/$suite-$arch.tar" / >/dev/null
  if [ -n "${BASES_STAMP:-}" ]; then
    printf '%s\n' "$BASES_STAMP" > "$cache/stamp"
    "${bah[@]}" copy "$ctr" "$cache/stamp" /etc/builder-images-stamp >/dev/null
  fi
  "${bah[@]}" config --arch "$arch" --os linux --cmd /bin/bash "$ctr"
  image="localhost/builder-images-bases:$suite-$arch"
  "${bah[@]}" commit --quiet "$ctr" "$image" >/dev/null
  "${bah[@]}" rm "$ctr" >/dev/null
  "${bah[@]}" push --quiet --tls-verify=false "$image" "docker://$registry/debian:$suite-$arch"
  "${bah[@]}" manifest add --tls-verify=false "$list" "docker://$registry/debian:$suite-$arch" >/dev/null
  echo "bases: pushed $registry/debian:$suite-$arch" >&2
done
digestfile=$(mktemp)
"${bah[@]}" manifest push --quiet --all --tls-verify=false --digestfile "$digestfile" "$list" "docker://$registry/debian:$suite"
echo "bases: pushed $registry/debian:$suite ($(cat "$digestfile"))" >&2
cat "$digestfile"
rm -f "$digestfile"
