/**
 * A small OCI distribution client on Node's fetch.
 *
 *   const client = new RegistryClient({ insecureRegistries, debug });
 *   await client.ping('127.0.0.1:5000');
 *   const head = await client.headManifest(ref);               // { digest, mediaType, size }
 *   const m = await client.getManifest(ref);                   // exact bytes, verified digest, parsed JSON
 *   const img = await client.getImage(ref, { os, architecture }); // index -> the platform's manifest
 *   await client.getBlob(repo, digest);                        // bytes, verified
 *   client.openBlob(repo, digest);                             // Readable, verified as it streams, resumes on cuts
 *   await client.pushBlob(repo, bytes) / pushBlobStream(repo, open, { digest, size });
 *   await client.mountBlob(from, to, digest);                  // true when mounted, false when the registry refused
 *   await client.putManifest(ref, bytes, mediaType);           // digest of the exact bytes sent
 *   await client.listTags(repo);                               // follows Link pagination
 *   await client.copy(src, dst);                               // image or index, skipping blobs that exist
 *
 * Only NotFoundError means "absent"; every other failure throws (see errors.ts).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { assertDigest, digestAlgorithm, digestOf, isDigest, matchesDigest } from '../../core/digest.js';
import {
  asImageManifest,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  matchPlatform,
  MediaType,
  parseImageConfig,
  parseManifestBytes,
  sha256Digest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
  formatPlatform,
} from '../../core/oci.js';
import { formatReference, type ImageReference } from '../../core/reference.js';
import { pullScope, pushScope } from './auth.js';
import { CredentialStore, type Credential, type CredentialSourceOptions } from '../authn/index.js';
import { DigestMismatchError, NotFoundError, orAbsent, RegistryError } from './errors.js';
import { bodyDeadlineMs, MAX_MANIFEST_BYTES, MIN_BYTES_PER_WINDOW } from '../http/guard.js';
import { Transport, type RequestSpec, type TransportOptions } from './transport.js';
import { asBuffer } from '../../util/bytes.js';

export type Repository = Pick<ImageReference, 'registry' | 'repository'>;

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

export interface Manifest extends ManifestHead {
  bytes: Uint8Array;
  manifest: ImageManifest | ImageIndex;
}

export interface Image {
  /** The single-platform manifest. */
  manifest: ImageManifest;
  digest: string;
  mediaType: string;
  /** The index it was chosen from, when the reference named one. */
  index?: { digest: string; mediaType: string };
}

export interface CopyStats {
  digest: string;
  mediaType: string;
  blobsCopied: number;
  blobsMounted: number;
  blobsSkipped: number;
  bytesCopied: number;
}

type BlobCounts = Omit<CopyStats, 'digest' | 'mediaType'>;

export interface RegistryClientOptions extends Omit<TransportOptions, 'credentials'> {
  credentials?: CredentialStore | CredentialSourceOptions;
  /** Blobs larger than this are uploaded in PATCH chunks of this size. */
  chunkSize?: number;
  /** One blob download's deadline, resumes included (default: bodyDeadlineMs of its size). */
  blobDeadlineMs?: number;
}

const OCTET = 'application/octet-stream';
/** A tag list longer than this many pages is a registry looping us, not a repository. */
const MAX_TAG_PAGES = 1000;
/** A broken blob download that brought at least this much made progress: its resume gets a full attempt budget. */
const RESUME_PROGRESS_BYTES = MIN_BYTES_PER_WINDOW;
/** Image configs are documents too: read no more than their descriptor says, and never more than this. */
const MAX_CONFIG_BYTES = MAX_MANIFEST_BYTES;
/** A blob whose size nobody gave gets the deadline of one this large. */
const MAX_UNSIZED_BLOB_BYTES = 4 * 1024 ** 3;

export class RegistryClient {
  private readonly transport: Transport;
  private readonly chunkSize: number;
  private readonly blobDeadlineMs?: number;

