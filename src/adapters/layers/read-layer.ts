/**
 * Read one layer blob into metadata entries, in a single streaming pass: detect the compression (gzip via zlib,
 * zstd via fzstd, or plain tar) by its magic bytes, hash the blob as it flows and compare with its digest, parse
 * the tar with tar-stream, and keep only headers plus the first bytes of files that may be executables. File
 * bodies are drained, never stored or written to disk: memory stays bounded whatever the layer size.
 */
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import tar from 'tar-stream';
import { asBuffer } from '../../util/bytes.js';
import { ELF_HEAD_BYTES } from '../../core/elf.js';
import type { EntryType, LayerEntry } from '../../core/filetree.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export class LayerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LayerError';
  }
}

export function detectCompression(first: Uint8Array): Compression {
  if (first[0] === 0x1f && first[1] === 0x8b) return 'gzip';
  if (first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd) return 'zstd';
  return 'none';
}

/** fzstd's streaming decoder as a Node Transform (Node 20's zlib has no zstd). */
class ZstdTransform extends Transform {
  private readonly decoder = new ZstdDecompress((chunk) => {
    this.push(Buffer.from(chunk)); // a copy: the decoder may reuse its output buffer
  });
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
  override _flush(done: TransformCallback): void {
    try {
      this.decoder.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

export function decompressor(kind: Compression): Transform {
  if (kind === 'gzip') return createGunzip({ chunkSize: 256 * 1024 });
  if (kind === 'zstd') return new ZstdTransform();
  return new PassThrough();
}

const TYPES: Record<string, EntryType | 'hardlink'> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
};

export interface ReadLayerOptions {
  /** Expected digest of the blob as stored (compressed), e.g. a manifest layer digest. */
  digest?: string;
  /** Expected digest of the uncompressed tar (a config diff_id), for sources that store layers uncompressed. */
  diffId?: string;
  /** Say what this is in errors. */
  what?: string;
}

export interface LayerRead {
  entries: LayerEntry[];
  compression: Compression;
  compressedBytes: number;
  uncompressedBytes: number;
}

/** Stream a layer blob once and return its entries; a digest mismatch or a broken stream throws. */
export async function readLayer(blob: Readable, options: ReadLayerOptions = {}): Promise<LayerRead> {
  const what = options.what ?? `layer ${options.digest ?? ''}`.trim();
  const blobHash = options.digest ? createHash(options.digest.split(':')[0] === 'sha512' ? 'sha512' : 'sha256') : undefined;
  const tarHash = options.diffId ? createHash('sha256') : undefined;
  const iterator = blob[Symbol.asyncIterator]();
  let compressedBytes = 0;
  let uncompressedBytes = 0;

  const first = await iterator.next();
  const firstChunk: Buffer | undefined = first.done ? undefined : asBuffer(first.value as Uint8Array);
  const compression = firstChunk ? detectCompression(firstChunk) : 'none';

  async function* hashed(): AsyncGenerator<Buffer> {
    if (firstChunk) {
      blobHash?.update(firstChunk);
      compressedBytes += firstChunk.length;
      yield firstChunk;
    }
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const chunk = asBuffer(next.value as Uint8Array);
      blobHash?.update(chunk);
      compressedBytes += chunk.length;
      yield chunk;
    }
  }

  const countTar = new Transform({
    transform(chunk: Buffer, _enc, done) {
      tarHash?.update(chunk);
      uncompressedBytes += chunk.length;
      done(null, chunk);
    },
  });

  const entries: LayerEntry[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const type = TYPES[header.type ?? 'file'] ?? 'other';
    const mode = header.mode ?? 0;
    const entry: LayerEntry = {
      path: header.name,
      type,
      mode,
      size: header.size ?? 0,
      uid: header.uid ?? 0,
      gid: header.gid ?? 0,
    };
    if (header.linkname) entry.linkname = header.linkname;
    const wantHead = type === 'file' && (mode & 0o111) !== 0 && (header.size ?? 0) > 0;
    const parts: Buffer[] = [];
    let got = 0;
    stream.on('data', (chunk: unknown) => {
      if (!Buffer.isBuffer(chunk)) return;
      if (wantHead && got < ELF_HEAD_BYTES) {
        const take = chunk.subarray(0, ELF_HEAD_BYTES - got);
        parts.push(Buffer.from(take));
        got += take.length;
      }
    });
    stream.on('end', () => {
      if (wantHead) entry.head = new Uint8Array(Buffer.concat(parts));
      entries.push(entry);
      next();
    });
    stream.on('error', next);
  });

  try {
    await pipeline(Readable.from(hashed()), decompressor(compression), countTar, extract);
    // Should the pipeline stop at the tar's end-of-archive blocks, hash any padding that follows too.
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const chunk = asBuffer(next.value as Uint8Array);
      blobHash?.update(chunk);
      compressedBytes += chunk.length;
    }
  } catch (err) {
    throw new LayerError(`${what}: cannot read (${compression}): ${(err as Error).message}`, { cause: err });
  }
  if (options.digest && blobHash) {
    const actual = `${options.digest.split(':')[0]}:${blobHash.digest('hex')}`;
    if (actual !== options.digest) throw new LayerError(`${what}: content hashes to ${actual}, not its digest ${options.digest}: the layer is corrupt and was rejected`);
  }
  if (options.diffId && tarHash) {
    const actual = `sha256:${tarHash.digest('hex')}`;
    if (actual !== options.diffId) throw new LayerError(`${what}: uncompressed content hashes to ${actual}, not its diff_id ${options.diffId}`);
  }
  return { entries, compression, compressedBytes, uncompressedBytes };
}
