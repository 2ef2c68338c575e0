/**
 * Read one layer blob as a stream of metadata entries, in a single pass: detect the compression (gzip via zlib,
 * zstd via ./zstd.ts, or plain tar) by its magic bytes, hash the blob as it flows and compare with its digest,
 * parse the tar strictly as Go's archive/tar does (core/tar.ts), and hand entries over in batches as they come,
 * waiting when the consumer asks it to (backpressure). Only headers, the first bytes of files that may be
 * executables and the first 4 KiB of os-release are kept; file bodies are skipped, never stored: memory stays
 * bounded whatever the layer holds.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { asBuffer } from '../../util/bytes.js';
import { ELF_HEAD_BYTES } from '../../core/elf.js';
import { OS_RELEASE_MAX_BYTES, OS_RELEASE_PATHS } from '../../core/driver-contract.js';
import { normalizePath, type LayerEntry } from '../../core/filetree.js';
import { TarFormatError, TarReader, type TarEntry } from '../../core/tar.js';
import { decompress, sniffCompression } from '../compress/decompress.js';
import { ZstdWindowError, type ZstdOptions } from '../compress/zstd.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export class LayerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LayerError';
  }
}

/** The codecs an OCI layer may use; anything else is read as a plain tar (and fails as one). */
function detectCompression(first: Uint8Array): Compression {
  const kind = sniffCompression(first);
  return kind === 'gzip' || kind === 'zstd' ? kind : 'none';
}

export interface ReadLayerOptions {
  /** Expected digest of the blob as stored (compressed), e.g. a manifest layer digest. */
  digest?: string;
  /** Expected digest of the uncompressed tar (a config diff_id), for sources that store layers uncompressed. */
  diffId?: string;
  /** Say what this is in errors, e.g. `layer 2 of oci:/x (linux/amd64)`. */
  what?: string;
  zstd?: ZstdOptions;
  /** Entries as they are read; a returned promise holds the reader until it settles. */
  onEntries(entries: LayerEntry[]): void | Promise<void>;
}

export interface LayerRead {
  entries: number;
  compression: Compression;
  compressedBytes: number;
  uncompressedBytes: number;
}

/** The text files the check reads whole (os-release tells the distro), as tar paths without the leading /. */
const CONTENT_FILES = new Set<string>(OS_RELEASE_PATHS.map((p) => p.slice(1)));

/** How many of an entry's first bytes to keep: possible executables' ELF head, the content files' text. */
export function headBytesOf(t: Pick<TarEntry, 'name' | 'type' | 'mode' | 'size'>): number {
  if (t.type !== 'file' || t.size <= 0) return 0;
  if (t.name.endsWith('os-release') && CONTENT_FILES.has(normalizePath(t.name).join('/'))) return OS_RELEASE_MAX_BYTES;
  return (t.mode & 0o111) !== 0 ? ELF_HEAD_BYTES : 0;
}

/** Collects a tar's entries as LayerEntry values, with the head bytes of possible executables. */
class EntryCollector {
  batch: LayerEntry[] = [];
  count = 0;
  private current: LayerEntry | undefined;
  private head: Buffer[] = [];

  entry(t: TarEntry): number {
    const entry: LayerEntry = { path: t.name, type: t.type === 'file' || t.type === 'dir' || t.type === 'symlink' || t.type === 'hardlink' ? t.type : 'other', mode: t.mode, size: t.size, uid: t.uid, gid: t.gid };
    if (t.type === 'symlink' || t.type === 'hardlink') entry.linkname = t.linkname;
    this.current = entry;
    this.head = [];
    return headBytesOf(t);
  }
  data(bytes: Uint8Array): void {
    this.head.push(Buffer.from(bytes));
  }
  entryEnd(): void {
    const entry = this.current!;
    if (this.head.length) entry.head = new Uint8Array(Buffer.concat(this.head));
    this.batch.push(entry);
    this.count++;
    this.current = undefined;
  }
  take(): LayerEntry[] {
    const out = this.batch;
    this.batch = [];
    return out;
  }
}

