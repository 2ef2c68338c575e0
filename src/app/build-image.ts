/**
 * One image, built for its platform and checked before anything is published: the part `build` and `push` share.
 *  - into an OCI layout (every engine): the layout holds exactly the bytes that get published, so check reads
 *    what the registry will serve, and our client uploads it;
 *  - into a daemonless engine's storage (buildah, podman): check reads the image's mounted root, and the engine
 *    pushes it (compressing while it uploads), which spares an export, a second read and a second upload pass.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { platformBuildArgs } from '../core/dockerfile/evaluate.js';
import { pulledImages } from '../core/dockerfile/extract.js';
import { platformString } from '../core/names.js';
import { isLoopbackRegistry, tryParseReference } from '../core/reference.js';
import type { Config } from '../core/config.js';
import { LABEL_ARCH, LABEL_GCC_VERSIONS, LABEL_TARGET } from '../core/registry-index.js';
import { emulationFor, type EngineName } from '../adapters/engines/detect.js';
import { buildInStorage, buildToLayout, removeLocalImage, type BuildRequest } from '../adapters/engines/build.js';
import { inspectLocalImage, mountLocalImage, type LocalImageInfo, type StorageEngine } from '../adapters/engines/local-image.js';
import { DirectoryTree } from '../adapters/rootfs/directory-tree.js';
import { headCommit, remoteUrl } from '../adapters/git/read.js';
import { OciLayoutSource } from '../adapters/sources/oci-layout.js';
import { onInterrupt } from '../util/cleanup.js';
import { checkSource, judgeTree, reportProblems } from './check.js';
import { readLayoutManifest, type LayoutManifest } from './layout.js';
import type { Repo } from './repo.js';
import type { ImageTags } from './tags.js';

export interface Provenance {
  source?: string;
  revision?: string;
}

export interface BuildImageOptions {
  engine: EngineName;
  layoutDir: string;
  buildArgs: Record<string, string>;
  /** docker: remote BuildKit builders by platform. */
  builders: Record<string, string>;
  provenance: Provenance;
  /** The registry the image goes to (pulled from over plain HTTP when it is loopback). */
  targetRegistry?: string;
  check: boolean;
  /** Keep the image in the engine as well. */
  keep?: boolean;
  onProgress?: (line: string) => void;
}

export interface BuiltImage {
  /** The layout's image manifest (its digest is what gets published). */
  manifest: LayoutManifest;
  /** Images the build pulled (FROM, COPY --from…), resolved with its build args: blob mount sources. */
  pulled: string[];
  /** Check errors; empty when the check passed, undefined when it did not run. */
  problems?: string[];
}

/**
 * The name the engine stores the build under. Two builds of the same content on one host (parallel CI jobs, two
 * pushes) must not share it, or one removes the image the other is still checking or pushing: a kept image gets
 * the stable `:<content tag>`, any other one a unique suffix.
 */
function localImageName(t: ImageTags, keep: boolean | undefined): string {
  return `localhost/builder-images-build:${t.contentTag}${keep ? '' : `-${randomBytes(4).toString('hex')}`}`;
}

/** What every build of `t` needs whatever the output: the request for the engine and the images it pulls. */
async function prepareBuild(repo: Repo, t: ImageTags, options: Omit<BuildImageOptions, 'layoutDir' | 'check'>): Promise<{ request: BuildRequest; pulled: string[] }> {
  const platform = platformString(t.name.arch);
  const dockerfile = join(repo.root, t.file);
  const buildArgs = { ...repo.config.buildArgs, ...options.buildArgs };
  const pulled = pulledImages(await readFile(dockerfile, 'utf8'), { ...platformBuildArgs(platform), ...buildArgs });
  const builder = options.builders[platform];
  options.onProgress?.(`building ${t.file} for ${platform} with ${options.engine}${builder ? ` on builder ${builder}` : ` (${emulationFor(t.name.arch).detail})`}`);
  const request: BuildRequest = {
    dockerfile,
    context: join(repo.root, repo.config.imagesDir),
    platform,
    localName: localImageName(t, options.keep),
    labels: imageLabels(t, options.provenance),
    buildArgs,
    builder,
    pulls: pulled,
    insecureRegistries: plainHttpRegistries(repo.config, pulled, options.targetRegistry),
  };
  return { request, pulled };
}

export async function buildImage(repo: Repo, t: ImageTags, options: BuildImageOptions): Promise<BuiltImage> {
  const { request, pulled } = await prepareBuild(repo, t, options);
  // Registered before the build: an interruption removes the image however far the build got (--keep too).
  const interrupted = onInterrupt(() => removeLocalImage(options.engine, request.localName));
  let removal: Promise<void> | undefined;
  try {
    await buildToLayout(options.engine, { ...request, layoutDir: options.layoutDir });
    // The layout holds everything from here on: drop the engine's copy while the check runs.
    if (!options.keep) removal = interrupted.runNow();
    const manifest = await readLayoutManifest(options.layoutDir);
    if (!options.check) return { manifest, pulled };
    options.onProgress?.('checking the built image');
    const [check] = await checkSource(new OciLayoutSource(options.layoutDir), { gccVersions: t.name.gccVersions, arch: t.name.arch, target: t.name.target, contract: repo.config.check });
    return { manifest, pulled, problems: check ? reportProblems(check.report) : ['the build output holds no image'] };
  } finally {
    if (options.keep) interrupted.dismiss();
    else await (removal ?? interrupted.runNow());
  }
}