  constructor(options: RegistryClientOptions = {}) {
    this.blobDeadlineMs = options.blobDeadlineMs;
    // A credential helper gets the same bound as a registry answer (--timeout).
    const credentials = options.credentials instanceof CredentialStore ? options.credentials : new CredentialStore({ helperTimeoutMs: options.idleTimeoutMs, ...options.credentials });
    this.transport = new Transport({ ...options, credentials });
    this.chunkSize = options.chunkSize ?? 16 * 1024 * 1024;
  }

  /**
   * How this client reaches a registry, for a build engine that must push there as it would: the same
   * credentials (resolved from the same Docker config and helpers) and the same choice of plain HTTP.
   */
  engineAccess(registry: string): Promise<{ credential?: Credential; plainHttp: boolean }> {
    return this.transport.credentialFor(registry).then((credential) => ({ credential, plainHttp: this.transport.isPlainHttp(registry) }));
  }

  /** Check that the registry answers the v2 API (authenticating when it asks). */
  async ping(registry: string, options: { once?: boolean } = {}): Promise<void> {
    const res = await this.transport.request({ registry, method: 'GET', path: '/v2/', scopes: [], ok: [200], what: `registry ${registry}`, noRetry: options.once });
    await res.body?.cancel();
  }

  // ----- manifests

  private manifestSpec(ref: ImageReference, method: 'GET' | 'HEAD') {
    const accept = MANIFEST_ACCEPT.join(', ');
    return { registry: ref.registry, method, path: manifestPath(ref), scopes: [pullScope(ref.repository)], headers: { accept }, ok: [200], what: formatReference(ref) };
  }

  async headManifest(ref: ImageReference): Promise<ManifestHead> {
    const res = await this.transport.request(this.manifestSpec(ref, 'HEAD'));
    const digest = res.headers.get('docker-content-digest');
    const mediaType = res.headers.get('content-type')?.split(';')[0]!.trim();
    if (!digest || !mediaType) {
      // Some registries omit the digest on HEAD: read the manifest and hash its bytes.
      const full = await this.getManifest(ref);
      return { digest: full.digest, mediaType: full.mediaType, size: full.size };
    }
    if (!isDigest(digest)) throw new RegistryError(`${formatReference(ref)}: the registry answered with a malformed digest header (${JSON.stringify(digest.slice(0, 80))})`);
    if (ref.digest && digest !== ref.digest) throw new DigestMismatchError(`${formatReference(ref)}: the registry reports digest ${digest}, not the one asked for; refused`);
    // No Content-Length: Number(null) is 0.
    return { digest, mediaType, size: Number(res.headers.get('content-length')) };
  }

  async getManifest(ref: ImageReference): Promise<Manifest> {
    const what = formatReference(ref);
    const { response: res, bytes } = await this.transport.document(this.manifestSpec(ref, 'GET'), MAX_MANIFEST_BYTES);
    const digest = sha256Digest(bytes);
    // The digest is always computed from the bytes; a named or announced digest must agree with it.
    if (ref.digest && !matchesDigest(bytes, ref.digest)) {
      throw new DigestMismatchError(`${what}: the manifest's content hashes to ${digestOf(bytes, digestAlgorithm(ref.digest))}, not the requested digest`);
    }
    const announced = res.headers.get('docker-content-digest');
    if (announced && (!isDigest(announced) || !matchesDigest(bytes, announced))) {
      throw new DigestMismatchError(`${what}: the manifest's content hashes to ${digest}, the registry announced ${JSON.stringify(announced.slice(0, 80))}`);
    }
    let parsed;
    try {
      parsed = parseManifestBytes(bytes, res.headers.get('content-type') ?? undefined, what);
    } catch (err) {
      throw new RegistryError((err as Error).message);
    }
    return { digest, mediaType: parsed.mediaType, size: bytes.length, bytes, manifest: parsed.manifest };
  }

