/**
 * The `make push` pipeline, per image (with bounded concurrency, bases before their dependents):
 *   1. its content tag exists in the primary repository -> skip the build (only NotFound means absent; any
 *      other registry error stops that image) and make sure the extra version tags point at it;
 *   2. build for its platform and check it; a failing check publishes nothing. buildah and podman: check the
 *      image's mounted root in the engine's storage, then the engine pushes it and our client verifies that the
 *      registry holds the checked config; docker: export an OCI layout, check its layers, upload it ourselves;
 *   3. push the per-arch tags;
 * then, per image set with both arches, an OCI index per version, assembled from children that exist;
 * then copies by digest to every other repository. Dirty images are refused unless allowed on a loopback registry.
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import { formatArchTag, formatIndexTag, platformString, sameImageSet, type BuilderName } from '../core/names.js';
import { MediaType, type Descriptor, type ImageIndex, type Platform } from '../core/oci.js';
import { mergeImageIndex } from '../core/oci-index.js';
import { isLoopbackRegistry, parseReference, tryParseReference, type ImageReference } from '../core/reference.js';
import { pickEngine, type EngineName } from '../adapters/engines/detect.js';
import { isStorageEngine, type StorageEngine } from '../adapters/engines/local-image.js';
import { orAbsent, type RegistryClient, type Repository } from '../adapters/registry/index.js';
import { tempDir } from '../util/cleanup.js';
import { UsageError } from '../errors.js';
import { uploadLayout } from './layout.js';
import { buildAndCheckInStorage, buildImage, gitProvenance, type BuildSettings, type Provenance } from './build-image.js';
import { publishStored } from './publish-stored.js';
import { findPublished } from './published.js';
import type { Repo } from './repo.js';
import { computeTags, indexVersion, selectImages, type ImageTags, type TagScheme } from './tags.js';

export interface PushOptions {
  /** Repositories to publish to: the first is built and pushed, the others are filled by copy. */
  repositories: string[];
  engine: EngineName | 'auto';
  scheme: TagScheme;
  versions: string[];
  withRef: boolean;
  jobs: number;
  force: boolean;
  dryRun: boolean;
  allowDirty: boolean;
  /** Skip builds: only assemble indexes (and copies) from what the registry holds. */
  manifestsOnly: boolean;
  /** Build and push, but only these Dockerfiles (paths or file names). */
  only?: string[];
  buildArgs: Record<string, string>;
  builders: Record<string, string>;
  onProgress: (line: string) => void;
  /** push --verify: prove the freshly built image builds a kernel module, before anything is published. */
  verify?: VerifyHook;
}

/** Problems of a built image with kernels (empty when every build passed); see app/verify.ts verifyBuiltImage. */
export type VerifyHook = (image: { image: string; engine: EngineName; name: BuilderName; onProgress: (line: string) => void }) => Promise<string[]>;

export type ImageStatus = 'pushed' | 'skipped' | 'failed' | 'would-build' | 'would-skip';

export interface ImageOutcome {
  file: string;
  arch: string;
  tag: string;
  /** Every tag of the image (content tag first). */
  tags: string[];
  status: ImageStatus;
  digest?: string;
  message?: string;
}

export interface IndexOutcome {
  tag: string;
  status: 'pushed' | 'unchanged' | 'skipped' | 'failed' | 'would-push';
  digest?: string;
  message?: string;
}

export interface PushResult {
  images: ImageOutcome[];
  indexes: IndexOutcome[];
  copies: { repository: string; tags: number; blobsCopied: number; blobsMounted: number; failed: string[] }[];
  ok: boolean;
}

