import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { assertDigest, digestAlgorithm, digestOf, matchesDigest } from '../../core/digest.js';
import {
  formatPlatform,
  ImageIndexSchema,
  ImageManifestSchema,
  isIndexMediaType,
  LayoutIndexSchema,
  validateDocument,
  validateImageConfig,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from '../../core/oci.js';
import { childrenFor, platformOfConfig } from './select-platform.js';
import { UsageError } from '../../errors.js';
import type { ImageSource, SourceImage } from './types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
/** index.json, manifests, indexes and configs are documents: none is read past this. */
const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** Reads blobs by digest from somewhere (a layout folder, an archive), verifying small ones as it reads them. */
export interface BlobStore {
  /** A small blob's JSON (no more than `size` bytes read when given), digest verified first. */
  readJson(digest: string, size?: number): Promise<unknown>;
  open(digest: string): import('node:stream').Readable;
}

/** A layout's blob path: only for a digest that passed the grammar, so `sha256:../../x` never names a file. */
export function blobPath(dir: string, digest: string): string {
  const [alg, hex] = assertDigest(digest, dir).split(':');
  return join(dir, 'blobs', alg!, hex!);
}

export class DirectoryBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}
  async readJson(digest: string, size?: number): Promise<unknown> {
    const path = blobPath(this.dir, digest);
    const limit = Math.min(size ?? MAX_DOCUMENT_BYTES, MAX_DOCUMENT_BYTES);
    const bytes = await readAtMost(path, limit + 1);
    if (bytes.length > limit) throw new Error(`${this.dir}: blob ${digest} is larger than ${size !== undefined ? `the ${size} bytes its descriptor gives` : `${MAX_DOCUMENT_BYTES} bytes`}`);
    if (!matchesDigest(bytes, digest)) throw new Error(`${this.dir}: blob ${digest} is corrupt (content hashes to ${digestOf(bytes, digestAlgorithm(digest))})`);
    return parseBlobJson(bytes, `${this.dir}: blob ${digest}`);
  }
  open(digest: string) {
    return createReadStream(blobPath(this.dir, digest), { highWaterMark: 1024 * 1024 });
  }
}

/** At most `limit` bytes of a file: a blob that is a device or endless never fills memory. */
async function readAtMost(path: string, limit: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let filled = 0;
    while (filled < limit) {
      const { bytesRead } = await file.read(buffer, filled, limit - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await file.close();
  }
}

/** Images of an OCI layout, picking the index.json entry by ref name when given. */
export async function layoutImages(store: BlobStore, topIndex: unknown, label: string, refName: string | undefined, platform?: Platform): Promise<SourceImage[]> {
  const top = validateDocument<ImageIndex>(LayoutIndexSchema, topIndex, `${label} index.json`, 'index');
  let candidates = top.manifests;
  if (refName) candidates = candidates.filter((d) => d.annotations?.[REF_NAME] === refName);
  if (candidates.length === 0) throw new UsageError(`${label} has no image${refName ? ` named ${refName}: name one of its org.opencontainers.image.ref.name values` : ''}`);
  if (candidates.length > 1 && !refName) {
    const names = candidates.map((d) => d.annotations?.[REF_NAME] ?? d.digest).join(', ');
    throw new UsageError(`${label} holds several images (${names}): name one as ${label}:<ref>`);
  }
  return expand(store, candidates[0]!, label, platform);
}

async function expand(store: BlobStore, desc: Descriptor, label: string, platform?: Platform): Promise<SourceImage[]> {
  const what = `${label} ${desc.digest.slice(0, 19)}`;
  if (isIndexMediaType(desc.mediaType)) {
    const index = validateDocument<ImageIndex>(ImageIndexSchema, await store.readJson(desc.digest, desc.size), what, 'index');
    const out: SourceImage[] = [];
    for (const child of childrenFor(index, platform, label)) out.push(...(await expand(store, child, label, platform)));
    return out;
  }
  const manifest = validateDocument<ImageManifest>(ImageManifestSchema, await store.readJson(desc.digest, desc.size), what, 'manifest');
  const config = validateImageConfig(await store.readJson(manifest.config.digest, manifest.config.size), `${label} config ${manifest.config.digest.slice(0, 19)}`);
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
    const file = join(this.dir, 'index.json');
    const bytes = await readAtMost(file, MAX_DOCUMENT_BYTES + 1).catch(() => {
      throw new UsageError(`${this.dir} is not an OCI image layout (no index.json): point oci: at the layout's directory`);
    });
    if (bytes.length > MAX_DOCUMENT_BYTES) throw new Error(`${file} is larger than ${MAX_DOCUMENT_BYTES} bytes: not an image index`);
    return layoutImages(new DirectoryBlobStore(this.dir), parseBlobJson(bytes, file), this.label, this.refName, platform);
  }
}

/** JSON of a layout file or blob (validated by its reader), or an error naming it. */
export function parseBlobJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new Error(`${what} is not valid JSON (${(err as Error).message})`);
  }
}
