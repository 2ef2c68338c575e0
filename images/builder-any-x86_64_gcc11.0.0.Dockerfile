# GCC 11 from Debian bookworm, for x86_64 and aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/debian:bookworm as pinned in public Dockerfiles; `builder-images bump` keeps it
# current. Point BASE_IMAGE at a mirror with --build-arg.
ARG BASE_IMAGE=debian:bookworm@sha256:8a8cd02c5912770b4980228a54d4aff9e4f986f1eb2525d2d371dec5232cefcc
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
# driverkit's flow (check's driver builder contract): curl and CA certificates for the https downloads, cmake,
# the unversioned cc/c++ cmake looks for, xz/zstd/ar for .deb headers, rpm2cpio/cpio for .rpm headers, and
# gcc, bc, flex, bison, libssl and libelf headers for kernel sources (vanilla, flatcar).
# bookworm's gcc and g++ packages are GCC 12 (a second compiler): this image's GCC 11 is linked as gcc, cc and c++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-11 g++-11 libc6-dev make libelf-dev bc flex bison kmod curl ca-certificates cmake xz-utils zstd rpm2cpio cpio libssl-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; test -x /usr/bin/gcc-11; ln -sf gcc-11 /usr/bin/gcc-11.0.0; \
    for n in gcc cc; do ln -sf gcc-11 "/usr/bin/$n"; done; ln -sf g++-11 /usr/bin/c++
