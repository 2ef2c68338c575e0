// Kernel headers helpers, branch by branch: layout corners, release sources, arches, targets and error lines.
import { describe, expect, it } from 'vitest';
import {
  archFromConfig,
  archFromPackageArch,
  archFromPackageFile,
  containerPathOf,
  crossCompilePrefix,
  detectHeadersLayout,
  firstErrorLines,
  kernelReleaseOf,
  moduleMakeArgs,
  parseUtsRelease,
  targetForKernel,
} from '../../src/core/kernel-headers.js';

describe('detectHeadersLayout corners', () => {
  it('normalises ./ and / prefixes, trailing slashes and .. in paths', () => {
    const layout = detectHeadersLayout(['./k/.config', '/k/Makefile', 'k/sub/../x/', './']);
    expect(layout).toStrictEqual({ buildDirs: ['k'], mounts: [{ path: 'k', target: '/usr/src/k' }] });
    expect(detectHeadersLayout(['//.config', '././Makefile'])).toStrictEqual({ buildDirs: ['.'], mounts: [{ path: '.', target: '/usr/src/linux-headers' }] });
  });

  it('needs the Makefile next to the .config, and keeps each build dir once, sorted', () => {
    expect(detectHeadersLayout(['k/.config', 'Makefile']).buildDirs).toEqual([]);
    expect(detectHeadersLayout(['.config', 'k/Makefile']).buildDirs).toEqual([]);
    expect(detectHeadersLayout(['b/.config', 'b/Makefile', 'a/x/.config', 'a/x/Makefile', 'b/.config']).buildDirs).toEqual(['a/x', 'b']);
    expect(detectHeadersLayout(['k/x.config', 'k/Makefile']).buildDirs).toEqual([]);
  });

  it('mounts a rooted tree once, and a build dir inside it with the tree, not on its own', () => {
    const layout = detectHeadersLayout(['usr/src/linux-a/.config', 'usr/src/linux-a/Makefile', 'usr/src/linux-a/x/y']);
    expect(layout.mounts).toStrictEqual([{ path: 'usr/src/linux-a', target: '/usr/src/linux-a' }]);
    const nested = detectHeadersLayout(['usr/src/linux-a/arch/.config', 'usr/src/linux-a/arch/Makefile']);
    expect(nested.mounts).toStrictEqual([{ path: 'usr/src/linux-a', target: '/usr/src/linux-a' }]);
    expect(containerPathOf('usr/src/linux-a/arch', nested.mounts)).toBe('/usr/src/linux-a/arch');
    // a sibling whose name only starts like a mount is not inside it
    const sibling = detectHeadersLayout(['usr/src/linux-a', 'usr/src/linux-ab/.config', 'usr/src/linux-ab/Makefile']);
    expect(sibling.mounts.map((m) => m.path)).toEqual(['usr/src/linux-a', 'usr/src/linux-ab']);
    expect(detectHeadersLayout(['lib/linux-kbuild-6.1/scripts/x', 'usr/lib/linux-kbuild-6.1/y']).mounts.map((m) => m.target)).toEqual(['/lib/linux-kbuild-6.1', '/usr/lib/linux-kbuild-6.1']);
  });

  it('mounts a bare build dir by its base name, sorted by target', () => {
    const layout = detectHeadersLayout(['z/b/.config', 'z/b/Makefile', 'a/c/.config', 'a/c/Makefile']);
    expect(layout.mounts).toStrictEqual([
      { path: 'z/b', target: '/usr/src/b' },
      { path: 'a/c', target: '/usr/src/c' },
    ]);
  });

  it('places a build dir outside every mount at its own path', () => {
    expect(containerPathOf('x/y', [{ path: 'x/yz', target: '/t' }])).toBe('/x/y');
    expect(containerPathOf('x/yz/w', [{ path: 'x/yz', target: '/t' }])).toBe('/t/w');
    expect(containerPathOf('x/yz', [{ path: 'x/yz', target: '/t' }])).toBe('/t');
    expect(containerPathOf('q', [])).toBe('/q');
  });
});

describe('kernel release', () => {
  it.each([
    ['#define UTS_RELEASE "6.1.0-56-amd64"', '6.1.0-56-amd64'],
    ['  #   define   UTS_RELEASE   "5.4"  ', '5.4'],
    ['/* x */\n#define UTS_RELEASE "4.19.0"\n', '4.19.0'],
    ['#define UTS_RELEASE ""', undefined],
    ['#define UTS_RELEASE "a b"', undefined],
    ['x #define UTS_RELEASE "1.2"', undefined],
    ['#define UTS_RELEASEX "1.2"', undefined],
    ['#defineUTS_RELEASE "1.2"', undefined],
  ])('%j', (text, release) => {
    expect(parseUtsRelease(text)).toBe(release);
  });

  it('falls back to kernel.release, first line, trimmed, starting with a version', () => {
    expect(kernelReleaseOf({ utsrelease: 'nothing', kernelRelease: '  6.1.192  \nsecond\n' })).toStrictEqual({ release: '6.1.192', from: 'include/config/kernel.release' });
    expect(kernelReleaseOf({ kernelRelease: 'v6.1' })).toBeUndefined();
    expect(kernelReleaseOf({ kernelRelease: '10.1' })).toStrictEqual({ release: '10.1', from: 'include/config/kernel.release' });
    expect(kernelReleaseOf({ kernelRelease: '6' })).toBeUndefined();
    expect(kernelReleaseOf({ kernelRelease: '' })).toBeUndefined();
    expect(kernelReleaseOf({})).toBeUndefined();
    expect(kernelReleaseOf({ utsrelease: '#define UTS_RELEASE "9.9"' })).toStrictEqual({ release: '9.9', from: 'include/generated/utsrelease.h' });
  });
});

