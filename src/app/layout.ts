/**
 * Publishing an OCI image layout (what a build exports) to a registry: blobs first, skipping the ones the
 * registry has, then the exact manifest bytes under each tag.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageManifestSchema, isIndexMediaType, LayoutIndexSchema, sha256Digest, validateDocument, type ImageIndex, type ImageManifest } from '../core/oci.js';
import { blobPath, parseBlobJson } from '../adapters/sources/oci-layout.js';
import type { RegistryClient, Repository } from '../adapters/registry/index.js';

export interface LayoutManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  manifest: ImageManifest;
}


/** The single image manifest of a layout a build exported. */
export async function readLayoutManifest(dir: string): Promise<LayoutManifest> {
  const index = validateDocument<ImageIndex>(LayoutIndexSchema, parseBlobJson(await readFile(join(dir, 'index.json')), `${dir}/index.json`), `${dir}/index.json`, 'index');
  const desc = index.manifests[0];
  if (!desc || index.manifests.length !== 1 || isIndexMediaType(desc.mediaType)) {
    throw new Error(`${dir}: expected exactly one image manifest in the build output`);
  }
  const bytes = await readFile(blobPath(dir, desc.digest));
  if (sha256Digest(bytes) !== desc.digest) throw new Error(`${dir}: manifest ${desc.digest} is corrupt`);
  const manifest = validateDocument<ImageManifest>(ImageManifestSchema, parseBlobJson(bytes, `${dir}: manifest ${desc.digest}`), `${dir}: manifest ${desc.digest}`, 'manifest');
  return { digest: desc.digest, mediaType: desc.mediaType, bytes, manifest };
}

export interface UploadStats {
  blobsUploaded: number;
  blobsMounted: number;
  blobsPresent: number;
  bytesUploaded: number;
}

/**
 * Upload a layout's image under every tag; returns what moved. The manifest digest never changes. A blob the
 * registry lacks is first mounted from `mountFrom` (the base images' repositories on the same registry, as
 * `docker push` does), then uploaded.
 */
export async function uploadLayout(client: RegistryClient, dir: string, repo: Repository, tags: string[], m?: LayoutManifest, mountFrom: Repository[] = []): Promise<UploadStats & { digest: string }> {
  const manifest = m ?? (await readLayoutManifest(dir));
  const stats: UploadStats = { blobsUploaded: 0, blobsMounted: 0, blobsPresent: 0, bytesUploaded: 0 };
  const blobs = [...new Map([manifest.manifest.config, ...manifest.manifest.layers].map((b) => [b.digest, b])).values()];
  // Blobs at once (the client bounds the concurrency); the manifest only after every blob is in.
  await Promise.all(
    blobs.map(async (blob) => {
      if (await client.blobExists(repo, blob.digest)) {
        stats.blobsPresent++;
        return;
      }
      for (const source of mountFrom) {
        // A refused or failed mount (no pull right on the base, say) just means: upload it.
        if (await client.mountBlob(source, repo, blob.digest).catch(() => false)) {
          stats.blobsMounted++;
          return;
        }
      }
      await client.pushBlobStream(repo, () => createReadStream(blobPath(dir, blob.digest), { highWaterMark: 1024 * 1024 }), { digest: blob.digest, size: blob.size });
      stats.blobsUploaded++;
      stats.bytesUploaded += blob.size;
    }),
  );
  for (const tag of tags) await client.putManifest({ ...repo, tag }, manifest.bytes, manifest.mediaType);
  return { ...stats, digest: manifest.digest };
}
