import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  archOfKernel,
  chooseHeaders,
  compareReleases,
  filterKernels,
  KernelListError,
  kernelSeries,
  parseKernelList,
  parseShard,
  sampleKernels,
  shardOf,
  ubuntuFlavor,
  uniqueKernels,
  type KernelListEntry,
} from '../../src/core/kernel-list.js';
import { kernelsForImages, pickForKernels } from '../../src/core/kernel-picks.js';
import type { IndexEntry } from '../../src/core/index-schema.js';

const deb = 'https://deb.debian.org/debian/pool/main/l/linux';
const sec = 'https://security.debian.org/debian-security/pool/updates/main/l/linux';
const crawler = {
  Debian: [
    {
      kernelversion: 1,
      kernelrelease: '6.1.0-57-amd64',
      target: 'debian',
      headers: [`${deb}/linux-headers-6.1.0-57-amd64_6.1.158-1_amd64.deb`, `${sec}/linux-headers-6.1.0-57-amd64_6.1.158-1_amd64.deb`, `${deb}/linux-headers-6.1.0-57-common_6.1.158-1_all.deb`, `${deb}/linux-kbuild-6.1_6.1.158-1_amd64.deb`],
    },
  ],
  Ubuntu: [
    {
      kernelversion: '102',
      kernelrelease: '5.15.0-91-generic',
      target: 'ubuntu',
      headers: [
        'https://mirrors.example/ubuntu/pool/main/l/linux/linux-headers-5.15.0-91-generic_5.15.0-91.101_amd64.deb',
        'https://mirrors.example/ubuntu/pool/main/l/linux/linux-headers-5.15.0-91-lowlatency_5.15.0-91.101_amd64.deb',
        'https://mirrors.example/ubuntu/pool/main/l/linux/linux-headers-5.15.0-91_5.15.0-91.101_all.deb',
      ],
    },
  ],
};

describe('parseKernelList', () => {
  it("reads kernel-crawler's list.json: distro keys, numeric or string kernelversion, the arch from the packages", () => {
    const list = parseKernelList(crawler, 'list.json');
    expect(list.map((k) => [k.distro, k.release, k.target, k.arch, k.kernelVersion, k.headers.length])).toEqual([
      ['Debian', '6.1.0-57-amd64', 'debian', 'x86_64', '1', 4],
      ['Ubuntu', '5.15.0-91-generic', 'ubuntu', 'x86_64', '102', 3],
    ]);
  });

  it("takes the file's arch when neither the packages nor the release say it, and refuses when nothing does", () => {
    const doc = { CentOS: [{ kernelversion: 1, kernelrelease: '3.10.0-1160.el7', target: 'centos', headers: ['https://x/kernel-devel-3.10.0-1160.el7.rpm'] }] };
    expect(parseKernelList(doc, 'kernels/aarch64/list.json', 'aarch64')[0]!.arch).toBe('aarch64');
    expect(() => parseKernelList(doc, 'list.json')).toThrow(/CentOS\[0\] \(3\.10\.0-1160\.el7\): cannot tell its arch.*--arch/);
  });

  it('reads our plain list with sources, sha256 and a kernel image, and names the entry when it is wrong', () => {
    const sha = 'a'.repeat(64);
    const list = parseKernelList({ kernels: [{ release: '6.1.0-57-arm64', target: 'debian', arch: 'arm64', headers: ['a.deb', { source: 'b.deb', sha256: sha }], kernelImage: 'img.deb', sha256: sha }] }, 'k.yaml');
    expect(list).toEqual([{ release: '6.1.0-57-arm64', target: 'debian', arch: 'aarch64', headers: [{ source: 'a.deb' }, { source: 'b.deb', sha256: sha }], kernelImage: { source: 'img.deb', sha256: sha } }]);
    expect(() => parseKernelList({ kernels: [{ release: 'r', target: 'debian', arch: 'mips', headers: ['a.deb'] }] }, 'k.yaml')).toThrow(/k\.yaml: kernels\[0\]\.arch "mips"/);
    expect(() => parseKernelList({ kernels: [{ release: 'r', target: 'Debian!', headers: ['a'] }] }, 'k.yaml')).toThrow(KernelListError);
    expect(() => parseKernelList({ kernels: [{ release: 'r', target: 'debian', headers: [] }] }, 'k.yaml')).toThrow(/kernels\.0\.headers/);
    expect(() => parseKernelList([1, 2], 'x.json')).toThrow(/x\.json: not a kernel list/);
  });

  it('tells the arch from packages first, then the release', () => {
    expect(archOfKernel('5.4.0', ['k.aarch64.rpm'])).toBe('aarch64');
    expect(archOfKernel('6.1.0-57-arm64', [])).toBe('aarch64');
    expect(archOfKernel('4.18.0-513.el8.x86_64', [])).toBe('x86_64');
    expect(archOfKernel('6.1.0', ['a_amd64.deb', 'b_arm64.deb'])).toBeUndefined();
    expect(archOfKernel('6.1.0', [], 'x86_64')).toBe('x86_64');
  });
});

