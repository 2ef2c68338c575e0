import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { assertDigest, matchesDigest } from '../../core/digest.js';
import { formatPlatform, MediaType, parseImageConfig, sha256Digest, type ImageIndex, type ImageManifest, type Platform } from '../../core/oci.js';
import { BLOCK, TarFormatError, TarReader, type TarEntry } from '../../core/tar.js';
import { layoutImages, type BlobStore } from './oci-layout.js';
import { UsageError } from '../../errors.js';
import { platformOfConfig } from './select-platform.js';
import type { ImageSource, SourceImage } from './types.js';

/** Manifests, configs and index files larger than this are refused. */
const MAX_JSON_BLOB = 4 * 1024 * 1024;
/** A `docker save` archive holds a few entries per layer; more than this is not one. */
const MAX_ARCHIVE_ENTRIES = 100_000;

const clean = (name: string) => name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** Where an entry's content sits in the (uncompressed) archive stream; links keep their target. */
interface ArchiveEntry {
  offset: number;
  size: number;
  link?: string;
}

const gzipped = (file: string) => /\.(tgz|tar\.gz)$/.test(file);

/**
 * Index the archive: every entry's name, offset and size, from the headers alone. A plain tar is read a header at
 * a time, jumping over contents (layers are never read here); a gzip one is streamed once, contents skipped.
 */
async function indexArchive(file: string): Promise<Map<string, ArchiveEntry>> {
  const entries = new Map<string, ArchiveEntry>();
  const sink = {
    entry(t: TarEntry): number {
      if (entries.size >= MAX_ARCHIVE_ENTRIES) throw new UsageError(`${file} has more than ${MAX_ARCHIVE_ENTRIES} entries: it is not a docker save archive (give the file \`docker save -o FILE IMAGE\` wrote)`);
      const name = clean(t.name);
      if (t.type === 'file') entries.set(name, { offset: reader.offset, size: t.size });
      else if (t.type === 'symlink' || t.type === 'hardlink') entries.set(name, { offset: 0, size: 0, link: t.type === 'symlink' ? joinRelative(name, t.linkname) : clean(t.linkname) });
      return 0;
    },
    data() {},
    entryEnd() {},
  };
  const reader = new TarReader(sink); // the sink reads reader.offset only once entries come
  try {
    if (gzipped(file)) {
      for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(createGunzip())) {
        reader.push(chunk as Buffer);
        if (reader.done) break;
      }
    } else {
      scanPlainTar(file, reader);
    }
    reader.end();
  } catch (err) {
    if (err instanceof TarFormatError) throw new UsageError(`${file} is not a valid tar: ${err.message}: give the file \`docker save -o FILE IMAGE\` wrote`);
    throw err;
  }
  return entries;
}