/** Stream a layer blob once, handing its entries over as they come; a bad digest, tar or stream throws. */
export async function readLayer(blob: Readable, options: ReadLayerOptions): Promise<LayerRead> {
  const what = options.what ?? `layer ${options.digest ?? ''}`.trim();
  const blobHash = options.digest ? createHash(options.digest.split(':')[0] === 'sha512' ? 'sha512' : 'sha256') : undefined;
  const tarHash = options.diffId ? createHash('sha256') : undefined;
  const iterator = blob[Symbol.asyncIterator]();
  let compressedBytes = 0;
  let uncompressedBytes = 0;

  const first = await iterator.next();
  const firstChunk: Buffer | undefined = first.done ? undefined : asBuffer(first.value as Uint8Array);
  const compression = firstChunk ? detectCompression(firstChunk) : 'none';

  let sourceFailed = false;
  async function* hashed(): AsyncGenerator<Buffer> {
    if (firstChunk) {
      blobHash?.update(firstChunk);
      compressedBytes += firstChunk.length;
      yield firstChunk;
    }
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (err) {
        sourceFailed = true;
        throw err;
      }
      if (next.done) return;
      const chunk = asBuffer(next.value as Uint8Array);
      blobHash?.update(chunk);
      compressedBytes += chunk.length;
      yield chunk;
    }
  }
  const compressed = hashed();
  // The decompressor sees a view without `return`: stopping it at the tar's end leaves the rest to hash here.
  const view: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => compressed.next() }) };

  /** Once the whole blob went through the hash: what is wrong with its digest, if anything. */
  const digestProblem = (): string | undefined => {
    if (!options.digest || !blobHash) return undefined;
    const actual = `${options.digest.split(':')[0]}:${blobHash.digest('hex')}`;
    return actual === options.digest ? undefined : `${what}: content hashes to ${actual}, not its digest ${options.digest}: the layer is corrupt and was rejected`;
  };

  const collector = new EntryCollector();
  const tar = new TarReader(collector);
  let stage = 'read';
  try {
    const { output, finished, close } = decompress(view, compression, { zstd: options.zstd });
    try {
      for await (const chunk of output) {
        uncompressedBytes += chunk.length;
        tarHash?.update(chunk);
        if (tar.done) continue; // past the end-of-archive marker: only a diff_id still needs the bytes
        stage = 'parse';
        tar.push(chunk);
        stage = 'read';
        if (collector.batch.length) await options.onEntries(collector.take());
        if (tar.done && !tarHash) break;
      }
      if (!tar.done || tarHash) await finished();
    } finally {
      await close();
    }
    stage = 'parse';
    tar.end();
    if (collector.batch.length) await options.onEntries(collector.take());
    stage = 'read';
    // Whatever follows the tar in the blob is still part of the blob: hash it for the digest check.
    await drain(compressed);
  } catch (err) {
    // A corrupt blob first shows as a broken tar or stream: when its digest is known, say that it is corrupt.
    if (options.digest && blobHash && !(err instanceof LayerError)) {
      const whole = await drain(compressed).then(
        () => true,
        () => false,
      );
      const corrupt = digestProblem();
      if (whole && !sourceFailed && corrupt) throw new LayerError(corrupt, { cause: err });
    }
    blob.destroy();
    if (err instanceof TarFormatError) {
      throw new LayerError(err.kind === 'limit' ? `${what}: ${err.message}` : `${what} is not a valid tar: ${err.message}`, { cause: err });
    }
    if (err instanceof LayerError) throw err; // the consumer's own, already saying which layer
    if (err instanceof ZstdWindowError) throw new LayerError(`${what}: ${err.message}`, { cause: err });
    throw new LayerError(`${what}: cannot ${stage === 'parse' ? 'read its tar' : `read (${compression})`}: ${(err as Error).message}`, { cause: err });
  }
  const corrupt = digestProblem();
  if (corrupt) throw new LayerError(corrupt);
  if (options.diffId && tarHash) {
    const actual = `sha256:${tarHash.digest('hex')}`;
    if (actual !== options.diffId) throw new LayerError(`${what}: uncompressed content hashes to ${actual}, not its diff_id ${options.diffId}`);
  }
  return { entries: collector.count, compression, compressedBytes, uncompressedBytes };
}

async function drain(chunks: AsyncGenerator<Buffer>): Promise<void> {
  for (let next = await chunks.next(); !next.done; next = await chunks.next());
}
