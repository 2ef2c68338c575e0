# GCC 4.9 from Ubuntu 16.04 (xenial universe has gcc-4.9 for amd64 and arm64), for x86_64 and aarch64 (the
# aarch64 file is a symlink to this one; the arm64 image uses the ports archive by itself). Kernels 3.0 to 3.17
# want GCC 4.9: without it they fall back to 4.8.
# Base digest: docker.io/library/ubuntu:16.04 (its multi-arch index, as pinned by Renovate in public Dockerfiles);
# `builder-images bump` keeps it current. Needs the Ubuntu archive: not buildable on machines that only reach
# Debian's mirror.
ARG BASE_IMAGE=ubuntu:16.04@sha256:1f1a2d56de1d604801a9671f301190704c25d604a416f59e03c04f5c6ffee0d6
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
# driverkit's flow (check's driver builder contract): curl and CA certificates for the https downloads, cmake,
# the unversioned cc/c++ cmake looks for, xz/zstd/ar for .deb headers, rpm2cpio/cpio for .rpm headers, and
# gcc, bc, flex, bison, libssl and libelf headers for kernel sources (vanilla, flatcar).
# xenial's gcc and g++ packages are GCC 5 (a second compiler): this image's GCC 4.9 is linked as gcc, cc and c++.
# xenial's cmake is 3.5: falcosecurity/libs asks for 3.12 (3.24 from 9.1.0+driver), so the driver does not
# configure with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-4.9 g++-4.9 libc6-dev make libelf-dev bc flex bison kmod curl ca-certificates cmake xz-utils zstd rpm2cpio cpio libssl-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; test -x /usr/bin/gcc-4.9; ln -sf gcc-4.9 /usr/bin/gcc-4.9.0; \
    for n in gcc cc; do ln -sf gcc-4.9 "/usr/bin/$n"; done; ln -sf g++-4.9 /usr/bin/c++
