# GCC 4.8, 5, 6, 7 and 8 from Ubuntu 18.04 (bionic carries all five), for x86_64 and aarch64 (the aarch64 file is
# a symlink to this one; the arm64 image uses the ports archive by itself).
# Base digest: docker.io/library/ubuntu:18.04 as pinned in public release workflows; `builder-images bump` keeps
# it current. Needs the Ubuntu archive: not buildable on machines that only reach Debian's mirror.
ARG BASE_IMAGE=ubuntu:18.04@sha256:152dc042452c496007f07ca9127571cb9c29697f42acbfad72324b2bb2e43c98
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
# driverkit's flow (check's driver builder contract): curl and CA certificates for the https downloads, cmake,
# the unversioned cc/c++ cmake looks for, xz/zstd/ar for .deb headers, rpm2cpio/cpio for .rpm headers, and
# gcc, bc, flex, bison, libssl and libelf headers for kernel sources (vanilla, flatcar).
# gcc and g++ are bionic's GCC 7. bionic's cmake is 3.10: falcosecurity/libs 9.1.0+driver and later ask for 3.24.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-4.8 gcc-5 gcc-6 gcc-7 gcc-8 gcc g++ libc6-dev make libelf-dev bc flex bison kmod curl ca-certificates cmake xz-utils zstd rpm2cpio cpio libssl-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; for v in 8 7 6 5 4.8; do test -x "/usr/bin/gcc-$v"; done; \
    for v in 8 7 6 5; do ln -sf "gcc-$v" "/usr/bin/gcc-$v.0.0"; done; \
    ln -sf gcc-4.8 /usr/bin/gcc-4.8.0