  /** The single-platform manifest for a reference: itself, or the platform's child of an index. */
  async getImage(ref: ImageReference, platform?: Platform): Promise<Image> {
    const top = await this.getManifest(ref);
    if (!isIndexMediaType(top.mediaType)) return { manifest: this.imageOf(top, ref), digest: top.digest, mediaType: top.mediaType };
    const index = top.manifest as ImageIndex;
    if (!platform) {
      const platforms = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
      throw new RegistryError(`${formatReference(ref)} is a multi-platform index (${platforms}): say which platform`);
    }
    const child = matchPlatform(index, platform);
    if (!child) {
      const platforms = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
      throw new NotFoundError(`${formatReference(ref)} has no ${formatPlatform(platform)} image (it has ${platforms})`);
    }
    const childRef = { registry: ref.registry, repository: ref.repository, digest: child.digest };
    const image = await this.getManifest(childRef);
    return { manifest: this.imageOf(image, childRef), digest: image.digest, mediaType: image.mediaType, index: { digest: top.digest, mediaType: top.mediaType } };
  }

  /** A fetched manifest that must be an image manifest (not an index), or an error naming the reference. */
  imageOf(m: Manifest, ref: ImageReference): ImageManifest {
    try {
      return asImageManifest(m, formatReference(ref));
    } catch (err) {
      throw new RegistryError((err as Error).message);
    }
  }

  /**
   * An image's config: no more bytes read than its descriptor gives (and never more than MAX_CONFIG_BYTES),
   * the digest verified, then the JSON validated.
   */
  async getConfig(repo: Repository, manifest: ImageManifest): Promise<ImageConfig> {
    const descriptor = (manifest as Partial<ImageManifest>).config;
    const where = `${repo.registry}/${repo.repository}`;
    if (!descriptor) throw new RegistryError(`${where}: the manifest has no config (is it an index?)`);
    const what = `config ${descriptor.digest} in ${where}`;
    if (descriptor.size > MAX_CONFIG_BYTES) throw new RegistryError(`${what}: its descriptor says ${descriptor.size} bytes, more than the ${MAX_CONFIG_BYTES} allowed`);
    const { bytes } = await this.transport.document(this.blobSpec(repo, descriptor.digest, 'GET', [200], what), descriptor.size);
    if (bytes.length !== descriptor.size) throw new DigestMismatchError(`${what}: got ${bytes.length} bytes, the descriptor says ${descriptor.size}`);
    if (!matchesDigest(bytes, descriptor.digest)) throw new DigestMismatchError(`${what}: content hashes to ${digestOf(bytes, digestAlgorithm(descriptor.digest))}; rejected`);
    try {
      return parseImageConfig(bytes, what);
    } catch (err) {
      throw new RegistryError((err as Error).message);
    }
  }

  private blobSpec(repo: Repository, digest: string, method: 'GET' | 'HEAD', ok: number[], what: string, headers: Record<string, string> = {}): RequestSpec {
    return { registry: repo.registry, method, path: `/v2/${repo.repository}/blobs/${safeDigest(digest, what)}`, scopes: [pullScope(repo.repository)], headers, ok, what };
  }

  /** PUT exact bytes under a tag or digest; returns the digest of the bytes sent. */
  async putManifest(ref: ImageReference, bytes: Uint8Array, mediaType: string): Promise<string> {
    return (await this.putManifestAnswer(ref, bytes, mediaType)).digest;
  }

