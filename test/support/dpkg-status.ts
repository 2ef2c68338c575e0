/** A dpkg status file as Debian 12 writes it (three installed packages, one removed with its config left). */
export const STATUS = `Package: gcc-12
Status: install ok installed
Priority: optional
Section: devel
Installed-Size: 71432
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Depends: cpp-12 (= 12.2.0-14), gcc-12-base (= 12.2.0-14)
Description: GNU C compiler
 This is the GNU C compiler, a fairly portable optimizing compiler for C.
Homepage: http://gcc.gnu.org/

Package: libstdc++6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
`;
