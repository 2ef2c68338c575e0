/**
 * Every image's tags, from git.
 *
 *   const all = await computeTags(repo, { scheme: 'tree' });
 *   all[0].contentTag   // e.g. 'any-x86_64_gcc12.0.0-3f9c2a1b0d4e5f60'
 *   all[0].tags         // content tag plus one per extra version (latest, the ref name…)
 *   all[0].inputs       // what went in: path and git blob id, so `git cat-file -p <blob>` shows each
 *
 * Scheme `tree` (default): the content id is git's blob id of the image's input list: the Dockerfile's blob
 * (its target's, for a symlinked aarch64 file), the blob of every context file its COPY/ADD use (sources clamped to
 * the context as the engines clamp them, less what every engine's ignore file leaves out) and of those ignore files, the content
 * tags of the repository's own images it builds FROM, and the build args (the config's merged with --build-arg). `tag --explain` prints
 * that list; `git hash-object --stdin` of it gives the id back. The tag changes exactly when an input does.
 * Scheme `commit`: the HEAD commit (`short` for the abbreviated form).
 * Every input must be a committed, tracked blob inside the repository: anything else (uncommitted changes,
 * untracked or git-ignored files, a Dockerfile symlink that leads outside the repository) is dirty and gives
 * `<id>-dirty-<7 hex>`, the 7 hex hashing the dirty content, so two dirty states never share a tag and a dirty
 * image is never published under a clean tag. Only lock-free git commands are used.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { filesNamedBy, filesReadBy, linkTargetInContext } from '../core/dockerfile/context.js';
import { platformBuildArgs } from '../core/dockerfile/evaluate.js';
import { extractContextSources, extractImageReferences } from '../core/dockerfile/extract.js';
import { ignoredByEveryEngine, ignoreFileCandidates } from '../core/dockerfile/ignore.js';
import { parseDockerfile, tooLargeMessage } from '../core/dockerfile/parse.js';
import { formatArchTag, parseImageTag, platformOfArch, type BuilderName } from '../core/names.js';
import { parseReference, repositoryName, tryParseReference } from '../core/reference.js';
import { blobIdOf, hashWorkingFiles, headCommit, listCommitted, listDirty, objectFormat, refName } from '../adapters/git/read.js';
import { builderImages, readIgnoreFiles, readLinks, type ImageFile } from '../adapters/fs/images-dir.js';
import { UsageError } from '../errors.js';
import type { Repo } from './repo.js';

export type TagScheme = 'tree' | 'commit';

export interface ImageInput {
  kind: 'dockerfile' | 'context' | 'base-image' | 'build-arg';
  path: string;
  /** git blob id, a content tag for a base image, or the value of a build arg. */
  id: string;
}

export interface ImageTags {
  /** Repository-relative Dockerfile path. */
  file: string;
  name: BuilderName;
  /** The content version: a tree id or a commit, with -dirty-<7 hex> when inputs are dirty. */
  version: string;
  contentTag: string;
  /** Per-arch tags for the content version and every extra version, content tag first. */
  tags: string[];
  dirty: boolean;
  inputs: ImageInput[];
  /** Files among the inputs with uncommitted changes. */
  dirtyPaths: string[];
  /** Own images this one builds FROM (Dockerfile paths). */
  dependsOn: string[];
}

export interface TagOptions {
  scheme?: TagScheme;
  short?: boolean;
  /** Extra versions (default: the config's `versions`, e.g. latest). */
  versions?: string[];
  /** Add the ref name (branch or tag, `/` and other non-alphanumerics as `-`) as a version. */
  withRef?: boolean;
  /** Build args passed on top of the config's (`--build-arg`): they build a different image, so they are inputs. */
  buildArgs?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

/** `feature/x` -> `feature-x`: what a ref name may be in a tag. */
export function sanitizeRef(ref: string): string {
  return ref.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '').slice(0, 64);
}

