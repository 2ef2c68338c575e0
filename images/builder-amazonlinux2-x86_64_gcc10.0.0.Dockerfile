# Amazon Linux 2's GCC 10 (package gcc10, binary gcc10-gcc): its 5.10 kernels want GCC 10. For x86_64 and
# aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/amazonlinux:2 as pinned in public Dockerfiles; `builder-images bump` keeps it current.
ARG BASE_IMAGE=amazonlinux:2@sha256:3bc2191fa2d5f467217e5ca947485bc203b73c02b9a23b164818fa6e37647625
FROM ${BASE_IMAGE}
RUN yum install -y gcc10 make elfutils-libelf-devel bc flex bison kmod && yum clean all && rm -rf /var/cache/yum /var/log/yum.log /var/cache/ldconfig/aux-cache
RUN set -eu; test -x /usr/bin/gcc10-gcc; ln -sf gcc10-gcc /usr/bin/gcc-10.0.0