  /**
   * putManifest, also giving the registry's `OCI-Subject` answer: a registry with the referrers API names the
   * subject it indexed; without it the pusher must keep the referrers fallback tag itself (distribution-spec 1.1).
   */
  async putManifestAnswer(ref: ImageReference, bytes: Uint8Array, mediaType: string): Promise<{ digest: string; ociSubject?: string }> {
    const digest = sha256Digest(bytes);
    const target = ref.tag ?? ref.digest ?? digest;
    const res = await this.transport.request({
      registry: ref.registry,
      method: 'PUT',
      path: `/v2/${ref.repository}/manifests/${target}`,
      scopes: [pushScope(ref.repository)],
      headers: { 'content-type': mediaType },
      body: bytes,
      ok: [200, 201, 202],
      what: `push manifest ${formatReference({ ...ref, tag: ref.tag })}`,
    });
    await res.body?.cancel();
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced !== digest) throw new DigestMismatchError(`${formatReference(ref)}: the registry stored ${announced}, we sent ${digest}`);
    const subject = res.headers.get('oci-subject');
    return subject && isDigest(subject) ? { digest, ociSubject: subject } : { digest };
  }

  /**
   * One page of the referrers API (`GET /v2/<name>/referrers/<digest>`): the index's bytes, whether the
   * registry applied the artifactType filter, and the next page's URL. A registry without the API answers 404
   * (a NotFoundError): the caller falls back to the tag schema.
   */
  async getReferrersPage(repo: Repository, digest: string, options: { artifactType?: string; next?: URL } = {}): Promise<{ bytes: Uint8Array; filtered: boolean; next?: URL }> {
    const what = `referrers of ${repo.registry}/${repo.repository}@${digest}`;
    const query = options.artifactType ? `?artifactType=${encodeURIComponent(options.artifactType)}` : '';
    const path = options.next?.href ?? `/v2/${repo.repository}/referrers/${safeDigest(digest, what)}${query}`;
    const { response, url, bytes } = await this.transport.document(
      { registry: repo.registry, method: 'GET', path, scopes: [pullScope(repo.repository)], headers: { accept: MediaType.OciIndex }, ok: [200], what },
      MAX_MANIFEST_BYTES,
    );
    const filtered = (response.headers.get('oci-filters-applied') ?? '').split(',').some((f) => f.trim() === 'artifactType');
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
    const next = link ? this.transport.resolve(repo.registry, link, url.href) : undefined;
    return next ? { bytes, filtered, next } : { bytes, filtered };
  }

  async deleteManifest(ref: ImageReference & { digest: string }): Promise<void> {
    const res = await this.transport.request({
      registry: ref.registry,
      method: 'DELETE',
      path: `/v2/${ref.repository}/manifests/${safeDigest(ref.digest, formatReference(ref))}`,
      scopes: [`repository:${ref.repository}:delete`, pushScope(ref.repository)],
      ok: [202, 200],
      what: `delete ${formatReference(ref)}`,
    });
    await res.body?.cancel();
  }

  // ----- tags

  /**
   * Every tag, following `Link` pagination. A Link is resolved against the page that gave it and keeps the
   * credentials only on the registry's origin; a page is a bounded document; a chain that repeats a URL or
   * passes MAX_TAG_PAGES stops with an error.
   */
  async listTags(repo: Repository, pageSize = 1000): Promise<string[]> {
    const what = `tags of ${repo.registry}/${repo.repository}`;
    const tags: string[] = [];
    const seen = new Set<string>();
    let next: URL | undefined = this.transport.resolve(repo.registry, `/v2/${repo.repository}/tags/list?n=${pageSize}`);
    while (next) {
      if (seen.has(next.href)) throw new RegistryError(`${what}: the registry's Link pagination loops (it sent ${redactUrl(next)} again)`);
      if (seen.size >= MAX_TAG_PAGES) throw new RegistryError(`${what}: more than ${MAX_TAG_PAGES} pages; refusing to follow the registry's Link chain further`);
      seen.add(next.href);
      const { response, url, bytes } = await this.transport.document(
        { registry: repo.registry, method: 'GET', path: next.href, scopes: [pullScope(repo.repository)], ok: [200], what },
        MAX_MANIFEST_BYTES,
      );
      tags.push(...parseTagPage(bytes, what));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
      next = link ? this.transport.resolve(repo.registry, link, url.href) : undefined;
    }
    return tags;
  }

  // ----- blobs

  async headBlob(repo: Repository, digest: string): Promise<number> {
    const res = await this.transport.request(this.blobSpec(repo, digest, 'HEAD', [200], `blob ${digest} in ${repo.registry}/${repo.repository}`));
    return Number(res.headers.get('content-length') ?? -1);
  }

  /** True when the blob is there, false when it is not; any other failure throws. */
  async blobExists(repo: Repository, digest: string): Promise<boolean> {
    return (await orAbsent(this.headBlob(repo, digest))) !== undefined;
  }

  /** A whole blob in memory (configs, small files), verified before it is returned. */
  async getBlob(repo: Repository, digest: string): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.openBlob(repo, digest)) chunks.push(chunk as Buffer);
    return new Uint8Array(Buffer.concat(chunks));
  }

  /**
   * A blob as a stream, hashed as it flows. A connection cut resumes with a Range request where the
   * registry supports it; at the end the digest (and size, when known) must match, or the stream fails:
   * consumers must treat what they read as good only when the stream ends without error.
   */
  openBlob(repo: Repository, digest: string, options: { size?: number; maxResumes?: number } = {}): Readable {
    const transport = this.transport;
    const what = `blob ${digest} in ${repo.registry}/${repo.repository}`;
    const spec = (headers: Record<string, string>) => this.blobSpec(repo, digest, 'GET', [200, 206], what, headers);
    spec({}); // a malformed digest fails here, before any request or stream exists
    const algorithm = digestAlgorithm(digest);
    // Each idle window must bring MIN_BYTES_PER_WINDOW; the whole blob must also come within its deadline, or
    // a trickle just above that floor would hold it for days.
    const deadlineMs = this.blobDeadlineMs ?? bodyDeadlineMs(options.size ?? MAX_UNSIZED_BLOB_BYTES);
    const started = performance.now();
    const late = () => performance.now() - started > deadlineMs;
    const tooLate = (offset: number) => new RegistryError(`${what}: not complete within its ${deadlineMs / 1000} s deadline (${offset} bytes came); the registry is too slow`);
    async function* generate(): AsyncGenerator<Buffer> {
      const hash = createHash(algorithm);
      let offset = 0;
      let resumes = 0;
      // One attempt budget for the whole blob, its resumes included: a registry that stalls or trickles holds
      // it no longer than the idle limit times the attempt cap. A resume that brought real data starts afresh.
      let attempts = transport.attemptBudget();
      for (;;) {
        const start = offset;
        const res = await transport.request({ ...spec(offset > 0 ? { range: `bytes=${offset}-` } : {}), attempts });
        // A registry that ignores Range starts again from byte 0: skip what we already have.
        // (At offset 0 there is nothing to skip; an empty chunk, all skipped, changes nothing downstream.)
        let skip = res.status === 200 ? offset : 0;
        try {
          for await (const raw of res.body as unknown as AsyncIterable<Uint8Array>) {
            const drop = Math.min(skip, raw.length);
            const chunk = asBuffer(raw).subarray(drop);
            skip -= drop;
            hash.update(chunk);
            offset += chunk.length;
            // Bounded by the descriptor: a registry sending an endless blob is cut off at its size. (Leaving the
            // loop by the throw cancels the body.)
            if (offset > (options.size ?? Infinity)) {
              throw new DigestMismatchError(`${what}: the registry sent more than the ${options.size} bytes the descriptor gives; rejected`);
            }
            if (late()) throw tooLate(offset);
            yield chunk;
          }
          break;
        } catch (err) {
          if (err instanceof DigestMismatchError) throw err;
          if (late()) throw err instanceof RegistryError ? err : tooLate(offset);
          // The request took this attempt from the budget; its body's stall or cut ends that attempt.
          if (offset - start >= RESUME_PROGRESS_BYTES) attempts = transport.attemptBudget();
          if (resumes >= (options.maxResumes ?? 3) || attempts.left <= 0) throw new RegistryError(`${what}: the connection broke at byte ${offset} (${(err as Error).message})`, undefined, undefined, { cause: err });
          resumes++;
        }
      }
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== digest) throw new DigestMismatchError(`${what}: content hashes to ${actual}; the blob is corrupt and was rejected`);
      if (options.size !== undefined && offset !== options.size) throw new DigestMismatchError(`${what}: got ${offset} bytes, expected ${options.size}`);
    }
    return Readable.from(generate(), { objectMode: false });
  }

  /** Upload bytes (skipped when the blob exists); returns its descriptor fields. */
  async pushBlob(repo: Repository, bytes: Uint8Array, mediaType = OCTET): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const descriptor = { mediaType, digest, size: bytes.length };
    if (await this.blobExists(repo, digest)) return descriptor;
    if (bytes.length > this.chunkSize) {
      await this.pushBlobStream(repo, () => Readable.from([Buffer.from(bytes)]), { digest, size: bytes.length });
      return descriptor;
    }
    const location = await this.startUpload(repo);
    const res = await this.transport.request({
      registry: repo.registry,
      method: 'PUT',
      path: withDigest(location, digest),
      scopes: [pushScope(repo.repository)],
      headers: { 'content-type': OCTET },
      body: bytes,
      ok: [201, 204],
      what: `upload ${digest} to ${repo.registry}/${repo.repository}`,
    });
    await res.body?.cancel();
    return descriptor;
  }

  /**
   * Upload a stream in PATCH chunks (memory bounded by the chunk size), then close with PUT ?digest=.
   * `open` gives the stream; the digest is verified by the registry on the final PUT.
   */
  async pushBlobStream(repo: Repository, open: () => Readable, blob: { digest: string; size?: number }): Promise<void> {
    let location = await this.startUpload(repo);
    const what = `upload ${blob.digest} to ${repo.registry}/${repo.repository}`;
    let offset = 0;
    try {
      for await (const chunk of chunked(open(), this.chunkSize)) {
        const res = await this.transport.request({
          registry: repo.registry,
          method: 'PATCH',
          path: location,
          scopes: [pushScope(repo.repository)],
          headers: { 'content-type': OCTET, 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
          body: chunk,
          ok: [202, 204],
          what,
        });
        await res.body?.cancel();
        location = this.transport.resolve(repo.registry, res.headers.get('location') ?? location, location).href;
        offset += chunk.length;
      }
      if (blob.size !== undefined && offset !== blob.size) throw new RegistryError(`${what}: the source gave ${offset} bytes, expected ${blob.size}`);
      const res = await this.transport.request({
        registry: repo.registry,
        method: 'PUT',
        path: withDigest(location, blob.digest),
        scopes: [pushScope(repo.repository)],
        headers: { 'content-type': OCTET, 'content-length': '0' },
        ok: [201, 204],
        what,
      });
      await res.body?.cancel();
    } catch (err) {
      await this.cancelUpload(repo, location);
      throw err;
    }
  }

  /** Cross-repository mount within one registry; false when the registry started an upload instead. */
  async mountBlob(from: Repository, to: Repository, digest: string): Promise<boolean> {
    if (from.registry !== to.registry) return false;
    safeDigest(digest, `mount into ${to.registry}/${to.repository}`);
    const res = await this.transport.request({
      registry: to.registry,
      method: 'POST',
      path: `/v2/${to.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from.repository)}`,
      scopes: [pullScope(from.repository), pushScope(to.repository)],
      ok: [201, 202],
      what: `mount ${digest} from ${from.repository} into ${to.repository}`,
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    const location = res.headers.get('location');
    if (location) await this.cancelUpload(to, this.transport.resolve(to.registry, location).href);
    return false;
  }

  // ----- copy

  /** Copy an image or an index (with every child) by digest, then tag it as `dst` says. */
  async copy(src: ImageReference, dst: ImageReference, onProgress?: (line: string) => void): Promise<CopyStats> {
    const stats: BlobCounts = { blobsCopied: 0, blobsMounted: 0, blobsSkipped: 0, bytesCopied: 0 };
    const top = await this.getManifest(src);
    await this.copyManifestContent(src, dst, top, stats, onProgress);
    await this.putManifest(dst.tag ? { ...dst, digest: undefined } : { ...dst, digest: top.digest }, top.bytes, top.mediaType);
    return { digest: top.digest, mediaType: top.mediaType, ...stats };
  }

  private async copyManifestContent(src: ImageReference, dst: ImageReference, m: Manifest, stats: BlobCounts, onProgress?: (line: string) => void): Promise<void> {
    if (isIndexMediaType(m.mediaType)) {
      for (const child of (m.manifest as ImageIndex).manifests) {
        const childSrc = { registry: src.registry, repository: src.repository, digest: child.digest };
        const childDst = { registry: dst.registry, repository: dst.repository, digest: child.digest };
        if (await this.manifestExists(childDst)) continue;
        const childManifest = await this.getManifest(childSrc);
        await this.copyManifestContent(childSrc, childDst, childManifest, stats, onProgress);
        await this.putManifest(childDst, childManifest.bytes, childManifest.mediaType);
      }
      return;
    }
    const image = m.manifest as ImageManifest;
    for (const blob of [image.config, ...image.layers]) {
      await this.copyBlob(src, dst, blob, stats);
      onProgress?.(`${blob.digest.slice(7, 19)} done (${stats.blobsCopied} copied, ${stats.blobsMounted} mounted, ${stats.blobsSkipped} present)`);
    }
  }

  private async copyBlob(src: Repository, dst: Repository, blob: Descriptor, stats: BlobCounts): Promise<void> {
    if (await this.blobExists(dst, blob.digest)) {
      stats.blobsSkipped++;
      return;
    }
    // mountBlob answers false, without a request, across registries.
    if (await this.mountBlob(src, dst, blob.digest)) {
      stats.blobsMounted++;
      return;
    }
    await this.pushBlobStream(dst, () => this.openBlob(src, blob.digest, { size: blob.size }), { digest: blob.digest, size: blob.size });
    stats.blobsCopied++;
    stats.bytesCopied += blob.size;
  }

  /** True when the manifest is there, false when it is not; any other failure throws. */
  async manifestExists(ref: ImageReference): Promise<boolean> {
    return (await orAbsent(this.headManifest(ref))) !== undefined;
  }

  // ----- upload sessions

  private async startUpload(repo: Repository): Promise<string> {
    const res = await this.transport.request({
      registry: repo.registry,
      method: 'POST',
      path: `/v2/${repo.repository}/blobs/uploads/`,
      scopes: [pushScope(repo.repository)],
      ok: [202],
      what: `start upload to ${repo.registry}/${repo.repository}`,
    });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location) throw new RegistryError(`${repo.registry} started an upload without a Location`);
    // Resolved against the registry; the transport sends credentials along only if it stays on its origin.
    return this.transport.resolve(repo.registry, location).href;
  }

  private async cancelUpload(repo: Repository, location: string): Promise<void> {
    // Best effort: every failure is swallowed, so which statuses count as success and the error text cannot matter.
    await this.transport
      .request({
        registry: repo.registry,
        method: 'DELETE',
        path: location,
        scopes: [pushScope(repo.repository)],
        // Stryker disable next-line ArrayDeclaration: a status outside the list only turns into an error, which is swallowed
        ok: [204, 200, 202, 404],
        // Stryker disable next-line StringLiteral: the text of an error that is swallowed
        what: 'cancel upload',
        noRetry: true,
      })
      .then((res) =>
        // Stryker disable next-line OptionalChaining: without a body, the TypeError is swallowed like any failure
        res.body?.cancel(),
      )
      .catch(() => undefined);
  }
}

function manifestPath(ref: ImageReference): string {
  const target = ref.digest ? safeDigest(ref.digest, formatReference(ref)) : (ref.tag ?? 'latest');
  return `/v2/${ref.repository}/manifests/${target}`;
}

/** A digest from outside, checked before it goes into a URL. */
function safeDigest(digest: string, what: string): string {
  try {
    return assertDigest(digest, what);
  } catch (err) {
    throw new RegistryError((err as Error).message);
  }
}

function parseTagPage(bytes: Uint8Array, what: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RegistryError(`${what}: the registry's tag list is not JSON`);
  }
  const tags = (body as { tags?: unknown } | null)?.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new RegistryError(`${what}: malformed tag list: tags: expected an array of strings`);
  return tags as string[];
}

/** A URL for an error message: origin and path, no query (it may hold a token). */
function redactUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Re-chunk a stream into buffers of exactly `size` bytes (the last may be shorter). */
async function* chunked(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const raw of stream) {
    let chunk = asBuffer(raw as Uint8Array);
    while (length + chunk.length >= size) {
      const take = size - length;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      length = 0;
      chunk = chunk.subarray(take);
    }
    parts.push(chunk);
    length += chunk.length;
  }
  if (length > 0) yield Buffer.concat(parts);
}
