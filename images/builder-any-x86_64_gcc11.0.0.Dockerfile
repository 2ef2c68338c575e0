# GCC 11 from Debian bookworm, for x86_64 and aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/debian:bookworm as pinned in public Dockerfiles; `builder-images bump` keeps it
# current. Point BASE_IMAGE at a mirror with --build-arg.
ARG BASE_IMAGE=debian:bookworm@sha256:8a8cd02c5912770b4980228a54d4aff9e4f986f1eb2525d2d371dec5232cefcc
FROM ${BASE_IMAGE}
ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-11 libc6-dev make libelf-dev bc flex bison kmod \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/ldconfig/aux-cache /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
RUN set -eu; test -x /usr/bin/gcc-11; ln -sf gcc-11 /usr/bin/gcc-11.0.0
