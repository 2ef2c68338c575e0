// The registry index as driverkit reads it: the tag regex's corners, unusable and ambiguous tags, label problems.
import { describe, expect, it } from 'vitest';
import { driverkitTagPattern, entryLabelProblems, indexFromTags, LABEL_ARCH, LABEL_GCC_VERSIONS, LABEL_TARGET } from '../../src/core/registry-index.js';
import type { IndexEntry } from '../../src/core/index-schema.js';

describe('driverkitTagPattern', () => {
  it('matches the target or any, the arch, GCCs with dots as any character, and the tag', () => {
    const p = driverkitTagPattern('centos', 'x86_64', 'v1.0');
    expect(p.test('centos-x86_64_gcc4.8.5-v1.0')).toBe(true);
    expect(p.test('any-x86_64_gcc4.8.5_gcc9.0.0-v1.0')).toBe(true);
    expect(p.test('any-x86_64_gcc4x8x5-v1x0')).toBe(true); // driverkit's unescaped dots
    expect(p.test('debian-x86_64_gcc4.8.5-v1.0')).toBe(false);
    expect(p.test('centos-aarch64_gcc4.8.5-v1.0')).toBe(false);
    expect(p.test('xcentos-x86_64_gcc4.8.5-v1.0')).toBe(false);
    expect(p.test('centos-x86_64_gcc4.8.5-v1.0x')).toBe(false);
    expect(p.test('centos-x86_64-v1.0')).toBe(false);
  });

  it('escapes everything but the dot in target and tag', () => {
    const p = driverkitTagPattern('a+b', 'aarch64', 't(1)*[x]{2}|$^/\\?');
    expect(p.test('a+b-aarch64_gcc1.2.3-t(1)*[x]{2}|$^/\\?')).toBe(true);
    expect(p.test('aab-aarch64_gcc1.2.3-t(1)*[x]{2}|$^/\\?')).toBe(false);
  });
});

describe('indexFromTags', () => {
  it('keeps matching tags per version and arch, in tag order, with the target before the arch', () => {
    const r = indexFromTags('r/b', ['any-x86_64_gcc8.0.0-latest', 'centos-aarch64_gcc4.8.5-v1', 'any_gcc8.0.0-latest', 'base', 'my-os-x86_64_gcc9.0.0-latest', 'any-x86_64_gcc8.0.0-v2'], ['latest', 'v1']);
    expect(r).toStrictEqual({
      entries: [
        { name: 'r/b:any-x86_64_gcc8.0.0-latest', target: 'any', arch: 'x86_64', tag: 'latest', gcc_versions: ['8.0.0'] },
        { name: 'r/b:centos-aarch64_gcc4.8.5-v1', target: 'centos', arch: 'aarch64', tag: 'v1', gcc_versions: ['4.8.5'] },
        { name: 'r/b:my-os-x86_64_gcc9.0.0-latest', target: 'my-os', arch: 'x86_64', tag: 'latest', gcc_versions: ['9.0.0'] },
      ],
      unusable: [],
      ambiguous: [],
    });
  });

  it('sets apart tags whose GCC list driverkit cannot parse, naming the first bad one', () => {
    const r = indexFromTags('r', ['any-x86_64_gcc8.0.0_gcc9x0x0_gcc1x1x1-latest', 'any-x86_64_gcc08.0.0-latest'], ['latest']);
    expect(r.entries).toEqual([]);
    expect(r.unusable).toStrictEqual([
      { tag: 'any-x86_64_gcc8.0.0_gcc9x0x0_gcc1x1x1-latest', reason: 'GCC "9x0x0" is not X.Y.Z: the driver builder\'s semver parse of it fails and the build panics' },
      { tag: 'any-x86_64_gcc08.0.0-latest', reason: 'GCC "08.0.0" is not X.Y.Z: the driver builder\'s semver parse of it fails and the build panics' },
    ]);
  });

  it('ignores tags over 128 characters', () => {
    const tag = (n: number) => `any-x86_64_gcc8.0.0-${'v'.repeat(n - 20)}`;
    expect(tag(128)).toHaveLength(128);
    expect(indexFromTags('r', [tag(128)], ['v'.repeat(108)]).entries).toHaveLength(1);
    expect(indexFromTags('r', [tag(129)], ['v'.repeat(109)]).entries).toHaveLength(0);
  });

  it('names each GCC two tags of one target, arch and version provide', () => {
    const r = indexFromTags('r', ['any-x86_64_gcc8.0.0_gcc9.0.0-latest', 'any-x86_64_gcc9.0.0_gcc8.0.0-latest', 'any-aarch64_gcc8.0.0-latest', 'centos-x86_64_gcc8.0.0-latest'], ['latest']);
    expect(r.ambiguous).toEqual([
      'GCC 8.0.0 for any/x86_64, tag latest is served by r:any-x86_64_gcc8.0.0_gcc9.0.0-latest and r:any-x86_64_gcc9.0.0_gcc8.0.0-latest: the driver builder takes whichever the registry lists first; delete the stale tag',
      'GCC 9.0.0 for any/x86_64, tag latest is served by r:any-x86_64_gcc8.0.0_gcc9.0.0-latest and r:any-x86_64_gcc9.0.0_gcc8.0.0-latest: the driver builder takes whichever the registry lists first; delete the stale tag',
    ]);
  });
});

describe('entryLabelProblems', () => {
  const entry: IndexEntry = { name: 'r:x', target: 'any', arch: 'aarch64', tag: 'latest', gcc_versions: ['8.0.0', '6.0.0'] };
  const labels = { [LABEL_TARGET]: 'any', [LABEL_ARCH]: 'aarch64', [LABEL_GCC_VERSIONS]: '8.0.0,6.0.0' };
  it('is empty when labels and architecture agree', () => {
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64', config: { Labels: labels } })).toEqual([]);
  });

  it('names each missing or different label and a wrong architecture', () => {
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'amd64', config: { Labels: { [LABEL_TARGET]: 'centos', [LABEL_GCC_VERSIONS]: '6.0.0,8.0.0' } } })).toEqual([
      'label io.builder-images.target is "centos", the index says "any"',
      'label io.builder-images.arch is missing (wanted "aarch64")',
      'label io.builder-images.gcc-versions is "6.0.0,8.0.0", the index says "8.0.0,6.0.0"',
      'the image is for linux/amd64, the index says aarch64 (linux/arm64)',
    ]);
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64', config: { Labels: null } })).toHaveLength(3);
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64' })).toHaveLength(3);
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64', config: {} })).toHaveLength(3);
  });
});
