import { describe, expect, it } from 'vitest';
import {
  archFromConfig,
  archFromPackageFile,
  containerPathOf,
  detectHeadersLayout,
  firstErrorLines,
  kernelArch,
  kernelReleaseOf,
  moduleMakeArgs,
  parseUtsRelease,
  targetForKernel,
} from '../../src/core/kernel-headers.js';

describe('detectHeadersLayout', () => {
  it('Debian split: the arch tree is the build dir; -common and kbuild are mounted at their own paths', () => {
    const layout = detectHeadersLayout([
      './usr/src/linux-headers-6.1.0-56-amd64/.config',
      './usr/src/linux-headers-6.1.0-56-amd64/Makefile',
      './usr/src/linux-headers-6.1.0-56-amd64/scripts',
      './usr/src/linux-headers-6.1.0-56-common/Makefile',
      './usr/src/linux-headers-6.1.0-56-common/include/linux/module.h',
      './usr/lib/linux-kbuild-6.1/scripts/basic/fixdep',
      './lib/modules/6.1.0-56-amd64/build',
      './usr/share/doc/linux-headers-6.1.0-56-amd64/copyright',
    ]);
    expect(layout.buildDirs).toEqual(['usr/src/linux-headers-6.1.0-56-amd64']);
    expect(layout.mounts.map((m) => m.target)).toEqual(['/usr/lib/linux-kbuild-6.1', '/usr/src/linux-headers-6.1.0-56-amd64', '/usr/src/linux-headers-6.1.0-56-common']);
    expect(containerPathOf(layout.buildDirs[0]!, layout.mounts)).toBe('/usr/src/linux-headers-6.1.0-56-amd64');
  });

  it('RPM kernel-devel: /usr/src/kernels/<release> is the build dir and its mount', () => {
    const layout = detectHeadersLayout(['usr/src/kernels', 'usr/src/kernels/5.14.0-427.el9.x86_64/.config', 'usr/src/kernels/5.14.0-427.el9.x86_64/Makefile', 'usr/src/kernels/5.14.0-427.el9.x86_64/include/x.h']);
    expect(layout.buildDirs).toEqual(['usr/src/kernels/5.14.0-427.el9.x86_64']);
    expect(layout.mounts).toEqual([{ path: 'usr/src/kernels/5.14.0-427.el9.x86_64', target: '/usr/src/kernels/5.14.0-427.el9.x86_64' }]);
  });

  it('a bare tree (tarball or directory) is mounted under /usr/src by its name; the root itself too', () => {
    const nested = detectHeadersLayout(['linux-5.10.0/.config', 'linux-5.10.0/Makefile', 'linux-5.10.0/include/generated/utsrelease.h']);
    expect(nested.mounts).toEqual([{ path: 'linux-5.10.0', target: '/usr/src/linux-5.10.0' }]);
    expect(containerPathOf('linux-5.10.0', nested.mounts)).toBe('/usr/src/linux-5.10.0');
    const root = detectHeadersLayout(['.config', 'Makefile', 'include/config/kernel.release']);
    expect(root.buildDirs).toEqual(['.']);
    expect(root.mounts).toEqual([{ path: '.', target: '/usr/src/linux-headers' }]);
  });

  it('a .config without a Makefile, or -common alone, is no build dir', () => {
    expect(detectHeadersLayout(['usr/src/linux-headers-6.1.0-56-common/Makefile', 'usr/src/x/.config']).buildDirs).toEqual([]);
  });
});

describe('kernel release', () => {
  it('prefers utsrelease.h over include/config/kernel.release (the Debian trap)', () => {
    expect(kernelReleaseOf({ utsrelease: '#define UTS_RELEASE "6.1.0-56-amd64"\n', kernelRelease: '6.1.192\n' })).toEqual({ release: '6.1.0-56-amd64', from: 'include/generated/utsrelease.h' });
    expect(kernelReleaseOf({ kernelRelease: '5.14.0-427.el9.x86_64\n' })).toEqual({ release: '5.14.0-427.el9.x86_64', from: 'include/config/kernel.release' });
    expect(kernelReleaseOf({ utsrelease: '/* nothing */', kernelRelease: 'garbage' })).toBeUndefined();
    expect(parseUtsRelease('#  define UTS_RELEASE "4.19.0-26-amd64"')).toBe('4.19.0-26-amd64');
  });
});

