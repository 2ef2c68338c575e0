/**
 * Small synthetic images pushed with our own client: a config blob, N random layers, a manifest; and indexes.
 * Enough to exercise manifests, blobs, copies and digests without a build engine.
 */
import { randomBytes } from 'node:crypto';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../../src/core/oci.js';
import type { ImageReference } from '../../src/core/reference.js';
import type { RegistryClient } from '../../src/adapters/registry/index.js';

export interface PushedImage {
  digest: string;
  bytes: Uint8Array;
  manifest: ImageManifest;
}

export async function pushRandomImage(
  client: RegistryClient,
  ref: ImageReference,
  options: { layers?: number; layerSize?: number; platform?: Platform; labels?: Record<string, string> } = {},
): Promise<PushedImage> {
  const repo = { registry: ref.registry, repository: ref.repository };
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers: Descriptor[] = [];
  for (let i = 0; i < (options.layers ?? 1); i++) {
    layers.push(await client.pushBlob(repo, randomBytes(options.layerSize ?? 1024), MediaType.OciLayerGzip));
  }
  const config = Buffer.from(
    JSON.stringify({ ...platform, config: { Labels: options.labels ?? {} }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }),
  );
  const configDesc = await client.pushBlob(repo, config, MediaType.OciConfig);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await client.putManifest(ref, bytes, MediaType.OciManifest);
  return { digest, bytes, manifest };
}

export async function pushIndex(client: RegistryClient, ref: ImageReference, children: { digest: string; size: number; platform: Platform }[]): Promise<string> {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: children.map((c) => ({ mediaType: MediaType.OciManifest, digest: c.digest, size: c.size, platform: c.platform })),
  };
  return client.putManifest(ref, Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}
