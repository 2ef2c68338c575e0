# CentOS 7's own compiler, GCC 4.8.5: kernels 3.10 of CentOS 7 need exactly this one.
# Base digest: docker.io/library/centos:7 (its final index, as pinned in public CI scripts). CentOS 7 is end of
# life, so its packages come from vault.centos.org.
ARG BASE_IMAGE=centos:7@sha256:be65f488b7764ad3638f236b7b515b3678369a5124c47b8d32916d6487418ea4
FROM ${BASE_IMAGE}
RUN sed -i -e 's/^mirrorlist=/#mirrorlist=/' -e 's|^#\?baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|' /etc/yum.repos.d/CentOS-*.repo \
 && yum install -y gcc make elfutils-libelf-devel bc flex bison kmod \
 && yum clean all && rm -rf /var/cache/yum /var/log/yum.log /var/cache/ldconfig/aux-cache
RUN set -eu; test "$(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)" = 4.8.5; ln -sf gcc /usr/bin/gcc-4.8.5