describe('arch mapping', () => {
  it('reads the arch from a .config and from package file names', () => {
    expect(archFromConfig('CONFIG_64BIT=y\nCONFIG_X86_64=y\n')).toBe('x86_64');
    expect(archFromConfig('CONFIG_ARM64=y\n# CONFIG_X86_64 is not set\n')).toBe('aarch64');
    expect(archFromConfig('CONFIG_RISCV=y\n')).toBeUndefined();
    expect(archFromPackageFile('linux-headers-6.1.0-56-arm64_6.1.192-2_arm64.deb')).toBe('aarch64');
    expect(archFromPackageFile('linux-kbuild-6.1_6.1.192-2_amd64.deb')).toBe('x86_64');
    expect(archFromPackageFile('linux-headers-6.1.0-56-common_6.1.192-2_all.deb')).toBeUndefined();
    expect(archFromPackageFile('kernel-devel-5.14.0-427.el9.aarch64.rpm')).toBe('aarch64');
    expect(archFromPackageFile('kernel-devel-5.14.0-427.el9.x86_64.rpm')).toBe('x86_64');
  });

  it('passes the kernel ARCH and no CROSS_COMPILE for a native image, the triplet for a foreign one', () => {
    expect(kernelArch('x86_64')).toBe('x86');
    expect(kernelArch('aarch64')).toBe('arm64');
    const base = { buildDir: '/usr/src/linux-headers-6.1.0-56-arm64', moduleDir: '/tmp/m', cc: '/usr/bin/gcc-12.0.0' };
    expect(moduleMakeArgs({ ...base, kernel: 'aarch64', image: 'aarch64' })).toEqual(['-C', base.buildDir, 'M=/tmp/m', 'CC=/usr/bin/gcc-12.0.0', 'ARCH=arm64', 'modules']);
    expect(moduleMakeArgs({ ...base, kernel: 'aarch64', image: 'x86_64' })).toContain('CROSS_COMPILE=aarch64-linux-gnu-');
    expect(moduleMakeArgs({ ...base, kernel: 'x86_64', image: 'x86_64' })).toContain('ARCH=x86');
  });

  it('names the driver builder target from the release and packaging', () => {
    expect(targetForKernel('6.1.0-56-amd64', 'deb')).toBe('debian');
    expect(targetForKernel('5.15.0-91-generic', 'deb')).toBe('ubuntu');
    expect(targetForKernel('5.14.0-427.el9.x86_64', 'rpm')).toBe('centos');
    expect(targetForKernel('5.10.205-195.807.amzn2.x86_64', 'rpm')).toBe('amazonlinux2');
    expect(targetForKernel('6.6.1', 'other')).toBe('any');
  });
});

describe('firstErrorLines', () => {
  it('keeps the compiler errors, first ones first', () => {
    const out = [
      "make: Entering directory '/usr/src/linux-headers-6.1.0-56-amd64'",
      '  CC [M]  /tmp/m/bi_probe.o',
      "gcc-11.0.0: error: unrecognized command-line option '-ftrivial-auto-var-init=zero'",
      'make[1]: *** [/usr/src/linux-headers-6.1.0-56-common/scripts/Makefile.build:255: /tmp/m/bi_probe.o] Error 1',
      'subprocess exited with status 2',
      'Error: exit status 2',
    ].join('\n');
    expect(firstErrorLines(out)[0]).toMatch(/unrecognized command-line option '-ftrivial-auto-var-init=zero'/);
    expect(firstErrorLines(out)).toHaveLength(2); // buildah's echo of the status is not a reason
    expect(firstErrorLines('a\nb\nc', 2)).toEqual(['b', 'c']);
  });
});