/** How an image is built, whatever the engine and output. */
export type BuildSettings = Omit<BuildImageOptions, 'engine' | 'layoutDir' | 'check' | 'keep'>;

export interface StoredImage extends LocalImageInfo {
  engine: StorageEngine;
  /** The image's name in the engine's storage. */
  localName: string;
  /** Check errors; empty when the check passed. */
  problems: string[];
  /** How its root was mounted for the check. */
  mountedWith: string;
  /** Remove the image from the engine's storage. */
  remove(): Promise<void>;
}

/**
 * Build into a daemonless engine's storage and check the image's mounted root there, before anything leaves the
 * machine; the caller pushes it with the engine (see publish-stored.ts) and then removes it.
 */
export async function buildAndCheckInStorage(repo: Repo, t: ImageTags, options: BuildSettings & { engine: StorageEngine }): Promise<StoredImage> {
  const { request } = await prepareBuild(repo, t, options);
  // Registered before the build: an interruption at any point removes the image (after the mount's release).
  const removal = onInterrupt(() => removeLocalImage(options.engine, request.localName));
  // The mount is released while the caller pushes (nothing needs it then); removal waits for the release.
  let released: Promise<unknown> = Promise.resolve();
  const remove = () => released.then(() => removal.runNow());
  try {
    await buildInStorage(options.engine, request);
    options.onProgress?.('checking the built image');
    const [inspected, mounted] = await Promise.allSettled([inspectLocalImage(options.engine, request.localName), mountLocalImage(options.engine, request.localName)]);
    if (mounted.status === 'rejected') throw mounted.reason;
    const root = mounted.value;
    try {
      if (inspected.status === 'rejected') throw inspected.reason;
      const info = inspected.value;
      const expect = { gccVersions: t.name.gccVersions, arch: t.name.arch, target: t.name.target, contract: repo.config.check };
      const report = judgeTree(new DirectoryTree(root.dir), info.platform, expect, { env: info.env, labels: info.labels });
      return { ...info, engine: options.engine, localName: request.localName, problems: reportProblems(report), mountedWith: root.how, remove };
    } finally {
      released = root.release().catch((err: unknown) => options.onProgress?.(`warning: ${(err as Error).message}`));
    }
  } catch (err) {
    await remove();
    throw err;
  }
}

/** OCI annotations plus the builder's own target, arch and GCC list, readable from the config blob alone. */
function imageLabels(t: ImageTags, provenance: Provenance): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.created': new Date().toISOString(),
    'org.opencontainers.image.title': t.file.split('/').pop()!.replace(/\.Dockerfile$/, ''),
    'org.opencontainers.image.version': t.version,
    [LABEL_TARGET]: t.name.target,
    [LABEL_ARCH]: t.name.arch,
    [LABEL_GCC_VERSIONS]: t.name.gccVersions.join(','),
  };
  if (provenance.source) labels['org.opencontainers.image.source'] = provenance.source;
  if (provenance.revision && !t.dirty) labels['org.opencontainers.image.revision'] = provenance.revision;
  return labels;
}

/**
 * Where the image comes from and at which commit. The source is the config's `source:` when set, else the git
 * remote (as https, without credentials), else GitHub Actions' GITHUB_SERVER_URL/GITHUB_REPOSITORY (a checkout
 * without a remote still knows its repository there).
 */
export async function gitProvenance(root: string, fallback: { source?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Provenance> {
  const [revision, remote] = await Promise.all([headCommit(root).catch(() => undefined), remoteUrl(root)]);
  return { source: fallback.source ?? httpsSource(remote) ?? githubSource(fallback.env ?? process.env), revision };
}

function httpsSource(remote: string | undefined): string | undefined {
  return remote?.replace(/^git@([^:]+):/, 'https://$1/').replace(/\.git$/, '').replace(/\/\/[^@/]+@/, '//');
}

function githubSource(env: NodeJS.ProcessEnv): string | undefined {
  const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
  const repository = env.GITHUB_REPOSITORY;
  if (!server || !repository || !/^https?:\/\/[^\s/@]+$/.test(server) || !/^[\w.-]+\/[\w.-]+$/.test(repository)) return undefined;
  return `${server}/${repository}`;
}

/**
 * Registries a build may pull from over plain HTTP: the configured insecure ones, and loopback ones (the target,
 * and any the Dockerfile pulls from, such as a local mirror of the base images).
 */
function plainHttpRegistries(config: Config, pulled: string[], targetRegistry?: string): string[] {
  const hosts = new Set(config.insecureRegistries);
  for (const host of [targetRegistry, ...pulled.map((image) => tryParseReference(image)?.registry)]) if (host && isLoopbackRegistry(host)) hosts.add(host);
  return [...hosts];
}
