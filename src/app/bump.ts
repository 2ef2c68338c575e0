/**
 * bump: extract -> resolve -> plan -> rewrite, Renovate style.
 *   extract: every `# syntax=` / FROM / COPY --from / RUN --mount=from image of every Dockerfile in images/
 *            (core/dockerfile)
 *   resolve: what the tag points at now (registry datasource); a pin of one platform's manifest stays on that
 *            platform (os, architecture and variant matched in the current index); the repository's own images
 *            move to the content tag they have now
 *   plan:    the new text at the exact span where the reference (or just its digest) is written (core/bump)
 * One reference that cannot be resolved is reported by name and the rest still bump.
 */
import { extractImageReferences } from '../core/dockerfile/extract.js';
import { parseDockerfile } from '../core/dockerfile/parse.js';
import { applyUpdates, depTypeOf, planUpdate, type PlannedUpdate, type Resolution } from '../core/bump.js';
import { formatIndexTag, parseImageTag } from '../core/names.js';
import { formatPlatform, isIndexMediaType, matchPlatform, type ImageIndex, type ImageManifest, type Platform } from '../core/oci.js';
import { formatReference, parseReference, repositoryName, type ImageReference } from '../core/reference.js';
import { NotFoundError, orAbsent, type RegistryClient } from '../adapters/registry/index.js';
import { expectedIndexText, indexFileInRepository, readIndexFile } from './index-file.js';
import type { Repo } from './repo.js';
import { computeTags, indexVersion, type ImageTags } from './tags.js';

export interface BumpProblem {
  file: string;
  line: number;
  reference: string;
  message: string;
  /** error: the reference could not be resolved; pending: its own base is not pushed yet (a later run moves it). */
  severity: 'error' | 'pending';
}

export interface FileChange {
  path: string;
  before: string;
  after: string;
}

export interface BumpPlan {
  updates: PlannedUpdate[];
  changes: FileChange[];
  problems: BumpProblem[];
}

export interface BumpOptions {
  /** Add digests to unpinned image:tag references. */
  pin: boolean;
  onProgress?: (line: string) => void;
}

export async function planBump(repo: Repo, client: RegistryClient, options: BumpOptions): Promise<BumpPlan> {
  const ownRepositories = new Set(repo.config.repositories.map((r) => repositoryName(parseReference(r))));
  const problems: BumpProblem[] = [];
  const updates: PlannedUpdate[] = [];
  const spans = new Map<PlannedUpdate, { start: number; end: number }>();
  const resolver = new Resolver(client);
  let ownTags: ImageTags[] | undefined;
  const changes: FileChange[] = [];

  // Every real file once (aarch64 symlinks share their target), bases before dependents for a readable order.
  const files = repo.files.filter((f) => !f.linkTarget && f.content !== undefined);
  for (const file of files) {
    const parsed = parseDockerfile(file.content!);
    const sites = extractImageReferences(parsed);
    const lastFrom = sites.filter((s) => s.kind === 'from').pop();
    const fileUpdates: PlannedUpdate[] = [];
    for (const site of sites) {
      if (site.isScratch || site.isStage || site.resolved === null) continue;
      const problem = (message: string, severity: BumpProblem['severity'] = 'error') =>
        problems.push({ file: file.path, line: site.line, reference: site.resolved ?? site.raw, message, severity });
      let ref: ImageReference;
      try {
        ref = parseReference(site.resolved);
      } catch (err) {
        problem((err as Error).message);
        continue;
      }
      try {
        let resolution: Resolution | undefined;
        if (ownRepositories.has(repositoryName(ref)) && ref.tag && parseImageTag(ref.tag)) {
          ownTags ??= await computeTags(repo);
          resolution = await resolveOwn(resolver, ref, ownTags);
          if (!resolution) {
            problem('its image in this repository has no pushed content tag yet (it changed since the last push): a bump after the next push moves it', 'pending');
            continue;
          }
        } else if (ref.digest) {
          resolution = await resolver.external(ref);
        } else if (options.pin) {
          resolution = { ...(await resolver.pin(ref)), type: 'pin' };
        } else {
          continue;
        }
        const planned = planUpdate(file.path, parsed, site, depTypeOf(site, site === lastFrom), resolution);
        if (planned && 'refused' in planned) {
          problem(planned.refused);
          continue;
        }
        if (planned) {
          fileUpdates.push(planned.update);
          spans.set(planned.update, planned.span);
        }
      } catch (err) {
        problem(err instanceof NotFoundError ? `not found in its registry: ${(err as Error).message}` : (err as Error).message);
      }
    }
    if (fileUpdates.length) {
      options.onProgress?.(`${file.path}: ${fileUpdates.length} update(s)`);
      updates.push(...fileUpdates);
      try {
        changes.push({ path: file.path, before: file.content!, after: applyUpdates(file.content!, fileUpdates, spans) });
      } catch (err) {
        problems.push({ file: file.path, line: fileUpdates[0]!.line, reference: fileUpdates[0]!.oldText, message: (err as Error).message, severity: 'error' });
      }
    }
  }

  // index.yaml in the same change, when it no longer matches what `index` writes.
  if (changes.length) {
    const indexPath = repo.config.index.file;
    const current = await readIndexFile(await indexFileInRepository(repo.root, indexPath));
    const expected = expectedIndexText(repo.files, repo.config);
    if (current !== undefined && current !== expected) changes.push({ path: indexPath, before: current, after: expected });
  }
  return { updates, changes, problems };
}

