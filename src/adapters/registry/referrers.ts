/**
 * OCI artifacts that refer to an image (SBOMs, provenance, verification records), as distribution-spec 1.1
 * says a client keeps them:
 *
 *   const pushed = await attachArtifact(client, subject, { artifactType, layers: [{ mediaType, bytes }] });
 *   const found = await listReferrers(client, subject, { artifactType });
 *
 * attachArtifact pushes an image manifest carrying `subject` and `artifactType` (config: the empty descriptor
 * unless one is given). A registry with the referrers API answers `OCI-Subject` and indexes it itself; otherwise
 * (Debian's distribution 2.8, GHCR, Docker Hub) the referrers index under the fallback tag `<alg>-<hex>` is read,
 * extended with the new descriptor (artifactType, annotations copied from the manifest; no duplicates) and
 * pushed back. listReferrers asks the referrers API first and reads the fallback tag when the API answers 404.
 *
 * Read-modify-write of the tag is not atomic (the registries here have no conditional PUT): two writers at once
 * may lose one entry; the artifact manifest itself stays, found again by attaching it once more.
 */
import { sha256Digest, MediaType, validateDocument, DescriptorSchema, type Descriptor, type ImageIndex } from '../../core/oci.js';
import { assertDigest } from '../../core/digest.js';
import { z } from 'zod';
import type { RegistryClient, Repository } from './client.js';
import { orAbsent, RegistryError } from './errors.js';

/** The image an artifact is about. */
export interface Subject {
  repo: Repository;
  digest: string;
  mediaType: string;
  size: number;
}

export interface ArtifactLayer {
  mediaType: string;
  bytes: Uint8Array;
  annotations?: Record<string, string>;
}

export interface Artifact {
  artifactType: string;
  /** A config blob of its own; the empty descriptor ({}) when left out, as image-spec 1.1 recommends. */
  config?: { mediaType: string; bytes: Uint8Array };
  layers: ArtifactLayer[];
  annotations?: Record<string, string>;
}

export interface AttachedArtifact {
  /** The artifact manifest's descriptor, as it appears in the referrers list. */
  descriptor: Descriptor;
  /** 'api' when the registry indexed it (OCI-Subject), else the fallback tag that was written or already held it. */
  indexedBy: 'api' | { tag: string; updated: boolean };
}

/** The empty JSON object image-spec 1.1 names for artifacts without a config. */
export const EMPTY_CONFIG = { mediaType: MediaType.OciEmpty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 } as const;
const EMPTY_BYTES = new TextEncoder().encode('{}');

/** A referrers list longer than this is refused (reading) or not extended (writing). */
export const MAX_REFERRERS = 1000;
const MAX_REFERRER_PAGES = 100;

