# GCC 12, 13 and 14 from Debian trixie, for x86_64 and aarch64: the aarch64 file is a symlink to this one, and
# each arch installs its own native compilers and gets the same links.
# Base digest: docker.io/library/debian:trixie as pinned in public Dockerfiles (Docker Hub, 2026-04);
# `builder-images bump` keeps it current. Point BASE_IMAGE at a mirror with --build-arg.
ARG BASE_IMAGE=debian:trixie@sha256:35b8ff74ead4880f22090b617372daff0ccae742eb5674455d542bef71ef1999
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
# driverkit's flow (check's driver builder contract): curl and CA certificates for the https downloads, cmake,
# the unversioned cc/c++ cmake looks for, xz/zstd/ar for .deb headers, rpm2cpio/cpio for .rpm headers, and
# gcc, bc, flex, bison, libssl and libelf headers for kernel sources (vanilla, flatcar).
# gcc and g++ are trixie's GCC 14.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-12 gcc-13 gcc-14 gcc g++ libc6-dev make libelf-dev bc flex bison kmod curl ca-certificates cmake xz-utils zstd rpm2cpio cpio libssl-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
# The driver builder runs make CC=/usr/bin/gcc-X.Y.Z: link every declared version, whatever the arch.
RUN set -eu; for v in 14 13 12; do test -x "/usr/bin/gcc-$v"; ln -sf "gcc-$v" "/usr/bin/gcc-$v.0.0"; done