export async function runPush(repo: Repo, client: RegistryClient, options: PushOptions): Promise<PushResult> {
  const [primaryName, ...mirrors] = options.repositories;
  if (!primaryName) throw new UsageError('no repository to push to: set repositories in builder-images.yaml or pass --repo');
  const primary = toRepository(primaryName);
  const log = options.onProgress;
  const building = !options.manifestsOnly && !options.dryRun;
  // Independent start-up work at once: tags from git, the engine probe, the provenance labels, and a first
  // request to the registry (it loads Node's HTTP client while git runs; its errors are met again per image).
  const [all, pickedEngine, provenance] = await Promise.all([
    computeTags(repo, { scheme: options.scheme, versions: options.versions, withRef: options.withRef, buildArgs: options.buildArgs }),
    building ? pickEngine(options.engine) : undefined,
    building ? gitProvenance(repo.root, { source: repo.config.source }) : {},
    building ? client.ping(primary.registry, { once: true }).catch(() => undefined) : undefined,
  ]);
  const selected = selectImages(all, options.only, repo.config.imagesDir);

  const images: ImageOutcome[] = [];
  if (!options.manifestsOnly) {
    const engine = pickedEngine ?? options.engine;
    if (building) log(`engine: ${engine}`);
    const limit = pLimit(Math.max(1, options.jobs));
    const running = new Map<string, Promise<ImageOutcome>>();
    const start = (t: ImageTags): Promise<ImageOutcome> => {
      let p = running.get(t.file);
      if (!p) {
        // Bases first: a dependent builds FROM the base's freshly pushed tag.
        p = Promise.all(t.dependsOn.map((d) => selected.find((s) => s.file === d)).filter(Boolean).map((d) => start(d!))).then((deps) =>
          deps.some((d) => d.status === 'failed')
            ? { file: t.file, arch: t.name.arch, tag: t.contentTag, tags: t.tags, status: 'failed' as const, message: 'a base image it builds FROM failed' }
            : limit(() => pushImage(t, engine as EngineName, primary, client, repo, options, provenance)),
        );
        running.set(t.file, p);
      }
      return p;
    };
    images.push(...(await Promise.all(selected.map(start))));
  }

  const indexes = await pushIndexes(all, selected, primary, client, options);
  const copies = options.dryRun ? [] : await copyToMirrors(mirrors, primary, client, images, indexes, log);
  const ok = images.every((i) => i.status !== 'failed') && indexes.every((i) => i.status !== 'failed') && copies.every((c) => c.failed.length === 0);
  return { images, indexes, copies, ok };
}

function toRepository(name: string): Repository {
  const ref = parseReference(name);
  return { registry: ref.registry, repository: ref.repository };
}

async function pushImage(
  t: ImageTags,
  engine: EngineName,
  primary: Repository,
  client: RegistryClient,
  repo: Repo,
  options: PushOptions,
  provenance: Provenance,
): Promise<ImageOutcome> {
  const label = `[${t.contentTag}]`;
  const log = (line: string) => options.onProgress(`${label} ${line}`);
  const outcome = (status: ImageStatus, extra: Partial<ImageOutcome> = {}): ImageOutcome => ({ file: t.file, arch: t.name.arch, tag: t.contentTag, tags: t.tags, status, ...extra });
  try {
    if (t.dirty && !(options.allowDirty && isLoopbackRegistry(primary.registry))) {
      const why = options.allowDirty ? '--allow-dirty only pushes to a loopback registry' : 'commit or stash them, or pass --allow-dirty for a local registry';
      return outcome('failed', { message: `refusing to push a dirty image (uncommitted: ${t.dirtyPaths.join(', ') || 'a base image'}): ${why}` });
    }
    // The question plan asks too. Asked with --force as well, so a credential error stops the image before a
    // build, not after it.
    const existing = await findPublished(client, primary, t.contentTag);
    if (existing && !options.force) {
      if (options.dryRun) return outcome('would-skip', { digest: existing.digest, message: 'content tag exists' });
      await retag(client, primary, t, existing.digest);
      log(`exists (${existing.digest.slice(0, 19)}): not rebuilt`);
      return outcome('skipped', { digest: existing.digest, message: 'content tag exists' });
    }
    const platform = platformString(t.name.arch);
    if (options.dryRun) return outcome('would-build', { message: `${platform}, ${t.tags.length} tag(s)` });
    const build = { buildArgs: options.buildArgs, builders: options.builders, provenance, targetRegistry: primary.registry, onProgress: log };
    const result = isStorageEngine(engine) ? await publishThroughEngine(t, engine, build, client, primary, repo, options.verify) : await publishThroughLayout(t, engine, build, client, primary, repo, options.verify);
    if ('problems' in result) return outcome('failed', { message: `${result.stage} failed, nothing published: ${result.problems.join('; ')}` });
    return outcome('pushed', { digest: result.digest });
  } catch (err) {
    return outcome('failed', { message: (err as Error).message });
  }
}

