import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zstdDecompress, ZstdWindowError } from '../../src/adapters/compress/zstd.js';
import { FileTree, resolvePath, type Node, type TreeView } from '../../src/core/filetree.js';
import { TarReader, type TarEntry } from '../../src/core/tar.js';
import { corpus, ELF_X86, END, header, tarFile, tarPax } from '../support/tar-corpus.js';
import { atScale } from '../support/scale.js';

/** Entries (with head bytes) or the error, reading `tar` in the given chunk sizes. */
function read(tar: Buffer, cuts: number[] = []): { entries: (TarEntry & { head?: string })[]; error?: string } {
  const entries: (TarEntry & { head?: string })[] = [];
  let head: Buffer[] = [];
  const reader = new TarReader({
    entry: (e) => {
      entries.push({ ...e });
      head = [];
      return e.type === 'file' ? 64 : 0;
    },
    data: (b) => head.push(Buffer.from(b)),
    entryEnd: () => {
      if (head.length) entries[entries.length - 1]!.head = Buffer.concat(head).toString('hex');
    },
  });
  try {
    let at = 0;
    for (const cut of [...cuts.filter((c) => c > 0 && c < tar.length).sort((a, b) => a - b), tar.length]) {
      reader.push(tar.subarray(at, cut));
      at = cut;
    }
    reader.end();
    return { entries };
  } catch (err) {
    return { entries, error: (err as Error).message };
  }
}

describe('TarReader', () => {
  it('reads every corpus layer the same whatever the chunk boundaries', () => {
    const layers = corpus().flatMap((c) => c.layers);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: layers.length - 1 }), fc.array(fc.integer({ min: 1, max: 40_000 }), { maxLength: 12 }), (i, cuts) => {
        expect(read(layers[i]!, cuts)).toEqual(read(layers[i]!));
      }),
      { numRuns: atScale(200, 20) },
    );
  });

  it('octal fields may be padded with spaces and NULs; base-256 sizes are read', () => {
    const spaced = header({ name: 'a', size: 0, sizeField: Buffer.from('     12    \0') });
    expect(read(Buffer.concat([spaced, Buffer.alloc(512), END])).entries[0]).toMatchObject({ name: 'a', size: 10 });
    const inner = header({ name: 'a', sizeField: Buffer.from('1 2\0        ') });
    expect(read(Buffer.concat([inner, END])).error).toMatch(/invalid size field/);
  });

  it('stops at the end-of-archive marker: what follows is never parsed', () => {
    const r = read(Buffer.concat([tarFile('a', 'x'), END, Buffer.from('garbage that is not a header'.repeat(40))]));
    expect(r).toEqual({ entries: [expect.objectContaining({ name: 'a' })] });
  });

  it('a PAX 0.1 sparse file hands over its logical head bytes (fragments at their offsets, holes as zeros)', () => {
    const sparse = (map: string) =>
      Buffer.concat([
        tarPax({ 'GNU.sparse.major': '0', 'GNU.sparse.minor': '1', 'GNU.sparse.name': 'bin/tool', 'GNU.sparse.size': '4096', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': map }),
        header({ name: 'GNUSparseFile.0/tool', mode: 0o755, size: 512 }),
        ELF_X86.subarray(0, 512),
        END,
      ]);
    expect(read(sparse('0,512')).entries[0]).toMatchObject({ name: 'bin/tool', size: 4096, head: ELF_X86.subarray(0, 64).toString('hex') });
    expect(read(sparse('1024,512')).entries[0]).toMatchObject({ name: 'bin/tool', head: '00'.repeat(64) });
    expect(read(sparse('3800,512')).error).toMatch(/beyond its size/);
  });
});

describe('link resolution is linear in the length of the links', () => {
  it('a chain of 40 links of 4095 bytes of d/.. pairs under a 2000-deep directory resolves with one lookup per component', () => {
    const tree = new FileTree();
    const deep = Array.from({ length: 2000 }, () => 'd').join('/');
    const entries = [{ path: `${deep}/gcc`, type: 'file' as const, mode: 0o755, size: 64, uid: 0, gid: 0, head: new Uint8Array(ELF_X86.subarray(0, 64)) }];
    const pairs = 'd/../'.repeat(818); // 4090 bytes
    for (let i = 0; i < 40; i++) entries.push({ path: `l${i}`, type: 'symlink' as never, mode: 0o777, size: 0, uid: 0, gid: 0, linkname: `${pairs}${i === 39 ? deep.slice(0, 3) : `l${i + 1}`}` } as never);
    tree.applyLayer(entries);
    let lookups = 0;
    const counting: TreeView = {
      lookup: (parts) => tree.lookup(parts),
      list: (p) => tree.list(p),
      child: (dir: Node, name: string) => {
        lookups++;
        return tree.child(dir, name);
      },
    };
    const r = resolvePath(counting, '/l0/d');
    expect(r).toMatchObject({ ok: true, path: '/d/d/d' });
    const components = 40 * (818 * 2 + 1) + 3;
    expect(lookups).toBeLessThanOrEqual(components);
  });
});

describe('zstd', () => {
  const data = Buffer.from('builder images '.repeat(20_000));
  const decode = async (input: Buffer, decoder: 'zstd' | 'fzstd', maxWindow?: number) => {
    const parts: Buffer[] = [];
    async function* source() {
      for (let i = 0; i < input.length; i += 1000) yield input.subarray(i, i + 1000);
    }
    const zstd = zstdDecompress(source(), { decoder, maxWindow });
    for await (const chunk of zstd.output) parts.push(chunk);
    await zstd.finished();
    return Buffer.concat(parts);
  };
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]);

  for (const decoder of ['zstd', 'fzstd'] as const) {
    it(`${decoder}: several frames (with checksums) and a skippable frame decode to the input`, async () => {
      const frame = execFileSync('zstd', ['-q', '-c', '-3'], { input: data });
      expect(await decode(Buffer.concat([frame, skippable, frame]), decoder)).toEqual(Buffer.concat([data, data]));
    });

    it(`${decoder}: a frame whose window is above the limit is refused before it is decoded`, async () => {
      const big = execFileSync('zstd', ['-q', '-c', '--long=28'], { input: data }); // stdin: size unknown, window kept
      await expect(decode(big, decoder)).rejects.toThrow(ZstdWindowError);
      await expect(decode(big, decoder)).rejects.toThrow(/a zstd frame needs a 256 MiB window, above the 128 MiB limit/);
      expect(await decode(big, decoder, 256 * 2 ** 20)).toEqual(data);
    });
  }

  it('a corrupt frame is an error, not a hang', async () => {
    const frame = execFileSync('zstd', ['-q', '-c', '-3'], { input: data });
    const broken = Buffer.from(frame);
    broken.fill(0xff, 20, 60);
    await expect(decode(broken, 'zstd')).rejects.toThrow();
    await expect(decode(broken, 'fzstd')).rejects.toThrow();
  });
});
