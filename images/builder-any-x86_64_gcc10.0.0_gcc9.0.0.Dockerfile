# GCC 9 and 10 from Debian bullseye, for x86_64 and aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/debian:bullseye as pinned in public Dockerfiles; `builder-images bump` keeps it
# current. Point BASE_IMAGE at a mirror with --build-arg.
ARG BASE_IMAGE=debian:bullseye@sha256:2906804d2a64e8a13a434a1a127fe3f6a28bf7cf3696be4223b06276f32f1f2d
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
# driverkit's flow (check's driver builder contract): curl and CA certificates for the https downloads, cmake,
# the unversioned cc/c++ cmake looks for, xz/zstd/ar for .deb headers, rpm2cpio/cpio for .rpm headers, and
# gcc, bc, flex, bison, libssl and libelf headers for kernel sources (vanilla, flatcar).
# gcc and g++ are bullseye's GCC 10. bullseye's cmake is 3.18: falcosecurity/libs 9.1.0+driver and later ask for
# 3.24, so those driver versions do not configure here (older ones, which ask for 3.12, do).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-9 gcc-10 gcc g++ libc6-dev make libelf-dev bc flex bison kmod curl ca-certificates cmake xz-utils zstd rpm2cpio cpio libssl-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; for v in 10 9; do test -x "/usr/bin/gcc-$v"; ln -sf "gcc-$v" "/usr/bin/gcc-$v.0.0"; done
