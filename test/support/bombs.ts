/**
 * Hostile layers, generated as streams (never whole in memory) straight into an OCI layout: millions of entries,
 * a zstd frame asking for a 1.875 GiB window, gigabytes of zstd RLE zeros, and so on. Used by
 * test/integration/check-bombs.test.ts, which runs `check` on them in a child process and measures its peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MediaType, sha256Digest } from '../../src/core/oci.js';
import { END, header, type RawHeader } from './tar-corpus.js';

const BLOCK = 512;
const PER_CHUNK = 2048;

/**
 * `count` headers built from one template (only the name and checksum change), yielded in 1 MiB chunks:
 * millions of entries in a few seconds.
 */
export function* manyHeaders(count: number, template: Omit<RawHeader, 'name'>, name: (i: number) => string): Generator<Buffer> {
  const base = header({ ...template, name: '' });
  base.fill(0x20, 148, 156);
  let baseSum = 0;
  for (const b of base) baseSum += b;
  for (let start = 0; start < count; start += PER_CHUNK) {
    const n = Math.min(PER_CHUNK, count - start);
    const chunk = Buffer.allocUnsafe(n * BLOCK);
    for (let k = 0; k < n; k++) {
      const at = k * BLOCK;
      base.copy(chunk, at);
      const text = name(start + k);
      chunk.write(text, at, 100, 'latin1');
      let sum = baseSum;
      for (let j = 0; j < text.length; j++) sum += text.charCodeAt(j);
      chunk.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 8, 'latin1');
    }
    yield chunk;
  }
}

export type LayerCompression = 'gzip' | 'zstd-raw';

export interface StreamedLayer {
  /** The tar (gzip compresses it) or, for zstd-raw, the compressed bytes themselves. */
  chunks: () => Iterable<Buffer>;
  compression: LayerCompression;
}

/** Write layers from generators into an OCI layout, hashing as they stream; the image is named `bomb`. */
export async function writeStreamedLayout(dir: string, layers: StreamedLayer[]): Promise<void> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const descs = [];
  const diffIds = [];
  for (const [i, layer] of layers.entries()) {
    const tarHash = createHash('sha256');
    const blobHash = createHash('sha256');
    let size = 0;
    const tmp = join(dir, `layer${i}.tmp`);
    const tap = (hash: ReturnType<typeof createHash>, count: boolean) =>
      new Transform({
        transform(chunk: Buffer, _e, done) {
          hash.update(chunk);
          if (count) size += chunk.length;
          done(null, chunk);
        },
      });
    const source = Readable.from(layer.chunks(), { objectMode: false });
    if (layer.compression === 'gzip') await pipeline(source, tap(tarHash, false), createGzip({ level: 1 }), tap(blobHash, true), createWriteStream(tmp));
    else await pipeline(source, tap(blobHash, true), createWriteStream(tmp));
    const digest = `sha256:${blobHash.digest('hex')}`;
    renameSync(tmp, join(dir, 'blobs', 'sha256', digest.slice(7)));
    descs.push({ mediaType: layer.compression === 'gzip' ? MediaType.OciLayerGzip : MediaType.OciLayerZstd, digest, size });
    diffIds.push(layer.compression === 'gzip' ? `sha256:${tarHash.digest('hex')}` : digest);
  }
  const blob = (bytes: Buffer) => {
    const digest = sha256Digest(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } })));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, ...config }, layers: descs }));
  const m = blob(manifest);
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaType.OciManifest, ...m, annotations: { 'org.opencontainers.image.ref.name': 'bomb' } }] }));
}

/** A zstd frame header (no checksum, no dictionary) with the window descriptor `wd` (window 2^(10+wd>>3) * (1 + (wd&7)/8)). */
function zstdFrameHeader(wd: number): Buffer {
  return Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, wd]);
}
const blockHeader = (last: boolean, type: number, size: number) => {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
};

/** A valid zstd frame whose window is 1.875 GiB (the decoder must hold the window in memory). */
export function* hugeWindowZstd(): Generator<Buffer> {
  yield zstdFrameHeader((20 << 3) | 7);
  yield blockHeader(true, 0, 0);
}

/**
 * A tar of one file of `bytes` zeros, then the end marker, as zstd: the header in a raw block, every zero in RLE
 * blocks of 128 KiB (4 bytes each), 8 MiB window. 2 GiB of content is 64 KiB compressed.
 */
export function* zstdRleZeros(bytes: number): Generator<Buffer> {
  const tarHeader = header({ name: 'usr/share/zeros', mode: 0o644, size: bytes });
  yield zstdFrameHeader(13 << 3);
  yield blockHeader(false, 0, BLOCK);
  yield tarHeader;
  let left = bytes + END.length;
  const RLE = 128 * 1024;
  const blocks: Buffer[] = [];
  while (left > 0) {
    const n = Math.min(RLE, left);
    left -= n;
    blocks.push(blockHeader(left === 0, 1, n), Buffer.from([0]));
    if (blocks.length >= 4096) yield Buffer.concat(blocks.splice(0));
  }
  yield Buffer.concat(blocks);
}

export interface ChildRun {
  code: number;
  stdout: string;
  stderr: string;
  peakRssMB: number;
  seconds: number;
}

/** Run the built CLI (dist/, built by the global setup) under GNU time: exit code, output, peak RSS. */
export function runCheckChild(args: string[], env: NodeJS.ProcessEnv = {}): ChildRun {
  const cli = join(import.meta.dirname, '../../bin/builder-images.js');
  const start = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', 'node', cli, 'check', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26, timeout: 240_000 });
  const seconds = (Date.now() - start) / 1000;
  const match = /PEAK_RSS_KB=(\d+)\s*$/.exec(r.stderr);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/PEAK_RSS_KB=\d+\s*$/, ''), peakRssMB: match ? (Number(match[1]) * 1024) / 1e6 : NaN, seconds };
}