describe('chooseHeaders', () => {
  it('keeps one copy of a package served by two mirrors, the first that answers', () => {
    const [debian] = parseKernelList(crawler, 'list.json');
    expect(chooseHeaders(debian!).map((h) => h.source)).toEqual([crawler.Debian[0]!.headers[0], crawler.Debian[0]!.headers[2], crawler.Debian[0]!.headers[3]]);
    const secOnly = chooseHeaders(debian!, (s) => !s.startsWith(deb) || s.includes('common') || s.includes('kbuild'));
    expect(secOnly.map((h) => h.source)).toEqual([crawler.Debian[0]!.headers[1], crawler.Debian[0]!.headers[2], crawler.Debian[0]!.headers[3]]);
  });

  it("keeps Ubuntu's flavor of the release and drops the other flavors' packages", () => {
    const ubuntu = parseKernelList(crawler, 'list.json')[1]!;
    expect(ubuntuFlavor(ubuntu.release)).toBe('generic');
    expect(chooseHeaders(ubuntu).map((h) => h.source.split('/').pop())).toEqual(['linux-headers-5.15.0-91-generic_5.15.0-91.101_amd64.deb', 'linux-headers-5.15.0-91_5.15.0-91.101_all.deb']);
    const low = { ...ubuntu, release: '5.15.0-91-lowlatency' };
    expect(chooseHeaders(low).map((h) => h.source.split('/').pop())).toEqual(['linux-headers-5.15.0-91-lowlatency_5.15.0-91.101_amd64.deb', 'linux-headers-5.15.0-91_5.15.0-91.101_all.deb']);
  });

  it("drops the other arch's packages", () => {
    const k: KernelListEntry = { release: '6.1.0-57-arm64', target: 'debian', arch: 'aarch64', headers: [{ source: 'x/linux-kbuild-6.1_1_amd64.deb' }, { source: 'x/linux-kbuild-6.1_1_arm64.deb' }] };
    expect(chooseHeaders(k).map((h) => h.source)).toEqual(['x/linux-kbuild-6.1_1_arm64.deb']);
  });
});

const kernel = (release: string, target = 'debian', arch: 'x86_64' | 'aarch64' = 'x86_64'): KernelListEntry => ({ release, target, arch, headers: [{ source: `${release}.deb` }] });

describe('filters, series, order', () => {
  it('filters by target, arch and release pattern, and builds a kernel named twice once', () => {
    const list = [kernel('6.1.0-57-amd64'), kernel('6.1.0-57-amd64'), kernel('5.10.0-30-amd64'), kernel('6.1.0-57-arm64', 'debian', 'aarch64'), kernel('5.15.0-91-generic', 'ubuntu')];
    expect(filterKernels(list, { target: 'debian', arch: 'x86_64', release: /^6\./ }).map((k) => k.release)).toEqual(['6.1.0-57-amd64', '6.1.0-57-amd64']);
    expect(uniqueKernels(list)).toHaveLength(4);
  });

  it('orders releases by their numbers', () => {
    expect(['6.1.0-9-amd64', '6.1.0-57-amd64', '5.10.0-30-amd64', '6.12.48+deb12-amd64'].sort(compareReleases)).toEqual(['5.10.0-30-amd64', '6.1.0-9-amd64', '6.1.0-57-amd64', '6.12.48+deb12-amd64']);
    expect(kernelSeries('6.12.48+deb12-amd64')).toBe('6.12');
    expect(kernelSeries('weird')).toBe('?');
  });
});