/** An image published, or the check's problems (then nothing was published). */
type Published = { digest: string } | { problems: string[]; stage: 'check' | 'verify' };

/** Said as soon as the tags are in, before the clean-up. */
function published(t: ImageTags, build: BuildSettings, digest: string, detail: string): Published {
  build.onProgress?.(`pushed ${digest.slice(0, 19)} as ${t.tags.map((x) => x.slice(x.lastIndexOf('-') + 1)).join(', ')} (${detail})`);
  return { digest };
}

/** buildah and podman: check the image in the engine's storage, then let the engine push it. */
async function publishThroughEngine(t: ImageTags, engine: StorageEngine, build: BuildSettings, client: RegistryClient, primary: Repository, repo: Repo, verify?: VerifyHook): Promise<Published> {
  const built = await buildAndCheckInStorage(repo, t, { ...build, engine });
  try {
    if (built.problems.length) return { problems: built.problems, stage: 'check' };
    const failed = verify ? await verify({ image: built.localName, engine, name: t.name, onProgress: build.onProgress ?? (() => undefined) }) : [];
    if (failed.length) return { problems: failed, stage: 'verify' };
    build.onProgress?.(`pushing with ${engine}`);
    const { digest } = await publishStored(client, built, primary, t.contentTag, t.tags);
    return published(t, build, digest, `by ${engine}; config ${built.configDigest.slice(0, 19)} as checked through ${built.mountedWith}`);
  } finally {
    await built.remove();
  }
}

/** docker: export an OCI layout, check its layers, upload it with our client (mounting the bases' blobs). */
async function publishThroughLayout(t: ImageTags, engine: EngineName, build: BuildSettings, client: RegistryClient, primary: Repository, repo: Repo, verify?: VerifyHook): Promise<Published> {
  const work = await tempDir('bi-build-');
  try {
    const layoutDir = join(work.path, 'layout');
    const built = await buildImage(repo, t, { ...build, engine, layoutDir, check: true });
    if (built.problems?.length) return { problems: built.problems, stage: 'check' };
    // The layout is what gets published: buildah runs it straight from there (docker's copy may be gone).
    const failed = verify ? await verify({ image: `oci:${layoutDir}`, engine: 'buildah', name: t.name, onProgress: build.onProgress ?? (() => undefined) }) : [];
    if (failed.length) return { problems: failed, stage: 'verify' };
    const uploaded = await uploadLayout(client, layoutDir, primary, t.tags, built.manifest, mountSources(built.pulled, primary));
    return published(t, build, uploaded.digest, `${uploaded.blobsUploaded} blob(s) uploaded${uploaded.blobsMounted ? `, ${uploaded.blobsMounted} mounted` : ''}, ${uploaded.blobsPresent} present`);
  } finally {
    await work.remove();
  }
}

/** Repositories of the images a build pulled that live on the target's registry: their blobs can be mounted. */
function mountSources(pulled: string[], target: Repository): Repository[] {
  return pulled
    .map((image) => tryParseReference(image))
    .filter((r): r is ImageReference => r !== undefined && r.registry === target.registry && r.repository !== target.repository)
    .map((r) => ({ registry: r.registry, repository: r.repository }));
}

