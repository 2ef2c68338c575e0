# CentOS 7's own compiler, GCC 4.8.5: kernels 3.10 of CentOS 7 need exactly this one.
# Base digest: docker.io/library/centos:7 (its final index, as pinned in public CI scripts). CentOS 7 is end of
# life, so its packages come from vault.centos.org.
ARG BASE_IMAGE=centos:7@sha256:be65f488b7764ad3638f236b7b515b3678369a5124c47b8d32916d6487418ea4
FROM ${BASE_IMAGE}
# driverkit's centos flow (check's driver builder contract): curl and CA certificates for the https downloads,
# rpm2cpio (package rpm) and cpio for kernel-devel, cmake, and the cc/c++ cmake looks for (gcc, gcc-c++).
# CentOS 7's own cmake is 2.8 and EPEL's cmake3 3.17, older than falcosecurity/libs asks for (3.12; 3.24 from
# 9.1.0+driver): cmake is Kitware's release tarball at driverkit's own pin (3.24.4), its sha256 checked.
ARG CMAKE_VERSION=3.24.4
ARG CMAKE_SHA256=cac77d28fb8668c179ac02c283b058aeb846fe2133a57d40b503711281ed9f19
RUN sed -i -e 's/^mirrorlist=/#mirrorlist=/' -e 's|^#\?baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|' /etc/yum.repos.d/CentOS-*.repo \
 && yum install -y gcc gcc-c++ make elfutils-libelf-devel bc flex bison kmod curl ca-certificates tar gzip xz cpio rpm binutils \
 && yum clean all && rm -rf /var/cache/yum /var/log/yum.log /var/cache/ldconfig/aux-cache
RUN set -eu; test "$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)" = 4.8.5; ln -sf gcc /usr/bin/gcc-4.8.5
RUN set -eu; curl -fsSL -o /tmp/cmake.tar.gz "https://github.com/Kitware/CMake/releases/download/v$CMAKE_VERSION/cmake-$CMAKE_VERSION-linux-x86_64.tar.gz"; \
    echo "$CMAKE_SHA256  /tmp/cmake.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/cmake.tar.gz -C /usr --strip-components 1; rm /tmp/cmake.tar.gz; cmake --version