/** The content tag (per arch, or the multi-arch index tag) an own image has now, and its digest. */
async function resolveOwn(resolver: Resolver, ref: ImageReference, ownTags: ImageTags[]): Promise<Resolution | undefined> {
  const tag = parseImageTag(ref.tag!)!;
  const children = ownTags.filter((t) => t.name.target === tag.target && t.name.gccVersions.join() === tag.gccVersions.join());
  const image = tag.arch ? children.find((t) => t.name.arch === tag.arch) : undefined;
  const newTag = tag.arch ? image?.contentTag : children.length >= 2 ? formatIndexTag(tag, indexVersion('tree', children, children[0]!.version)) : undefined;
  if (!newTag) return undefined;
  const head = await orAbsent(resolver.head({ registry: ref.registry, repository: ref.repository, tag: newTag }));
  if (!head) return undefined;
  return { digest: head.digest, tag: newTag, type: newTag === ref.tag && head.digest === ref.digest ? 'digest' : 'rebuild' };
}

/** The registry datasource, with each answer fetched once per run. */
class Resolver {
  private readonly heads = new Map<string, Promise<{ digest: string; mediaType: string }>>();
  constructor(private readonly client: RegistryClient) {}

  head(ref: ImageReference): Promise<{ digest: string; mediaType: string }> {
    const key = formatReference(ref);
    let p = this.heads.get(key);
    if (!p) {
      p = this.client.headManifest(ref);
      this.heads.set(key, p);
    }
    return p;
  }

  /** What `image:tag` points at now: the index digest for a multi-arch tag. */
  async pin(ref: ImageReference): Promise<{ digest: string }> {
    if (!ref.tag) throw new Error(`${formatReference(ref)} has no tag to follow`);
    return { digest: (await this.head({ registry: ref.registry, repository: ref.repository, tag: ref.tag })).digest };
  }

  /** A pinned reference's new digest; one platform's pin stays on that platform. */
  async external(ref: ImageReference): Promise<Resolution> {
    if (!ref.tag) throw new Error(`${formatReference(ref)} is pinned without a tag, so there is nothing to follow: write image:tag@digest`);
    const current = await this.head({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
    if (current.digest === ref.digest) return { digest: current.digest, type: 'digest' };
    if (!isIndexMediaType(current.mediaType)) return { digest: current.digest, type: 'digest' };
    // The tag is multi-arch now: was the old pin an index too, or one platform's manifest?
    const pinned = await orAbsent(this.client.getManifest({ registry: ref.registry, repository: ref.repository, digest: ref.digest }));
    if (!pinned || isIndexMediaType(pinned.mediaType)) return { digest: current.digest, type: 'digest' };
    const config = await this.client.getConfig({ registry: ref.registry, repository: ref.repository }, pinned.manifest as ImageManifest);
    const platform: Platform = { os: config.os, architecture: config.architecture };
    if (config.variant) platform.variant = config.variant;
    const index = (await this.client.getManifest({ registry: ref.registry, repository: ref.repository, digest: current.digest })).manifest as ImageIndex;
    const child = matchPlatform(index, platform);
    if (!child) throw new Error(`${formatReference(ref)} pins a ${formatPlatform(platform)} image, but ${ref.tag} no longer has that platform`);
    return { digest: child.digest, type: 'digest', platform: formatPlatform(platform) };
  }
}
