import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIndex, renderIndex, sortEntries, type IndexEntry } from '../../src/core/index-schema.js';
import { formatArchTag, formatIndexTag, type BuilderName } from '../../src/core/names.js';
import { driverkitTagPattern, entryLabelProblems, indexFromTags } from '../../src/core/registry-index.js';
import { driverkitFlags, shellWords } from '../../src/core/driverkit.js';

const gcc = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b, c]) => `${a}.${b}.${c}`);
const builderName: fc.Arbitrary<BuilderName> = fc.record({
  target: fc.constantFrom('any', 'centos', 'debian', 'amazonlinux2', 'yes'),
  arch: fc.constantFrom('x86_64' as const, 'aarch64' as const),
  gccVersions: fc.uniqueArray(gcc, { minLength: 1, maxLength: 4 }),
});
const version = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}$/);

describe('the index as the driver builder reads it from tags', () => {
  it('reads back exactly the index built from the names, whatever else the repository holds (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(builderName, { minLength: 1, maxLength: 6, selector: (n) => `${n.target}-${n.arch}-${n.gccVersions[0]}` }), version, (names, v) => {
        const declared = buildIndex(names, ['r.example/b'], [v]);
        const noise = names.flatMap((n) => [formatIndexTag(n, v), formatArchTag(n, 'f00dfeedf00dfeed'), `${n.target}-${n.arch}-${v}`]);
        const tags = [...names.map((n) => formatArchTag(n, v)), ...noise].reverse();
        const seen = indexFromTags('r.example/b', tags, [v]);
        return renderIndex(sortEntries(seen.entries)) === renderIndex(declared) && seen.unusable.length === 0;
      }),
    );
  });

  it("uses driverkit's regex: dots match anything, a multi-arch tag never matches", () => {
    const pattern = driverkitTagPattern('centos', 'x86_64', 'v1.2');
    expect(pattern.test('centos-x86_64_gcc4.8.5-v1.2')).toBe(true);
    expect(pattern.test('any-x86_64_gcc4.8.5_gcc5.0.0-v1.2')).toBe(true);
    expect(pattern.test('centos-x86_64_gcc4x8x5-v1x2')).toBe(true);
    expect(pattern.test('centos_gcc4.8.5-v1.2')).toBe(false);
    expect(pattern.test('debian-x86_64_gcc4.8.5-v1.2')).toBe(false);
    expect(pattern.test('centos-aarch64_gcc4.8.5-v1.2')).toBe(false);
    const seen = indexFromTags('r/b', ['any-x86_64_gcc4x8x5-latest', 'any-x86_64_gcc4.9.0-latest', 'any-x86_64_gcc4.9.0-0latest'], ['latest']);
    expect(seen.unusable).toEqual([{ tag: 'any-x86_64_gcc4x8x5-latest', reason: expect.stringContaining('panics') }]);
    expect(seen.entries.map((e) => e.name)).toEqual(['r/b:any-x86_64_gcc4.9.0-latest']);
  });

  it('names a GCC two tags of one target, arch and version provide', () => {
    const seen = indexFromTags('r/b', ['any-x86_64_gcc12.0.0-latest', 'any-x86_64_gcc13.0.0_gcc12.0.0-latest', 'any-aarch64_gcc12.0.0-latest'], ['latest']);
    expect(seen.ambiguous).toEqual([expect.stringMatching(/^GCC 12\.0\.0 for any\/x86_64, tag latest is served by r\/b:any-x86_64_gcc12\.0\.0-latest and r\/b:any-x86_64_gcc13\.0\.0_gcc12\.0\.0-latest/)]);
  });
});

describe('labels against the entry', () => {
  const entry: IndexEntry = { name: 'r/b:any-aarch64_gcc12.0.0_gcc11.0.0-latest', target: 'any', arch: 'aarch64', tag: 'latest', gcc_versions: ['12.0.0', '11.0.0'] };
  const labels = { 'io.builder-images.target': 'any', 'io.builder-images.arch': 'aarch64', 'io.builder-images.gcc-versions': '12.0.0,11.0.0' };

  it('agree when the push set them from the same name', () => {
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64', config: { Labels: labels } })).toEqual([]);
  });

  it('names every disagreement', () => {
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'amd64', config: { Labels: { ...labels, 'io.builder-images.gcc-versions': '12.0.0' } } })).toEqual([
      'label io.builder-images.gcc-versions is "12.0.0", the index says "12.0.0,11.0.0"',
      'the image is for linux/amd64, the index says aarch64 (linux/arm64)',
    ]);
    expect(entryLabelProblems(entry, { os: 'linux', architecture: 'arm64', config: { Labels: null } })).toHaveLength(3);
  });
});

describe('driverkit flags', () => {
  it('select --builderimage auto:<tag> and the arch as driverkit spells it', () => {
    expect(driverkitFlags({ target: 'centos', arch: 'x86_64', tag: 'latest', kernelRelease: '3.10.0-1160.el7.x86_64' }, 'index.yaml')).toEqual([
      '--target', 'centos', '--architecture', 'amd64', '--kernelrelease', '3.10.0-1160.el7.x86_64', '--builderrepo', 'index.yaml', '--builderimage', 'auto:latest',
    ]);
    expect(shellWords(['--builderrepo', '/my dir/index.yaml', "it's"])).toBe(`--builderrepo '/my dir/index.yaml' 'it'\\''s'`);
  });
});

describe('hostile tag lists', () => {
  it('a tag longer than the spec allows is skipped, not backtracked over (the test would time out)', () => {
    const crafted = `any-x86_64_gcc${'1'.repeat(20_000)}x-latest`; // cubic backtracking: hours uncapped
    const seen = indexFromTags('r/b', [crafted, `any-x86_64_gcc${'1'.repeat(40)}-latest`, 'any-x86_64_gcc4.9.0-latest'], ['latest']);
    expect(seen.entries.map((e) => e.name)).toEqual(['r/b:any-x86_64_gcc4.9.0-latest']);
    // Forty digits match driverkit's regex (its dots match digits too) and then fail its semver parse.
    expect(seen.unusable.map((u) => u.tag)).toEqual([`any-x86_64_gcc${'1'.repeat(40)}-latest`]);
  });
});
