import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { createGunzip } from 'node:zlib';
import { formatPlatform, MediaType, sha256Digest, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../../core/oci.js';
import { layoutImages, type BlobStore } from './oci-layout.js';
import { UsageError } from '../../errors.js';
import { platformOfConfig } from './select-platform.js';
import type { ImageSource, SourceImage } from './types.js';

/** Entries up to this size are kept in memory on the first pass (manifests, configs, index files). */
const SMALL = 4 * 1024 * 1024;

const clean = (name: string) => name.replace(/^\.\//, '');

function archiveStream(file: string): Readable {
  const raw = createReadStream(file, { highWaterMark: 1024 * 1024 });
  return /\.(tgz|tar\.gz)$/.test(file) ? raw.pipe(createGunzip()) : raw;
}

/** First pass: the small entries by name; large ones (layers) are read later, one streaming pass each. */
async function scanSmallEntries(file: string): Promise<Map<string, Buffer>> {
  const small = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const keep = header.type === 'file' && (header.size ?? 0) <= SMALL;
    const parts: Buffer[] = [];
    stream.on('data', (c: unknown) => keep && parts.push(c as Buffer));
    stream.on('end', () => {
      if (keep) small.set(clean(header.name), Buffer.concat(parts));
      next();
    });
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    const input = archiveStream(file);
    input.on('error', reject);
    input.pipe(extract);
  });
  return small;
}

/** Stream one entry of the archive without unpacking anything else. */
function openEntry(file: string, name: string, small: Map<string, Buffer>): Readable {
  const cached = small.get(name);
  if (cached) {
    const out = new PassThrough();
    out.end(cached);
    return out;
  }
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  const extract = tar.extract();
  const input = archiveStream(file);
  let found = false;
  extract.on('entry', (header, stream, next) => {
    if (clean(header.name) !== name) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    found = true;
    stream.pipe(out);
    stream.on('end', () => {
      input.destroy();
      extract.destroy();
    });
  });
  extract.on('finish', () => found || out.destroy(new Error(`${file} has no entry ${name}`)));
  extract.on('error', (err) => found || out.destroy(err));
  input.on('error', (err) => out.destroy(err));
  input.pipe(extract);
  return out;
}

class ArchiveBlobStore implements BlobStore {
  constructor(
    private readonly file: string,
    private readonly small: Map<string, Buffer>,
  ) {}
  private name(digest: string) {
    const [alg, hex] = digest.split(':');
    return `blobs/${alg}/${hex}`;
  }
  async readJson(digest: string): Promise<unknown> {
    const bytes = this.small.get(this.name(digest));
    if (!bytes) throw new Error(`${this.file} has no blob ${digest}`);
    if (digest.startsWith('sha256:') && sha256Digest(bytes) !== digest) throw new Error(`${this.file}: blob ${digest} is corrupt`);
    return JSON.parse(bytes.toString('utf8'));
  }
  open(digest: string): Readable {
    return openEntry(this.file, this.name(digest), this.small);
  }
}

interface LegacyEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** A `docker save` / `podman save` archive: OCI layout inside the tar, or the legacy manifest.json format. */
export class DockerArchiveSource implements ImageSource {
  readonly label: string;
  constructor(
    private readonly file: string,
    private readonly tag?: string,
  ) {
    this.label = `docker-archive:${file}${tag ? `:${tag}` : ''}`;
  }

  async images(platform?: Platform): Promise<SourceImage[]> {
    const small = await scanSmallEntries(this.file);
    const legacy = small.get('manifest.json');
    const index = small.get('index.json');
    if (legacy && (!index || this.tag)) return this.legacyImages(JSON.parse(legacy.toString('utf8')) as LegacyEntry[], small);
    if (index) return layoutImages(new ArchiveBlobStore(this.file, small), JSON.parse(index.toString('utf8')) as ImageIndex, this.label, undefined, platform);
    throw new UsageError(`${this.file} is not a docker save archive (no manifest.json or index.json): give the file \`docker save -o FILE IMAGE\` wrote`);
  }

  private legacyImages(entries: LegacyEntry[], small: Map<string, Buffer>): SourceImage[] {
    const chosen = this.tag ? entries.filter((e) => e.RepoTags?.some((t) => t === this.tag || t.endsWith(`/${this.tag}`))) : entries;
    if (chosen.length !== 1) {
      const names = entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'untagged images';
      throw new UsageError(`${this.label} ${chosen.length === 0 ? 'has no such image' : 'holds several images'} (${names}): name one as docker-archive:FILE:TAG`);
    }
    const entry = chosen[0]!;
    const configBytes = small.get(clean(entry.Config));
    if (!configBytes) throw new Error(`${this.file}: config ${entry.Config} is missing`);
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const diffIds = config.rootfs?.diff_ids ?? [];
    // Legacy archives store layers uncompressed: each blob's digest is its diff_id.
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: sha256Digest(configBytes), size: configBytes.length },
      layers: entry.Layers.map((_, i) => ({ mediaType: MediaType.OciLayer, digest: diffIds[i] ?? '', size: -1 })),
    };
    const p = platformOfConfig(config);
    return [
      {
        description: `${this.label} (${formatPlatform(p)})`,
        digest: manifest.config.digest,
        manifest,
        config,
        platform: p,
        verifiesLayers: false,
        openLayer: (_layer, i) => openEntry(this.file, clean(entry.Layers[i]!), small),
      },
    ];
  }
}
