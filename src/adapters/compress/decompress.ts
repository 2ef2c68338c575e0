/**
 * One decompression contract for layers and packages: sniff the codec once (./sniff.ts), decode as a stream
 * with backpressure, memory bounded for every codec, children owned and reaped (./child.ts).
 *  - gzip: zlib, in process (its window is 32 KiB by design);
 *  - zstd: ./zstd.ts (frame windows checked before any decoder sees them; the binary or fzstd);
 *  - xz: the `xz` binary with `--memlimit-decompress` (an xz stream names its dictionary: a 1.5 GiB one is refused
 *    before it is allocated), single-threaded so that the limit is what it uses;
 *  - bzip2: the `bzip2` binary (at most 900 kB blocks: about 3.7 MB whatever the input; `-s` halves it).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { childDecoder, DecoderError, type Decompression } from './child.js';
import type { Compression } from './sniff.js';
import { DEFAULT_ZSTD_WINDOW, zstdDecompress, type ZstdOptions } from './zstd.js';

export { DecoderError, type Decompression } from './child.js';
export { sniffCompression, SNIFF_BYTES, type Compression } from './sniff.js';

/** xz's memory when none is given: 256 MiB, 4 times what `xz -9` needs (64 MiB dictionary). */
export const DEFAULT_XZ_MEMORY = 256 * 1024 * 1024;

export interface DecodeLimits {
  zstd?: ZstdOptions;
  /** Bytes xz may allocate (its dictionary, mostly). */
  xzMemory?: number;
}

/** The memory bound a codec runs under, in bytes (for messages and the README). */
export function memoryBound(kind: Compression, limits: DecodeLimits = {}): number {
  if (kind === 'xz') return limits.xzMemory ?? DEFAULT_XZ_MEMORY;
  if (kind === 'zstd') return limits.zstd?.maxWindow ?? DEFAULT_ZSTD_WINDOW;
  return kind === 'bzip2' ? 4 * 1024 * 1024 : 256 * 1024;
}

/** Decode `source` as `kind`: read `output`, await `finished()`, and always `close()`. */
export function decompress(source: AsyncIterable<Buffer>, kind: Compression, limits: DecodeLimits = {}): Decompression {
  switch (kind) {
    case 'gzip':
      return gunzip(source);
    case 'zstd':
      return zstdDecompress(source, limits.zstd);
    case 'xz':
      return childDecoder('xz', ['-d', '-c', '-T1', `--memlimit-decompress=${memoryBound('xz', limits)}`], source);
    case 'bzip2':
      return childDecoder('bzip2', ['-d', '-c'], source);
    default:
      return { output: source, finished: async () => {}, close: async () => {} };
  }
}

function gunzip(source: AsyncIterable<Buffer>): Decompression {
  const input = Readable.from(source, { objectMode: false, highWaterMark: 1024 * 1024 });
  const zlib = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (err) => zlib.destroy(err));
  input.pipe(zlib);
  return {
    output: zlib,
    finished: async () => {},
    close: async () => {
      input.unpipe(zlib);
      input.destroy();
      zlib.destroy();
    },
  };
}

/**
 * The decoded bytes as one async iterable that ends with the decoder's status: a failure after the last byte
 * throws after it, and leaving early (break, a throw in the consumer, `return()`) closes the decoder.
 */
export async function* decoded(source: AsyncIterable<Buffer>, kind: Compression, limits: DecodeLimits = {}): AsyncGenerator<Buffer> {
  const d = decompress(source, kind, limits);
  try {
    yield* d.output;
    await d.finished();
  } finally {
    await d.close();
  }
}

/** Whether an error came from a decoder refusing or failing (rather than from the reader of its output). */
export function isDecoderError(err: unknown): err is DecoderError {
  return err instanceof DecoderError;
}
