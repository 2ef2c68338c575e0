/**
 * Build test images layer by layer: each layer a real tar (tar-stream), gzip- or zstd-compressed, pushed to a
 * real registry with our client or written as an OCI image layout directory.
 *
 *   const layers = [[file('usr/bin/x86_64-linux-gnu-gcc-12', elfHeader(62)), link('usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12')]];
 *   await pushLayeredImage(client, ref, layers, { arch: 'amd64', compression: 'zstd' });
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { MediaType, sha256Digest, type Descriptor, type ImageManifest } from '../../src/core/oci.js';
import type { ImageReference } from '../../src/core/reference.js';
import type { RegistryClient } from '../../src/adapters/registry/index.js';

export type TestEntry =
  | { kind: 'file'; path: string; content: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'hardlink'; path: string; target: string }
  | { kind: 'dir'; path: string };

export const file = (path: string, content: Buffer | string, mode = 0o755): TestEntry => ({ kind: 'file', path, content: Buffer.from(content), mode });
export const symlink = (path: string, target: string): TestEntry => ({ kind: 'symlink', path, target });
export const hardlink = (path: string, target: string): TestEntry => ({ kind: 'hardlink', path, target });
export const dir = (path: string): TestEntry => ({ kind: 'dir', path });
/** `.wh.<name>` deleting `path` in lower layers. */
export const whiteout = (path: string): TestEntry => {
  const i = path.lastIndexOf('/');
  return file(`${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, '', 0o644);
};
export const opaque = (dirPath: string): TestEntry => file(`${dirPath.replace(/\/$/, '')}/.wh..wh..opq`, '', 0o644);

/** A fixed mtime: the same entries make the same layer bytes (and digests) on every run. */
const mtime = new Date('2024-01-01T00:00:00Z');

export async function tarOf(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const e of entries) {
    if (e.kind === 'file') pack.entry({ name: e.path, mode: e.mode ?? 0o644, type: 'file', mtime }, e.content);
    else if (e.kind === 'dir') pack.entry({ name: e.path, type: 'directory', mode: 0o755, mtime });
    else pack.entry({ name: e.path, type: e.kind === 'symlink' ? 'symlink' : 'link', linkname: e.target, mode: 0o777, mtime });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export type Compression = 'gzip' | 'zstd' | 'none';

function compress(data: Buffer, how: Compression): { bytes: Buffer; mediaType: string } {
  if (how === 'gzip') return { bytes: gzipSync(data), mediaType: MediaType.OciLayerGzip };
  if (how === 'zstd') return { bytes: execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1 << 30 }), mediaType: MediaType.OciLayerZstd };
  return { bytes: data, mediaType: MediaType.OciLayer };
}

export interface BuiltImage {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  digest: string;
  blobs: Map<string, Buffer>;
}

/** Layers as entries (written with tar-stream) or as raw tar bytes (test/support/tar-corpus.ts). */
export async function buildLayeredImage(
  layers: (TestEntry[] | Buffer)[],
  options: { arch?: string; compression?: Compression | Compression[]; env?: string[]; labels?: Record<string, string> } = {},
): Promise<BuiltImage> {
  const blobs = new Map<string, Buffer>();
  const descs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const raw = Buffer.isBuffer(layer) ? layer : await tarOf(layer);
    const how = Array.isArray(options.compression) ? options.compression[i] ?? 'gzip' : options.compression ?? 'gzip';
    const { bytes, mediaType } = compress(raw, how);
    const digest = sha256Digest(bytes);
    blobs.set(digest, bytes);
    descs.push({ mediaType, digest, size: bytes.length });
    diffIds.push(sha256Digest(raw));
  }
  const config = Buffer.from(JSON.stringify({ architecture: options.arch ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, config: { ...(options.env ? { Env: options.env } : {}), ...(options.labels ? { Labels: options.labels } : {}) } }));
  const configDigest = sha256Digest(config);
  blobs.set(configDigest, config);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: configDigest, size: config.length }, layers: descs };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return { manifest, manifestBytes, digest: sha256Digest(manifestBytes), blobs };
}

export async function pushLayeredImage(client: RegistryClient, ref: ImageReference, layers: (TestEntry[] | Buffer)[], options: Parameters<typeof buildLayeredImage>[1] = {}): Promise<BuiltImage> {
  const image = await buildLayeredImage(layers, options);
  const repo = { registry: ref.registry, repository: ref.repository };
  for (const bytes of image.blobs.values()) await client.pushBlob(repo, bytes);
  await client.putManifest(ref, image.manifestBytes, MediaType.OciManifest);
  return image;
}

/** Write images as an OCI layout directory; each gets its ref name. */
export function writeOciLayout(dir: string, images: { image: BuiltImage; refName: string }[]): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests: Descriptor[] = [];
  for (const { image, refName } of images) {
    for (const [digest, bytes] of image.blobs) writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', image.digest.slice(7)), image.manifestBytes);
    manifests.push({ mediaType: MediaType.OciManifest, digest: image.digest, size: image.manifestBytes.length, annotations: { 'org.opencontainers.image.ref.name': refName } });
  }
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}