describe('arches', () => {
  it('reads the .config lines exactly', () => {
    expect(archFromConfig('CONFIG_X86_64=m\n')).toBeUndefined();
    expect(archFromConfig('XCONFIG_X86_64=y\n')).toBeUndefined();
    expect(archFromConfig('CONFIG_X86_64=yes\n')).toBeUndefined();
    expect(archFromConfig('CONFIG_ARM64=y')).toBe('aarch64');
    expect(archFromConfig('# CONFIG_ARM64=y\n')).toBeUndefined();
    expect(archFromConfig('CONFIG_ARM64=yy')).toBeUndefined();
  });

  it.each([
    ['amd64', 'x86_64'],
    ['x86_64', 'x86_64'],
    ['arm64', 'aarch64'],
    ['aarch64', 'aarch64'],
    ['all', undefined],
    ['noarch', undefined],
    ['', undefined],
  ])('package arch %s', (name, arch) => {
    expect(archFromPackageArch(name)).toBe(arch);
  });

  it.each([
    ['a_arm64.deb', 'aarch64'],
    ['a_arm64.debx', undefined],
    ['a_arm64.deb.sig', undefined],
    ['a-arm64.deb', undefined],
    ['a.x86_64.rpm', 'x86_64'],
    ['a.noarch.rpm', undefined],
    ['a.x86_64.rpmx', undefined],
    ['a_x86_64.rpm', undefined],
    ['a.tar.gz', undefined],
  ])('package file %s', (name, arch) => {
    expect(archFromPackageFile(name)).toBe(arch);
  });

  it('makes cross builds with the kernel arch prefix only', () => {
    expect(crossCompilePrefix('x86_64')).toBe('x86_64-linux-gnu-');
    expect(crossCompilePrefix('aarch64')).toBe('aarch64-linux-gnu-');
    const req = { buildDir: '/b', moduleDir: '/m', cc: 'gcc' };
    expect(moduleMakeArgs({ ...req, kernel: 'x86_64', image: 'aarch64' })).toEqual(['-C', '/b', 'M=/m', 'CC=gcc', 'ARCH=x86', 'CROSS_COMPILE=x86_64-linux-gnu-', 'modules']);
    expect(moduleMakeArgs({ ...req, kernel: 'x86_64', image: 'x86_64' })).toEqual(['-C', '/b', 'M=/m', 'CC=gcc', 'ARCH=x86', 'modules']);
  });
});

describe('targetForKernel', () => {
  it.each([
    ['6.1.0-1.amzn2023.x86_64', 'rpm', 'amazonlinux2023'],
    ['6.1.0-1.amzn2.x86_64', 'rpm', 'amazonlinux2'],
    ['6.1.0-1.amzn2x.x86_64', 'rpm', 'any'],
    ['4.18.0-1.el8', 'rpm', 'centos'],
    ['4.18.0-1.elx', 'rpm', 'any'],
    ['6.5.6-300.fc39.x86_64', 'rpm', 'fedora'],
    ['6.5.6-300.fcx.x86_64', 'rpm', 'any'],
    ['6.5.0-1-aws', 'deb', 'ubuntu'],
    ['6.5.0-1-azure', 'deb', 'ubuntu'],
    ['6.5.0-1-gcp', 'deb', 'ubuntu'],
    ['6.5.0-1-lowlatency', 'deb', 'ubuntu'],
    ['6.5.0-1-generic', 'deb', 'ubuntu'],
    ['6.5.0-1-cloud-amd64', 'deb', 'debian'],
    ['6.5.0-1-generic', 'rpm', 'any'],
    ['6.5.0-1-generic', 'other', 'any'],
  ] as const)('%s (%s): %s', (release, packaging, target) => {
    expect(targetForKernel(release, packaging)).toBe(target);
  });
});

describe('firstErrorLines', () => {
  it('prefers error lines, at most max, in order', () => {
    const out = ['make: Entering', 'x.c:1: error: a', 'warning', 'gcc: not found', 'No such file x', 'make: *** [y] Error 2', 'cannot open', 'unrecognized z', 'ERROR upper'].join('\n');
    expect(firstErrorLines(out)).toEqual(['x.c:1: error: a', 'gcc: not found', 'No such file x', 'make: *** [y] Error 2', 'cannot open']);
    expect(firstErrorLines(out, 7)).toEqual(['x.c:1: error: a', 'gcc: not found', 'No such file x', 'make: *** [y] Error 2', 'cannot open', 'unrecognized z', 'ERROR upper']);
    expect(firstErrorLines('errors everywhere\nterror\nan error\nlast')).toEqual(['an error']); // "error" as a word only
    // busybox says "can't", coreutils "cannot"; a build without capabilities is refused with "Permission denied".
    expect(firstErrorLines("+ mkdir -p /tmp/w\nmkdir: can't create directory '/tmp/': x\ncp: y: Permission denied\ncant\nlast")).toEqual(["mkdir: can't create directory '/tmp/': x", 'cp: y: Permission denied']);
  });

  it('falls back to the last lines, trimmed, without empty lines and the engine echo of the status', () => {
    expect(firstErrorLines('a  \n\nb\nc\nd\ne\nf\n')).toEqual(['b', 'c', 'd', 'e', 'f']);
    expect(firstErrorLines('a\nError: exit status 2\nsubprocess exited with status 1\n')).toEqual(['a']);
    expect(firstErrorLines('x Error: exit status 2')).toEqual(['x Error: exit status 2']);
    expect(firstErrorLines('Error: exit status 2 x')).toEqual(['Error: exit status 2 x']);
    expect(firstErrorLines('')).toEqual([]);
    expect(firstErrorLines('  x  ')).toEqual(['  x']);
  });
});
