// The kernel -> GCC table at each boundary, GCC version helpers, driverkit flags and shell quoting.
import { describe, expect, it } from 'vitest';
import { driverkitFlags, shellWords } from '../../src/core/driverkit.js';
import { defaultGccForKernel, parseKernelRelease } from '../../src/core/kernel.js';
import { compareGccVersions, formatGccVersion, parseGccVersion, widenVersion } from '../../src/core/version.js';

describe('parseKernelRelease', () => {
  it.each([
    [' 5.10 ', { version: 5, patchlevel: 10, sublevel: 0, extra: '' }],
    ['3.10.0-1160.el7.x86_64', { version: 3, patchlevel: 10, sublevel: 0, extra: '-1160.el7.x86_64' }],
    ['6.1.192', { version: 6, patchlevel: 1, sublevel: 192, extra: '' }],
    ['6.1-rc1', { version: 6, patchlevel: 1, sublevel: 0, extra: '-rc1' }],
    ['10.12.3', { version: 10, patchlevel: 12, sublevel: 3, extra: '' }],
    ['5', null],
    ['5.x', null],
    ['a5.10', null],
    ['', null],
  ])('%j', (text, expected) => {
    expect(parseKernelRelease(text)).toStrictEqual(expected);
  });
});

describe('defaultGccForKernel', () => {
  it.each([
    ['centos', '3.10', 'centos 3.10', '4.8.5'],
    ['centos', '3.9', '3.x', '4.9.0'],
    ['centos', '3.11', '3.x', '4.9.0'],
    ['centos', '4.18', 'centos 4.18+', '9.0.0'],
    ['centos', '4.17', '4.x', '8.0.0'],
    ['centos', '4.10', '4.x', '8.0.0'], // minor 10 of another major is not CentOS 7's 3.10
    ['centos', '5.10', 'centos 4.18+', '9.0.0'],
    ['centos', '5.0', 'centos 4.18+', '9.0.0'],
    ['centos', '2.6', '2.x', '4.8.0'],
    ['amazonlinux2', '5.10', 'amazonlinux2 5.10', '10.0.0'],
    ['amazonlinux2', '5.11', '5.x', '11.0.0'],
    ['amazonlinux2', '4.10', '4.x', '8.0.0'],
    ['amazonlinux2', '6.10', '6.9+', '14.0.0'],
    ['debian', '3.10', '3.x', '4.9.0'],
    ['debian', '5.10', '5.x', '11.0.0'],
    ['debian', '4.18', '4.x', '8.0.0'],
    ['any', '6.9', '6.9+', '14.0.0'],
    ['any', '6.8', '6.5+', '13.0.0'],
    ['any', '6.5', '6.5+', '13.0.0'],
    ['any', '6.4', '6.x', '12.0.0'],
    ['any', '5.15', '5.15+', '12.0.0'],
    ['any', '5.14', '5.x', '11.0.0'],
    ['any', '3.18', '3.18+', '5.0.0'],
    ['any', '3.17', '3.x', '4.9.0'],
    ['any', '2.6', '2.x', '4.8.0'],
    ['any', '7.0', 'default', '14.0.0'],
    ['any', '1.0', 'default', '14.0.0'],
  ])('%s %s: %s -> %s', (target, release, rule, gcc) => {
    const r = defaultGccForKernel(target, parseKernelRelease(release)!);
    expect(r.rule).toBe(rule);
    expect(formatGccVersion(r.gcc)).toBe(gcc);
  });
});

describe('GCC versions', () => {
  it('widens one to three parts, no more', () => {
    expect(widenVersion('12')).toStrictEqual({ major: 12, minor: 0, patch: 0 });
    expect(widenVersion('4.8')).toStrictEqual({ major: 4, minor: 8, patch: 0 });
    expect(widenVersion('4.8.5')).toStrictEqual({ major: 4, minor: 8, patch: 5 });
    expect(widenVersion('4.8.5.1')).toBeNull();
    expect(widenVersion('')).toBeNull();
  });

  it('compares numerically in both directions', () => {
    const p = (t: string) => parseGccVersion(t)!;
    expect(compareGccVersions(p('4.9.4'), p('4.10.0'))).toBe(-1);
    expect(compareGccVersions(p('4.10.0'), p('4.9.4'))).toBe(1);
    expect(compareGccVersions(p('4.9.4'), p('4.9.4'))).toBe(0);
    expect(compareGccVersions(p('4.9.4'), p('4.9.5'))).toBe(-1);
    expect(compareGccVersions(p('5.0.0'), p('4.99.99'))).toBe(1);
    expect(formatGccVersion({ major: 1, minor: 2, patch: 3 })).toBe('1.2.3');
    expect(parseGccVersion('9999.0.0')).toStrictEqual({ major: 9999, minor: 0, patch: 0 });
    expect(parseGccVersion('10000.0.0')).toBeNull();
  });
});

describe('driverkit flags', () => {
  it('adds the kernel release and GCC only when given', () => {
    expect(driverkitFlags({ target: 'centos', arch: 'aarch64', tag: 'latest' }, 'index.yaml')).toEqual([
      '--target', 'centos', '--architecture', 'arm64', '--builderrepo', 'index.yaml', '--builderimage', 'auto:latest',
    ]);
    expect(driverkitFlags({ target: 'any', arch: 'x86_64', tag: 'v1', kernelRelease: '6.1.0', gccVersion: '12.2.0' }, 'r/b')).toEqual([
      '--target', 'any', '--architecture', 'amd64', '--kernelrelease', '6.1.0', '--gccversion', '12.2.0', '--builderrepo', 'r/b', '--builderimage', 'auto:v1',
    ]);
    expect(driverkitFlags({ target: 'any', arch: 'x86_64', tag: 'v1', kernelRelease: '', gccVersion: '' }, 'r')).not.toContain('--kernelrelease');
  });

  it('quotes what a shell would read differently', () => {
    expect(shellWords(['a-b_c', 'A@1%2+3=4:5,6./x'])).toBe('a-b_c A@1%2+3=4:5,6./x');
    expect(shellWords(['a b', "it's", '', '$x', 'x;y'])).toBe(`'a b' 'it'\\''s' '' '$x' 'x;y'`);
    expect(shellWords(["'a'", 'x\ny'])).toBe(`''\\''a'\\''' 'x\ny'`);
    expect(shellWords([])).toBe('');
  });
});