/** Point the extra version tags (latest, the ref name…) at an existing content tag's manifest. */
async function retag(client: RegistryClient, repo: Repository, t: ImageTags, digest: string): Promise<void> {
  const others = t.tags.filter((x) => x !== t.contentTag);
  if (others.length === 0) return;
  const m = await client.getManifest({ ...repo, digest });
  for (const tag of others) {
    const current = await orAbsent(client.headManifest({ ...repo, tag }));
    if (current?.digest !== digest) await client.putManifest({ ...repo, tag }, m.bytes, m.mediaType);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Multi-arch indexes

interface ImageSet {
  name: Pick<BuilderName, 'target' | 'gccVersions'>;
  children: ImageTags[];
}

function imageSets(all: ImageTags[]): ImageSet[] {
  const sets: ImageSet[] = [];
  for (const t of all) {
    const set = sets.find((s) => sameImageSet({ ...s.name, arch: t.name.arch }, t.name));
    if (set) set.children.push(t);
    else sets.push({ name: { target: t.name.target, gccVersions: t.name.gccVersions }, children: [t] });
  }
  return sets.filter((s) => new Set(s.children.map((c) => c.name.arch)).size >= 2);
}

async function pushIndexes(all: ImageTags[], selected: ImageTags[], primary: Repository, client: RegistryClient, options: PushOptions): Promise<IndexOutcome[]> {
  const out: IndexOutcome[] = [];
  const wanted = new Set(selected.map((s) => s.file));
  for (const set of imageSets(all)) {
    if (!set.children.some((c) => wanted.has(c.file)) && !options.manifestsOnly) continue;
    for (const version of uniqueVersions(set.children[0]!)) {
      const isContent = version === set.children[0]!.version;
      const tag = formatIndexTag(set.name, isContent ? indexVersion(options.scheme, set.children, version) : version);
      const childTags = set.children.map((c) => (isContent ? c.contentTag : formatArchTag(c.name, version)));
      try {
        out.push(await assembleIndex(client, primary, tag, childTags, options));
      } catch (err) {
        out.push({ tag, status: 'failed', message: (err as Error).message });
      }
    }
  }
  return out;
}

/** The versions an image is tagged with: its content version first, then the extra ones. */
function uniqueVersions(t: ImageTags): string[] {
  const prefix = formatArchTag(t.name, '');
  return [...new Set([t.version, ...t.tags.map((tag) => tag.slice(prefix.length))])];
}

async function assembleIndex(client: RegistryClient, repo: Repository, tag: string, childTags: string[], options: PushOptions): Promise<IndexOutcome> {
  const children: Descriptor[] = [];
  for (const childTag of childTags) {
    const head = await orAbsent(client.headManifest({ ...repo, tag: childTag }));
    if (!head) {
      if (options.dryRun) return { tag, status: 'would-push', message: `after ${childTag} is pushed` };
      return { tag, status: 'skipped', message: `${childTag} is not in the registry yet: the index waits for every arch` };
    }
    const image = await client.getImage({ ...repo, digest: head.digest });
    const config = await client.getConfig(repo, image.manifest);
    const platform: Platform = { os: config.os, architecture: config.architecture };
    if (config.variant) platform.variant = config.variant;
    children.push({ mediaType: head.mediaType, digest: head.digest, size: head.size, platform });
  }
  const ref: ImageReference = { ...repo, tag };
  const existing = await orAbsent(client.getManifest(ref));
  // Never drop an entry: keep the existing index's other platforms, replace only those we bring.
  const { index, bytes } = mergeImageIndex(existing && 'manifests' in existing.manifest ? (existing.manifest as ImageIndex) : undefined, children);
  if (existing && Buffer.from(existing.bytes).equals(bytes)) return { tag, status: 'unchanged', digest: existing.digest };
  if (options.dryRun) return { tag, status: 'would-push' };
  const digest = await client.putManifest(ref, bytes, MediaType.OciIndex);
  options.onProgress(`[${tag}] index pushed ${digest.slice(0, 19)} (${index.manifests.length} platform(s))`);
  return { tag, status: 'pushed', digest };
}

// ---------------------------------------------------------------------------------------------------------------
// Mirrors

async function copyToMirrors(mirrors: string[], primary: Repository, client: RegistryClient, images: ImageOutcome[], indexes: IndexOutcome[], log: (line: string) => void): Promise<PushResult['copies']> {
  const copies: PushResult['copies'] = [];
  const tags = [
    ...images.filter((i) => i.status === 'pushed' || i.status === 'skipped').flatMap((i) => i.tags),
    ...indexes.filter((i) => i.status === 'pushed' || i.status === 'unchanged').map((i) => i.tag),
  ];
  for (const mirror of mirrors) {
    const target = toRepository(mirror);
    const result = { repository: mirror, tags: 0, blobsCopied: 0, blobsMounted: 0, failed: [] as string[] };
    for (const tag of tags) {
      try {
        const stats = await client.copy({ ...primary, tag }, { ...target, tag });
        result.tags++;
        result.blobsCopied += stats.blobsCopied;
        result.blobsMounted += stats.blobsMounted;
      } catch (err) {
        result.failed.push(`${tag}: ${(err as Error).message}`);
      }
    }
    log(`copied ${result.tags} tag(s) to ${mirror} (${result.blobsCopied} blob(s) copied, ${result.blobsMounted} mounted)`);
    copies.push(result);
  }
  return copies;
}
