import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../src/core/index-schema.js';
import { defaultGccForKernel, parseKernelRelease } from '../../src/core/kernel.js';
import { selectBuilder, type SelectionReason } from '../../src/core/select.js';
import { formatGccVersion, parseGccVersion } from '../../src/core/version.js';

const entry = (target: string, arch: 'x86_64' | 'aarch64', gccs: string[], tag = 'latest'): IndexEntry => ({
  name: `r/b:${target}-${arch}_gcc${gccs.join('_gcc')}-${tag}`,
  target,
  arch,
  tag,
  gcc_versions: gccs,
});

const INDEX: IndexEntry[] = [
  entry('any', 'x86_64', ['12.0.0', '11.0.0']),
  entry('any', 'x86_64', ['8.0.0', '6.0.0']),
  entry('any', 'x86_64', ['14.0.0']),
  entry('centos', 'x86_64', ['4.8.5']),
  entry('centos', 'x86_64', ['11.0.0']),
  entry('any', 'aarch64', ['12.0.0']),
  entry('any', 'x86_64', ['5.0.0'], 'other'),
];

describe('selectBuilder', () => {
  const cases: [string, string, string, string, string, SelectionReason][] = [
    // target, arch, gcc, expected image name, expected gcc, reason
    ['centos', 'x86_64', '4.8.5', 'r/b:centos-x86_64_gcc4.8.5-latest', '4.8.5', 'exact'],
    ['centos', 'x86_64', '11.0.0', 'r/b:centos-x86_64_gcc11.0.0-latest', '11.0.0', 'exact'], // target beats any
    ['centos', 'x86_64', '12.0.0', 'r/b:any-x86_64_gcc12.0.0_gcc11.0.0-latest', '12.0.0', 'fallback'],
    ['any', 'x86_64', '8.0.0', 'r/b:any-x86_64_gcc8.0.0_gcc6.0.0-latest', '8.0.0', 'exact'],
    ['debian', 'x86_64', '13.0.0', 'r/b:any-x86_64_gcc12.0.0_gcc11.0.0-latest', '12.0.0', 'nearest-lower'],
    ['centos', 'x86_64', '11.2.0', 'r/b:centos-x86_64_gcc11.0.0-latest', '11.0.0', 'nearest-lower'], // prefer target for the version
    ['centos', 'x86_64', '4.0.0', 'r/b:centos-x86_64_gcc4.8.5-latest', '4.8.5', 'smallest'],
    ['debian', 'x86_64', '4.0.0', 'r/b:any-x86_64_gcc8.0.0_gcc6.0.0-latest', '6.0.0', 'smallest'],
    ['debian', 'aarch64', '14.0.0', 'r/b:any-aarch64_gcc12.0.0-latest', '12.0.0', 'nearest-lower'],
    ['debian', 'x86_64', '99.0.0', 'r/b:any-x86_64_gcc14.0.0-latest', '14.0.0', 'nearest-lower'],
  ];
  it.each(cases)('%s %s gcc %s -> %s (%s, %s)', (target, arch, gcc, name, chosen, reason) => {
    const s = selectBuilder(INDEX, { target, arch: arch as 'x86_64', tag: 'latest', gcc: parseGccVersion(gcc)! });
    expect(s).toMatchObject({ image: { name }, gcc: chosen, reason });
    expect(s!.why).toContain(chosen);
  });

  it('filters by tag and returns null when nothing is kept', () => {
    expect(selectBuilder(INDEX, { target: 'any', arch: 'x86_64', tag: 'other', gcc: parseGccVersion('9.0.0')! })!.image.tag).toBe('other');
    expect(selectBuilder(INDEX, { target: 'any', arch: 'aarch64', tag: 'nope', gcc: parseGccVersion('9.0.0')! })).toBeNull();
  });
});

describe('defaultGccForKernel', () => {
  const table: [string, string, string, string][] = [
    ['debian', '6.12.0-1-amd64', '14.0.0', '6.9+'],
    ['debian', '6.9.1', '14.0.0', '6.9+'],
    ['debian', '6.8.0', '13.0.0', '6.5+'],
    ['debian', '6.5.0', '13.0.0', '6.5+'],
    ['debian', '6.1.0-18-amd64', '12.0.0', '6.x'],
    ['debian', '5.15.0-91-generic', '12.0.0', '5.15+'],
    ['debian', '5.19.1', '12.0.0', '5.15+'],
    ['debian', '5.10.0-28-amd64', '11.0.0', '5.x'],
    ['debian', '4.19.0-26-amd64', '8.0.0', '4.x'],
    ['debian', '3.18.140', '5.0.0', '3.18+'],
    ['debian', '3.16.0-4-amd64', '4.9.0', '3.x'],
    ['debian', '2.6.32-754.el6.x86_64', '4.8.0', '2.x'],
    ['debian', '7.0.0', '14.0.0', 'default'],
    ['centos', '3.10.0-1160.el7.x86_64', '4.8.5', 'centos 3.10'],
    ['centos', '4.18.0-513.el8.x86_64', '9.0.0', 'centos 4.18+'],
    ['centos', '5.14.0-362.el9.x86_64', '9.0.0', 'centos 4.18+'],
    ['centos', '4.9.0', '8.0.0', '4.x'],
    ['amazonlinux2', '5.10.205-195.807.amzn2.x86_64', '10.0.0', 'amazonlinux2 5.10'],
    ['amazonlinux2', '4.14.336-257.562.amzn2.x86_64', '8.0.0', '4.x'],
  ];
  it.each(table)('%s %s -> gcc %s (%s)', (target, release, gcc, rule) => {
    const r = defaultGccForKernel(target, parseKernelRelease(release)!);
    expect(formatGccVersion(r.gcc)).toBe(gcc);
    expect(r.rule).toBe(rule);
  });
  it('rejects non-releases', () => {
    expect(parseKernelRelease('latest')).toBeNull();
    expect(parseKernelRelease('6')).toBeNull();
  });
});
