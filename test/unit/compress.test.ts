/**
 * The one decompression contract (adapters/compress): sniffed once, every codec decoded as a stream under a
 * memory bound, child decoders killed and reaped however the reader ends, failures after the last byte reported.
 */
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DecoderError, stderrSummary } from '../../src/adapters/compress/child.js';
import { decoded, decompress, DEFAULT_XZ_MEMORY, isDecoderError, memoryBound, sniffCompression, SNIFF_BYTES, type Compression } from '../../src/adapters/compress/decompress.js';
import { ZstdWindowError } from '../../src/adapters/compress/zstd.js';

const TEXT = Buffer.from('kernel headers '.repeat(20_000));

async function encode(kind: Compression, data = TEXT): Promise<Buffer> {
  if (kind === 'none') return data;
  if (kind === 'gzip') return gzipSync(data);
  const tool = kind === 'zstd' ? 'zstd' : kind;
  return Buffer.from((await execa(tool, ['-c', '-q'], { input: data, encoding: 'buffer' })).stdout);
}

async function* chunks(bytes: Buffer, size = 4096): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function all(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

function children(): string[] {
  return execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .map((c) => c.trim())
    .filter((c) => /^(xz|zstd|bzip2)$/.test(c));
}

describe('sniffCompression', () => {
  it('names each codec by its magic number, and anything else as none', async () => {
    for (const kind of ['gzip', 'zstd', 'xz', 'bzip2'] as const) expect(sniffCompression(await encode(kind))).toBe(kind);
    expect(sniffCompression(Buffer.from('ustar\0'))).toBe('none');
    expect(sniffCompression(new Uint8Array())).toBe('none');
    // Each byte of each magic number counts.
    expect(sniffCompression(Buffer.from([0x1f, 0x8c]))).toBe('none');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfe]))).toBe('none');
    expect(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x01]))).toBe('none');
    expect(sniffCompression(Buffer.from([0x42, 0x5a, 0x69]))).toBe('none');
    expect(SNIFF_BYTES).toBe(6);
  });
});

describe('decompress', () => {
  it.each(['gzip', 'zstd', 'xz', 'bzip2', 'none'] as const)('decodes %s as a stream, and leaves no child', async (kind) => {
    expect(await all(decoded(chunks(await encode(kind)), kind))).toEqual(TEXT);
    expect(children()).toEqual([]);
  });

  it('reports a failure the decoder finds after its last output byte', async () => {
    const xz = await encode('xz');
    const truncated = xz.subarray(0, xz.length - 12); // the stream footer: every block decodes, then xz fails
    const failure = await all(decoded(chunks(truncated), 'xz')).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DecoderError);
    expect(isDecoderError(failure)).toBe(true);
    expect(failure).toMatchObject({ tool: 'xz', exitCode: 1 });
    expect((failure as Error).message).toMatch(/^xz failed: .*Unexpected end of input/);
    const bz = await encode('bzip2');
    await expect(all(decoded(chunks(bz.subarray(0, bz.length - 4)), 'bzip2'))).rejects.toThrow(/^bzip2 failed: /);
  });

  it('kills and reaps a child whose reader stops early, its pipe full', async () => {
    const big = await encode('xz', Buffer.alloc(64 * 1024 * 1024));
    const d = decompress(chunks(big), 'xz');
    for await (const part of d.output) {
      expect(part.length).toBeGreaterThan(0);
      break;
    }
    expect(children()).toEqual(['xz']);
    await d.close();
    expect(children()).toEqual([]);
    // Leaving the generator early closes it the same way.
    const early = decoded(chunks(await encode('zstd', Buffer.alloc(64 * 1024 * 1024))), 'zstd');
    await early.next();
    await early.return(undefined);
    expect(children()).toEqual([]);
  });

  it('stops the child when the source fails, and reports the source error', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield (await encode('xz')).subarray(0, 100);
      throw new Error('the blob stream broke');
    }
    await expect(all(decoded(failing(), 'xz'))).rejects.toThrow('the blob stream broke');
    expect(children()).toEqual([]);
  });

  it('runs xz under its memory bound', async () => {
    const dict = Buffer.from((await execa('xz', ['-c', '--lzma2=dict=32MiB'], { input: TEXT, encoding: 'buffer' })).stdout);
    await expect(all(decoded(chunks(dict), 'xz', { xzMemory: 8 * 1024 * 1024 }))).rejects.toThrow(/xz failed: .*Memory usage limit reached/);
    expect(await all(decoded(chunks(dict), 'xz'))).toEqual(TEXT);
    expect(memoryBound('xz')).toBe(DEFAULT_XZ_MEMORY);
    expect(DEFAULT_XZ_MEMORY).toBe(256 * 1024 * 1024);
    expect(memoryBound('xz', { xzMemory: 5 })).toBe(5);
    expect(memoryBound('zstd')).toBe(128 * 1024 * 1024);
    expect(memoryBound('zstd', { zstd: { maxWindow: 7 } })).toBe(7);
    expect(memoryBound('bzip2')).toBe(4 * 1024 * 1024);
    expect(memoryBound('gzip')).toBe(256 * 1024);
    expect(memoryBound('none')).toBe(256 * 1024);
  });

  it('refuses a zstd window above its bound, with data and no command-line flag in the message', async () => {
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa7, 0, 0, 0]); // window descriptor 0xa7: 2^30 + 7/8 of it
    const failure = (await all(decoded(chunks(frame), 'zstd')).catch((e: unknown) => e)) as ZstdWindowError;
    expect(failure).toBeInstanceOf(ZstdWindowError);
    expect(failure.message).toBe('a zstd frame needs a 1920 MiB window, above the 128 MiB limit');
    expect([failure.window, failure.limit]).toEqual([1920 * 2 ** 20, 128 * 2 ** 20]);
    expect(children()).toEqual([]);
  });
});

describe('stderrSummary', () => {
  it('keeps the first two non-empty lines, trimmed, on one line', () => {
    expect(stderrSummary('  xz: (stdin): Memory usage limit reached \n\n xz: 33 MiB of memory is required\nxz: more\n')).toBe('xz: (stdin): Memory usage limit reached; xz: 33 MiB of memory is required');
    expect(stderrSummary(undefined)).toBe('');
    expect(new DecoderError('xz', 2, '').message).toBe('xz failed: exit 2');
    expect(new DecoderError('xz', 1, 'bad').name).toBe('DecoderError');
  });
});
