# Amazon Linux 2's GCC 10 (package gcc10, binary gcc10-gcc): its 5.10 kernels want GCC 10. For x86_64 and
# aarch64 (the aarch64 file is a symlink to this one).
# Base digest: docker.io/library/amazonlinux:2 as pinned in public Dockerfiles; `builder-images bump` keeps it current.
ARG BASE_IMAGE=amazonlinux:2@sha256:3bc2191fa2d5f467217e5ca947485bc203b73c02b9a23b164818fa6e37647625
FROM ${BASE_IMAGE}
ARG TARGETARCH
# driverkit's amazonlinux flow (check's driver builder contract): curl and CA certificates for the https downloads,
# rpm2cpio (package rpm) and cpio for the kernel rpms, ld.bfd (binutils), cmake, and the cc/c++ cmake looks for:
# this image's GCC 10 (gcc10-c++ for c++) is linked as cc and c++ rather than adding Amazon Linux 2's GCC 7.
# Amazon Linux 2's cmake3 is older than falcosecurity/libs 9.1.0+driver asks for (3.24): cmake is Kitware's
# release tarball at driverkit's own pin (3.24.4), its sha256 checked per arch.
ARG CMAKE_VERSION=3.24.4
RUN yum install -y gcc10 gcc10-c++ make elfutils-libelf-devel bc flex bison kmod curl ca-certificates tar gzip xz cpio rpm binutils \
 && yum clean all && rm -rf /var/cache/yum /var/log/yum.log /var/cache/ldconfig/aux-cache
RUN set -eu; test -x /usr/bin/gcc10-gcc; ln -sf gcc10-gcc /usr/bin/gcc-10.0.0; \
    ln -sf gcc10-gcc /usr/bin/cc; ln -sf gcc10-g++ /usr/bin/c++
RUN set -eu; case "$TARGETARCH" in \
      amd64) arch=x86_64 sum=cac77d28fb8668c179ac02c283b058aeb846fe2133a57d40b503711281ed9f19 ;; \
      arm64) arch=aarch64 sum=86f823f2636bf715af89da10e04daa476755a799d451baee66247846e95d7bee ;; \
      *) echo "no cmake for $TARGETARCH" >&2; exit 1 ;; \
    esac; \
    curl -fsSL -o /tmp/cmake.tar.gz "https://github.com/Kitware/CMake/releases/download/v$CMAKE_VERSION/cmake-$CMAKE_VERSION-linux-$arch.tar.gz"; \
    echo "$sum  /tmp/cmake.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/cmake.tar.gz -C /usr --strip-components 1; rm /tmp/cmake.tar.gz; cmake --version