export async function computeTags(repo: Repo, options: TagOptions = {}): Promise<ImageTags[]> {
  const scheme = options.scheme ?? repo.config.tagScheme;
  const imagesDir = repo.config.imagesDir;
  const images = builderImages(repo.files);
  // Dockerfiles that symlinks in images/ lead to elsewhere in the repository are inputs too: git is asked about them.
  const linked = images.filter((f) => f.realTarget && !f.outsideRepository && !isBelow(f.realTarget, imagesDir)).map((f) => f.realTarget!);
  const pathspecs = [imagesDir, ...new Set(linked)];
  // The object format is asked alongside: every blob id computed below needs it.
  const [committed, dirtyList] = await Promise.all([listCommitted(repo.root, pathspecs), listDirty(repo.root, pathspecs), objectFormat(repo.root)]);
  const committedByPath = new Map(committed.map((e) => [e.path, e]));
  const dirty = new Set(dirtyList);
  const working = await hashWorkingFiles(repo.root, dirtyList);
  const commit = scheme === 'commit' ? await headCommit(repo.root, options.short) : '';
  const extra = [...(options.versions ?? repo.config.versions)];
  if (options.withRef) {
    const ref = await refName(repo.root, options.env);
    if (ref) extra.push(sanitizeRef(ref));
  }

  // The build args the engine gets: the config's, overridden by the flag's (as build-image merges them).
  const buildArgs = { ...repo.config.buildArgs, ...options.buildArgs };
  const ownRepositories = new Set(repo.config.repositories.map((r) => repositoryName(parseReference(r))));
  const memo = new Map<string, Promise<ImageTags>>();
  // The build context: the files below imagesDir, relative to it, as the engines see them.
  const contextDir = posix.normalize(imagesDir).replace(/\/+$/, '');
  const inContext = (path: string) => (contextDir === '.' ? path : path.slice(contextDir.length + 1));
  const contextFiles = [...new Set([...committedByPath.keys(), ...dirty])].filter((p) => isBelow(p, imagesDir) && p !== contextDir).sort();
  const contextRelative = contextFiles.map(inContext);
  const fromContext = (path: string) => (contextDir === '.' ? path : `${contextDir}/${path}`);

  // The context's symlinks (context path -> link text), read once when a source first names a file.
  let links: Promise<Map<string, string>> | undefined;
  const contextLinks = () =>
    (links ??= readLinks(repo.root, contextFiles).then((found) => new Map([...found].map(([path, text]) => [inContext(path), text]))));

  /**
   * The repository files a build of `dockerfile` can read from the context for `sources` (clamped to the context
   * as the engines do), less what every engine's ignore file leaves out, and what a source that is a symlink leads
   * to (the engines follow it, inside the context); with the ignore files themselves, which decide what a
   * directory or a glob copies.
   */
  const contextInputs = async (dockerfile: string, sources: string[]): Promise<string[]> => {
    if (sources.length === 0) return [];
    const present = new Set(contextRelative);
    const ignoreFiles = ignoreFileCandidates(inContext(dockerfile)).filter((p) => present.has(p));
    const texts = await readIgnoreFiles(repo.root, ignoreFiles.map(fromContext));
    const ignored = ignoredByEveryEngine(inContext(dockerfile), new Map(ignoreFiles.map((p) => [p, texts.get(fromContext(p))!])), contextRelative);
    const readable = contextRelative.filter((p) => !ignored.has(p));
    const read = sources.flatMap((source) => filesReadBy(readable, source));
    const named = [...new Set(sources.flatMap((source) => filesNamedBy(readable, source)))];
    const linked = named.length === 0 ? new Map<string, string>() : await contextLinks();
    const followed = named.filter((f) => linked.has(f)).flatMap((f) => {
      const target = linkTargetInContext(f, linked);
      return target === undefined ? [] : filesReadBy(readable, target);
    });
    const extra = [...new Set([...followed, ...ignoreFiles])].filter((p) => !read.includes(p));
    return [...read, ...extra].map(fromContext);
  };

  const compute = (file: ImageFile & { name: BuilderName }, stack: string[]): Promise<ImageTags> => {
    let pending = memo.get(file.path);
    if (!pending) {
      pending = tagsFor(file, [...stack, file.path]);
      memo.set(file.path, pending);
    }
    return pending;
  };

  async function tagsFor(file: ImageFile & { name: BuilderName }, stack: string[]): Promise<ImageTags> {
    const inputs: ImageInput[] = [];
    const dirtyPaths: string[] = [];
    const blobOf = (path: string): string => {
      const blob = dirty.has(path) ? undefined : committedByPath.get(path)?.blob;
      if (blob) return blob;
      // Changed, untracked, ignored or gone: nothing committed vouches for what the build reads.
      dirtyPaths.push(path);
      return working.get(path) ?? (dirty.has(path) ? 'deleted' : 'untracked');
    };
    if (file.outsideRepository) {
      // A symlink out of the repository: its content counts (for the dirty hash), but it is never clean.
      const outside = file.realTarget!;
      working.set(outside, await blobIdOf(repo.root, file.content ?? ''));
      dirtyPaths.push(outside);
      inputs.push({ kind: 'dockerfile', path: outside, id: working.get(outside)! });
    } else {
      const dockerfilePath = file.realTarget ?? file.linkTarget ?? file.path;
      inputs.push({ kind: 'dockerfile', path: dockerfilePath, id: blobOf(dockerfilePath) });
    }

    if (file.oversize !== undefined) throw new UsageError(`${file.path}: ${tooLargeMessage(file.oversize, 'bytes')}`);
    const parsed = parseDockerfile(file.content ?? '');
    const platform = platformOfArch(file.name.arch);
    const builtins = platformBuildArgs(`${platform.os}/${platform.architecture}`);
    const sources = extractContextSources(parsed, builtins).flatMap((s) => s.sources);
    for (const input of await contextInputs(file.path, sources)) inputs.push({ kind: 'context', path: input, id: blobOf(input) });

    const dependsOn: string[] = [];
    for (const site of extractImageReferences(parsed)) {
      if (!site.resolved || site.isScratch || site.isStage) continue;
      const base = ownImageFor(site.resolved, ownRepositories, images);
      if (!base) continue;
      if (stack.includes(base.path)) throw new UsageError(`${file.path} builds FROM ${base.path}, which builds FROM it in turn: break the cycle`);
      const baseTags = await compute(base, stack);
      dependsOn.push(base.path);
      inputs.push({ kind: 'base-image', path: base.path, id: baseTags.contentTag });
    }
    for (const [key, value] of Object.entries(buildArgs).sort()) inputs.push({ kind: 'build-arg', path: key, id: value });

    const uniqueDirty = [...new Set(dirtyPaths)].sort();
    const isDirty = uniqueDirty.length > 0 || inputs.some((i) => i.kind === 'base-image' && i.id.includes('-dirty-'));
    let version = scheme === 'commit' ? commit : (await blobIdOf(repo.root, describeInputs(inputs))).slice(0, 16);
    if (isDirty) version += `-dirty-${dirtyHash(uniqueDirty.map((p) => `${p} ${working.get(p) ?? 'deleted'}`), inputs)}`;
    const contentTag = formatArchTag(file.name, version);
    const tags = [contentTag, ...extra.filter((v) => v !== version).map((v) => formatArchTag(file.name, v))];
    return { file: file.path, name: file.name, version, contentTag, tags: [...new Set(tags)], dirty: isDirty, inputs, dirtyPaths: uniqueDirty, dependsOn };
  }

  const results: ImageTags[] = [];
  for (const image of images) results.push(await compute(image, []));
  return results;
}

