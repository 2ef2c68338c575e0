# GCC 9 and 10 from Debian bullseye, for x86_64 and aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/debian:bullseye as pinned in public Dockerfiles; `builder-images bump` keeps it
# current. Point BASE_IMAGE at a mirror with --build-arg.
ARG BASE_IMAGE=debian:bullseye@sha256:2906804d2a64e8a13a434a1a127fe3f6a28bf7cf3696be4223b06276f32f1f2d
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-9 gcc-10 libc6-dev make libelf-dev bc flex bison kmod \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; for v in 10 9; do test -x "/usr/bin/gcc-$v"; ln -sf "gcc-$v" "/usr/bin/gcc-$v.0.0"; done
