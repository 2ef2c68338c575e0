import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPlatform, isIndexMediaType, sha256Digest, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../../core/oci.js';
import { childrenFor, platformOfConfig } from './select-platform.js';
import type { ImageSource, SourceImage } from './types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

/** Reads blobs by digest from somewhere (a layout folder, an archive), verifying small ones as it reads them. */
export interface BlobStore {
  readJson(digest: string): Promise<unknown>;
  open(digest: string): import('node:stream').Readable;
}

class DirectoryBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}
  private path(digest: string): string {
    const [alg, hex] = digest.split(':');
    return join(this.dir, 'blobs', alg!, hex!);
  }
  async readJson(digest: string): Promise<unknown> {
    const bytes = await readFile(this.path(digest));
    if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) throw new Error(`${this.dir}: blob ${digest} is corrupt (content hash differs)`);
    return JSON.parse(bytes.toString('utf8'));
  }
  open(digest: string) {
    return createReadStream(this.path(digest), { highWaterMark: 1024 * 1024 });
  }
}

/** Images of an OCI layout, picking the index.json entry by ref name when given. */
export async function layoutImages(store: BlobStore, topIndex: ImageIndex, label: string, refName: string | undefined, platform?: Platform): Promise<SourceImage[]> {
  let candidates = topIndex.manifests;
  if (refName) candidates = candidates.filter((d) => d.annotations?.[REF_NAME] === refName);
  if (candidates.length === 0) throw new Error(`${label} has no image${refName ? ` named ${refName}` : ''}`);
  if (candidates.length > 1 && !refName) {
    const names = candidates.map((d) => d.annotations?.[REF_NAME] ?? d.digest).join(', ');
    throw new Error(`${label} holds several images (${names}): name one as ${label}:<ref>`);
  }
  return expand(store, candidates[0]!, label, platform);
}

async function expand(store: BlobStore, desc: Descriptor, label: string, platform?: Platform): Promise<SourceImage[]> {
  if (isIndexMediaType(desc.mediaType)) {
    const index = (await store.readJson(desc.digest)) as ImageIndex;
    const out: SourceImage[] = [];
    for (const child of childrenFor(index, platform, label)) out.push(...(await expand(store, child, label, platform)));
    return out;
  }
  const manifest = (await store.readJson(desc.digest)) as ImageManifest;
  const config = (await store.readJson(manifest.config.digest)) as ImageConfig;
  const p = platformOfConfig(config);
  return [
    {
      description: `${label} (${formatPlatform(p)}, ${desc.digest.slice(0, 19)})`,
      digest: desc.digest,
      manifest,
      config,
      platform: p,
      verifiesLayers: false,
      openLayer: (layer) => store.open(layer.digest),
    },
  ];
}

export class OciLayoutSource implements ImageSource {
  readonly label: string;
  constructor(
    private readonly dir: string,
    private readonly refName?: string,
  ) {
    this.label = `oci:${dir}${refName ? `:${refName}` : ''}`;
  }
  async images(platform?: Platform): Promise<SourceImage[]> {
    const text = await readFile(join(this.dir, 'index.json'), 'utf8').catch(() => {
      throw new Error(`${this.dir} is not an OCI image layout (no index.json)`);
    });
    return layoutImages(new DirectoryBlobStore(this.dir), JSON.parse(text) as ImageIndex, this.label, this.refName, platform);
  }
}