/**
 * The images a command's Dockerfile arguments name (a repository path or a file name); all when none is given.
 * Naming nothing that exists is a usage error.
 */
export function selectImages(all: ImageTags[], only: string[] | undefined, imagesDir: string): ImageTags[] {
  if (!only?.length) return all;
  const selected = all.filter((t) => only.some((o) => t.file === o || t.file.endsWith(`/${o}`)));
  if (selected.length === 0) throw new UsageError(`no image in ${imagesDir}/ matches ${only.join(', ')}`);
  return selected;
}

/** The input list a tree id is the git blob id of: one line per input, stable order. */
export function describeInputs(inputs: ImageInput[]): string {
  return inputs.map((i) => `${i.kind} ${i.id} ${i.path}\n`).join('');
}

function dirtyHash(lines: string[], inputs: ImageInput[]): string {
  const h = createHash('sha256');
  for (const line of lines) h.update(`${line}\n`);
  for (const i of inputs.filter((x) => x.kind === 'base-image')) h.update(`${i.path} ${i.id}\n`);
  return h.digest('hex').slice(0, 7);
}

function isBelow(path: string, dir: string): boolean {
  const d = posix.normalize(dir).replace(/\/+$/, '');
  return d === '.' || path === d || path.startsWith(`${d}/`);
}

/** The repository's own image a FROM reference names (same repository, a builder tag), if any. */
function ownImageFor(reference: string, ownRepositories: Set<string>, images: (ImageFile & { name: BuilderName })[]): (ImageFile & { name: BuilderName }) | undefined {
  const ref = tryParseReference(reference);
  if (!ref || !ownRepositories.has(repositoryName(ref)) || !ref.tag) return undefined;
  const tag = parseImageTag(ref.tag);
  if (!tag) return undefined;
  return images.find((f) => f.name.target === tag.target && f.name.gccVersions.join() === tag.gccVersions.join() && (!tag.arch || f.name.arch === tag.arch));
}

/** The multi-arch index tag of a set, for a version; for `tree` a content id derived from both children's. */
export function indexVersion(scheme: TagScheme, children: ImageTags[], version: string): string {
  if (scheme !== 'tree' || version !== children[0]!.version) return version;
  const h = createHash('sha1');
  for (const c of [...children].sort((a, b) => a.name.arch.localeCompare(b.name.arch))) h.update(`${c.name.arch} ${c.version}\n`);
  const id = h.digest('hex').slice(0, 16);
  return children.some((c) => c.dirty) ? `${id}-dirty` : id;
}