describe('sampleKernels', () => {
  const list = [
    ...Array.from({ length: 20 }, (_, i) => kernel(`6.1.0-${i + 10}-amd64`)),
    ...Array.from({ length: 5 }, (_, i) => kernel(`5.10.0-${i + 20}-amd64`)),
    kernel('6.12.48+deb12-amd64'),
  ];

  it('covers every series before a second kernel of any, spreads within a series, and is deterministic', () => {
    const three = sampleKernels(list, 3).map((k) => k.release);
    expect(three.map(kernelSeries).sort()).toEqual(['5.10', '6.1', '6.12']);
    const five = sampleKernels(list, 5).map((k) => k.release);
    expect(five).toContain('6.1.0-10-amd64');
    expect(five).toContain('6.1.0-29-amd64');
    expect(sampleKernels([...list].reverse(), 7)).toEqual(sampleKernels(list, 7));
    expect(sampleKernels(list, 100)).toHaveLength(list.length);
  });

  it('always returns n distinct kernels of the list', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (n) => {
        const got = sampleKernels(list, n);
        expect(got).toHaveLength(Math.min(n, list.length));
        expect(new Set(got.map((k) => k.release)).size).toBe(got.length);
      }),
    );
  });
});

describe('shards', () => {
  it('parses I/N and refuses what is not a shard', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1/1001', '1', ' 1/2']) expect(parseShard(bad)).toBeUndefined();
  });

  it('puts every item in exactly one shard, sizes within one, whatever the input order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (items, n) => {
        const shards = Array.from({ length: n }, (_, i) => shardOf(items, { index: i + 1, count: n }, (x) => x));
        expect(shards.flat().sort()).toEqual([...items].sort());
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        expect(shardOf([...items].reverse(), { index: 1, count: n }, (x) => x)).toEqual(shards[0]);
      }),
    );
  });
});

describe('pickForKernels', () => {
  const entries: IndexEntry[] = [
    { name: 'r/b:debian-x86_64_gcc12.0.0-latest', target: 'debian', arch: 'x86_64', tag: 'latest', gcc_versions: ['12.0.0'] },
    { name: 'r/b:any-x86_64_gcc11.0.0-latest', target: 'any', arch: 'x86_64', tag: 'latest', gcc_versions: ['11.0.0'] },
  ];

  it('picks per kernel with the driver builder table and counts kernels per image', () => {
    const s = pickForKernels(entries, [kernel('6.1.0-57-amd64'), kernel('6.1.0-56-amd64'), kernel('5.10.0-30-amd64'), kernel('6.9.0-1-amd64'), kernel('6.1.0-57-arm64', 'debian', 'aarch64'), kernel('bad')], 'latest');
    expect(s.picks.map((p) => [p.kernel.release, p.gcc ?? null, p.reason, p.exact])).toEqual([
      ['6.1.0-57-amd64', '12.0.0', 'exact', true],
      ['6.1.0-56-amd64', '12.0.0', 'exact', true],
      ['5.10.0-30-amd64', '11.0.0', 'fallback', true],
      ['6.9.0-1-amd64', '12.0.0', 'nearest-lower', false],
      ['6.1.0-57-arm64', null, 'none', false],
      ['bad', null, 'bad-release', false],
    ]);
    expect(s.perImage).toEqual([
      { image: 'r/b:debian-x86_64_gcc12.0.0-latest', kernels: 3, inexact: 1, fallback: 0 },
      { image: 'r/b:any-x86_64_gcc11.0.0-latest', kernels: 1, inexact: 0, fallback: 1 },
    ]);
    expect(s.unserved.map((p) => p.kernel.release)).toEqual(['6.1.0-57-arm64', 'bad']);
    expect(kernelsForImages(s, ['any-x86_64_gcc11.0.0-latest']).map((p) => p.kernel.release)).toEqual(['5.10.0-30-amd64']);
    expect(kernelsForImages(s, ['debian-']).length).toBe(3);
  });
});