/** The referrers tag schema: `<alg>-<ref>`, alg cut to 32 characters and ref to 64. */
export function referrersTag(digest: string): string {
  const [alg, hex] = assertDigest(digest, 'referrers subject').split(':') as [string, string];
  return `${alg.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** The artifact manifest's bytes: fixed key order, so the same artifact always has the same digest. */
export function artifactManifest(subject: Subject, artifact: Artifact, config: Descriptor, layers: Descriptor[]): Uint8Array {
  if (!artifact.artifactType) throw new RegistryError('an artifact needs an artifactType (a media type naming what it is)');
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: artifact.artifactType,
    config,
    layers,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(artifact.annotations && Object.keys(artifact.annotations).length ? { annotations: artifact.annotations } : {}),
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export async function attachArtifact(client: RegistryClient, subject: Subject, artifact: Artifact): Promise<AttachedArtifact> {
  assertDigest(subject.digest, 'referrers subject');
  const repo = subject.repo;
  const config = artifact.config
    ? await client.pushBlob(repo, artifact.config.bytes, artifact.config.mediaType)
    : (await client.blobExists(repo, EMPTY_CONFIG.digest)) ? { ...EMPTY_CONFIG } : await client.pushBlob(repo, EMPTY_BYTES, EMPTY_CONFIG.mediaType);
  const layers: Descriptor[] = [];
  for (const layer of artifact.layers) {
    const pushed = await client.pushBlob(repo, layer.bytes, layer.mediaType);
    layers.push(layer.annotations && Object.keys(layer.annotations).length ? { ...pushed, annotations: layer.annotations } : pushed);
  }
  if (layers.length === 0) layers.push({ ...EMPTY_CONFIG }); // image-spec: an artifact without content carries the empty blob
  const bytes = artifactManifest(subject, artifact, { mediaType: config.mediaType, digest: config.digest, size: config.size }, layers);
  const digest = sha256Digest(bytes);
  const answer = await client.putManifestAnswer({ ...repo, digest }, bytes, MediaType.OciManifest);
  const descriptor: Descriptor = { mediaType: MediaType.OciManifest, digest, size: bytes.length, artifactType: artifact.artifactType };
  if (artifact.annotations && Object.keys(artifact.annotations).length) descriptor.annotations = artifact.annotations;
  if (answer.ociSubject === subject.digest) return { descriptor, indexedBy: 'api' };
  const tag = referrersTag(subject.digest);
  const updated = await addToFallbackIndex(client, repo, tag, descriptor);
  return { descriptor, indexedBy: { tag, updated } };
}

/** Read the fallback index (absent: empty), add the descriptor unless it is there, push it back. */
async function addToFallbackIndex(client: RegistryClient, repo: Repository, tag: string, descriptor: Descriptor): Promise<boolean> {
  const current = await readFallbackIndex(client, repo, tag);
  const manifests = current?.manifests ?? [];
  if (manifests.some((d) => d.digest === descriptor.digest)) return false;
  if (manifests.length >= MAX_REFERRERS) {
    throw new RegistryError(`${repo.registry}/${repo.repository}:${tag}: the referrers list already holds ${manifests.length} entries (at most ${MAX_REFERRERS}); delete old artifacts before attaching more`);
  }
  const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...manifests, descriptor] };
  await client.putManifest({ ...repo, tag }, new TextEncoder().encode(JSON.stringify(index)), MediaType.OciIndex);
  return true;
}

/** The fallback tag's index, or undefined when the tag is absent; anything but an OCI index there is an error. */
async function readFallbackIndex(client: RegistryClient, repo: Repository, tag: string): Promise<ImageIndex | undefined> {
  const found = await orAbsent(client.getManifest({ ...repo, tag }));
  if (!found) return undefined;
  const where = `${repo.registry}/${repo.repository}:${tag}`;
  if (found.mediaType !== MediaType.OciIndex) {
    throw new RegistryError(`${where}: the referrers fallback tag holds a ${found.mediaType}, not an OCI image index; it is not ours to overwrite: remove or rename that tag`);
  }
  return checkedIndex(found.manifest, where);
}

const ReferrersIndexSchema = z.looseObject({ schemaVersion: z.literal(2), manifests: z.array(DescriptorSchema).max(MAX_REFERRERS, `more than ${MAX_REFERRERS} referrers`) });

function checkedIndex(value: unknown, where: string): ImageIndex {
  try {
    return validateDocument<ImageIndex>(ReferrersIndexSchema, value, where, 'referrers index');
  } catch (err) {
    throw new RegistryError((err as Error).message);
  }
}

/**
 * The descriptors of the artifacts that refer to `subject` (optionally of one artifactType), from the referrers
 * API, or from the fallback tag when the registry has no such API. None: an empty list.
 */
export async function listReferrers(client: RegistryClient, subject: Pick<Subject, 'repo' | 'digest'>, options: { artifactType?: string } = {}): Promise<Descriptor[]> {
  const fromApi = await orAbsent(readReferrersApi(client, subject, options.artifactType));
  const descriptors = fromApi ?? (await readFallbackIndex(client, subject.repo, referrersTag(subject.digest)))?.manifests ?? [];
  return options.artifactType ? descriptors.filter((d) => d.artifactType === options.artifactType) : descriptors;
}

async function readReferrersApi(client: RegistryClient, subject: Pick<Subject, 'repo' | 'digest'>, artifactType?: string): Promise<Descriptor[]> {
  const where = `referrers of ${subject.repo.registry}/${subject.repo.repository}@${subject.digest}`;
  const out: Descriptor[] = [];
  const seen = new Set<string>();
  let next: URL | undefined;
  for (let page = 0; page === 0 || next; page++) {
    if (page >= MAX_REFERRER_PAGES) throw new RegistryError(`${where}: more than ${MAX_REFERRER_PAGES} pages; refusing to follow further`);
    if (next) {
      if (seen.has(next.href)) throw new RegistryError(`${where}: the registry's Link pagination loops`);
      seen.add(next.href);
    }
    const answer = await client.getReferrersPage(subject.repo, subject.digest, { artifactType, next });
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(answer.bytes).toString('utf8'));
    } catch {
      throw new RegistryError(`${where}: the referrers API answered something that is not JSON`);
    }
    out.push(...checkedIndex(value, where).manifests);
    if (out.length > MAX_REFERRERS) throw new RegistryError(`${where}: more than ${MAX_REFERRERS} referrers`);
    next = answer.next;
  }
  return out;
}
