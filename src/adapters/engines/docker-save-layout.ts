/**
 * Turn a `docker save` archive into an OCI image layout, for Docker engines without buildx (whose plain
 * `docker build` can only hand the image back through `docker save`). Legacy archives keep layers as plain tar:
 * they are gzipped here, once, streaming, so what gets pushed is what `docker push` would send.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MediaType, sha256Digest, type Descriptor, type ImageManifest } from '../../core/oci.js';
import { DockerArchiveSource } from '../sources/archive.js';

const UNCOMPRESSED = new Set<string>([MediaType.OciLayer, 'application/vnd.docker.image.rootfs.diff.tar']);

async function writeBlob(dir: string, bytes: Buffer): Promise<string> {
  const digest = sha256Digest(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return digest;
}

/** Copy one layer into the layout (gzipping plain tar), hashing what is written; returns its descriptor. */
async function writeLayer(dir: string, source: NodeJS.ReadableStream, mediaType: string, index: number): Promise<Descriptor> {
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const tmp = join(dir, 'blobs', 'sha256', `.layer-${index}.tmp`);
  const gzip = UNCOMPRESSED.has(mediaType) || !mediaType;
  if (gzip) await pipeline(source, createGzip(), count, createWriteStream(tmp));
  else await pipeline(source, count, createWriteStream(tmp));
  const digest = `sha256:${hash.digest('hex')}`;
  await rename(tmp, join(dir, 'blobs', 'sha256', digest.slice(7)));
  return { mediaType: gzip ? MediaType.OciLayerGzip : mediaType, digest, size };
}

export async function dockerArchiveToLayout(archive: string, layoutDir: string): Promise<void> {
  const [image, ...more] = await new DockerArchiveSource(archive).images();
  if (!image || more.length) throw new Error(`${archive}: expected exactly one image in the docker save archive`);
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const layers: Descriptor[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    // Legacy archives report the layers as plain tar with unknown size; an OCI archive says what it holds.
    const mediaType = layer.size < 0 ? MediaType.OciLayer : layer.mediaType;
    layers.push(await writeLayer(layoutDir, image.openLayer(layer, i), mediaType, i));
  }
  const configBytes = Buffer.from(JSON.stringify(image.config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: await writeBlob(layoutDir, configBytes), size: configBytes.length },
    layers,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ mediaType: MediaType.OciManifest, digest: await writeBlob(layoutDir, manifestBytes), size: manifestBytes.length }],
  };
  await writeFile(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(index));
}