/** Headers only: read a block, and jump over every content the reader does not need. */
function scanPlainTar(file: string, reader: TarReader): void {
  const fd = openSync(file, 'r');
  try {
    const block = Buffer.alloc(BLOCK);
    let position = 0;
    while (!reader.done) {
      position += reader.skipContent();
      const n = readSync(fd, block, 0, BLOCK, position);
      if (n === 0) return;
      position += n;
      reader.push(block.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

function joinRelative(from: string, target: string): string {
  if (target.startsWith('/')) return clean(target.slice(1));
  const parts = from.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

/** One entry's content as a stream, following archive links (docker save links shared layers). */
function openEntry(file: string, entries: Map<string, ArchiveEntry>, name: string): Readable {
  let entry = entries.get(name);
  for (let hops = 0; entry?.link !== undefined && hops < 8; hops++) entry = entries.get(entry.link);
  if (!entry || entry.link !== undefined) throw new Error(`${file} has no entry ${name}`);
  const { offset, size } = entry;
  if (!gzipped(file)) return size === 0 ? Readable.from([]) : createReadStream(file, { start: offset, end: offset + size - 1, highWaterMark: 1024 * 1024 });
  return Readable.from(sliceOfStream(createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(createGunzip()), offset, size), { objectMode: false });
}

/** Bytes [offset, offset + size) of a stream, which is destroyed once they are out. */
async function* sliceOfStream(stream: Readable, offset: number, size: number): AsyncGenerator<Buffer> {
  let position = 0;
  let left = size;
  try {
    for await (const raw of stream) {
      const chunk = raw as Buffer;
      const end = position + chunk.length;
      if (end > offset && left > 0) {
        const part = chunk.subarray(Math.max(0, offset - position), Math.max(0, offset - position) + left);
        left -= part.length;
        yield part;
      }
      position = end;
      if (left === 0) return;
    }
    if (left > 0) throw new Error('the archive ends before the entry does');
  } finally {
    stream.destroy();
  }
}

async function readSmall(file: string, entries: Map<string, ArchiveEntry>, name: string): Promise<Buffer> {
  const entry = entries.get(name);
  if (entry && entry.size > MAX_JSON_BLOB) throw new Error(`${file}: ${name} is ${entry.size} bytes, more than the ${MAX_JSON_BLOB}-byte limit for a manifest or config`);
  const parts: Buffer[] = [];
  for await (const chunk of openEntry(file, entries, name)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

class ArchiveBlobStore implements BlobStore {
  constructor(
    private readonly file: string,
    private readonly entries: Map<string, ArchiveEntry>,
  ) {}
  private name(digest: string) {
    // Checked before it names an entry: a digest from the archive's index.json is outside data.
    const [alg, hex] = assertDigest(digest, this.file).split(':');
    return `blobs/${alg}/${hex}`;
  }
  async readJson(digest: string): Promise<unknown> {
    if (!this.entries.has(this.name(digest))) throw new Error(`${this.file} has no blob ${digest}`);
    const bytes = await readSmall(this.file, this.entries, this.name(digest));
    if (!matchesDigest(bytes, digest)) throw new Error(`${this.file}: blob ${digest} is corrupt`);
    return JSON.parse(bytes.toString('utf8'));
  }
  open(digest: string): Readable {
    return openEntry(this.file, this.entries, this.name(digest));
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
    const entries = await indexArchive(this.file);
    const json = async (name: string) => JSON.parse((await readSmall(this.file, entries, name)).toString('utf8')) as unknown;
    const hasLegacy = entries.has('manifest.json');
    const hasIndex = entries.has('index.json');
    if (hasLegacy && (!hasIndex || this.tag)) return this.legacyImages((await json('manifest.json')) as LegacyEntry[], entries);
    if (hasIndex) return layoutImages(new ArchiveBlobStore(this.file, entries), (await json('index.json')) as ImageIndex, this.label, undefined, platform);
    throw new UsageError(`${this.file} is not a docker save archive (no manifest.json or index.json): give the file \`docker save -o FILE IMAGE\` wrote`);
  }

  private async legacyImages(list: LegacyEntry[], entries: Map<string, ArchiveEntry>): Promise<SourceImage[]> {
    const chosen = this.tag ? list.filter((e) => e.RepoTags?.some((t) => t === this.tag || t.endsWith(`/${this.tag}`))) : list;
    if (chosen.length !== 1) {
      const names = list.flatMap((e) => e.RepoTags ?? []).join(', ') || 'untagged images';
      throw new UsageError(`${this.label} ${chosen.length === 0 ? 'has no such image' : 'holds several images'} (${names}): name one as docker-archive:FILE:TAG`);
    }
    const entry = chosen[0]!;
    if (!entries.has(clean(entry.Config))) throw new Error(`${this.file}: config ${entry.Config} is missing`);
    const configBytes = await readSmall(this.file, entries, clean(entry.Config));
    const config = parseImageConfig(configBytes, `${this.file}: config ${entry.Config}`);
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
        openLayer: (_layer, i) => openEntry(this.file, entries, clean(entry.Layers[i]!)),
      },
    ];
  }
}
