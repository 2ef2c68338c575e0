/**
 * One image, built for its platform into an OCI layout and checked there: the part `build` and `push` share.
 * The layout holds exactly the bytes that get published, so check reads what the registry will serve.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { platformBuildArgs, pulledImages } from '../core/dockerfile.js';
import { platformString } from '../core/names.js';
import { isLoopbackRegistry, tryParseReference } from '../core/reference.js';
import type { Config } from '../core/config.js';
import { emulationFor, type EngineName } from '../adapters/engines/detect.js';
import { buildToLayout, removeLocalImage } from '../adapters/engines/build.js';
import { headCommit, remoteUrl } from '../adapters/git/read.js';
import { OciLayoutSource } from '../adapters/sources/oci-layout.js';
import { checkSource } from './check.js';
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

export async function buildImage(repo: Repo, t: ImageTags, options: BuildImageOptions): Promise<BuiltImage> {
  const platform = platformString(t.name.arch);
  const dockerfile = join(repo.root, t.file);
  const buildArgs = { ...repo.config.buildArgs, ...options.buildArgs };
  const pulled = pulledImages(await readFile(dockerfile, 'utf8'), { ...platformBuildArgs(platform), ...buildArgs });
  const builder = options.builders[platform];
  options.onProgress?.(`building ${t.file} for ${platform} with ${options.engine}${builder ? ` on builder ${builder}` : ` (${emulationFor(t.name.arch).detail})`}`);
  const localName = `localhost/builder-images-build:${t.contentTag}`;
  let removal: Promise<void> | undefined;
  try {
    await buildToLayout(options.engine, {
      dockerfile,
      context: join(repo.root, repo.config.imagesDir),
      platform,
      localName,
      labels: imageLabels(t, options.provenance),
      buildArgs,
      builder,
      layoutDir: options.layoutDir,
      pulls: pulled,
      insecureRegistries: plainHttpRegistries(repo.config, pulled, options.targetRegistry),
    });
    // The layout holds everything from here on: drop the engine's copy while the check runs.
    if (!options.keep) removal = removeLocalImage(options.engine, localName);
    const manifest = await readLayoutManifest(options.layoutDir);
    if (!options.check) return { manifest, pulled };
    options.onProgress?.('checking the built image');
    const [check] = await checkSource(new OciLayoutSource(options.layoutDir), { gccVersions: t.name.gccVersions, arch: t.name.arch });
    const problems = check
      ? [...check.report.gccs.filter((g) => g.verdict === 'error').map((g) => g.message ?? `gcc ${g.gcc}: error`), ...check.report.extra.map((e) => e.message)]
      : ['the build output holds no image'];
    return { manifest, pulled, problems };
  } finally {
    if (!options.keep) await (removal ?? removeLocalImage(options.engine, localName));
  }
}

/** OCI annotations plus the builder's own target, arch and GCC list, readable from the config blob alone. */
export function imageLabels(t: ImageTags, provenance: Provenance): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.created': new Date().toISOString(),
    'org.opencontainers.image.title': t.file.split('/').pop()!.replace(/\.Dockerfile$/, ''),
    'org.opencontainers.image.version': t.version,
    'io.builder-images.target': t.name.target,
    'io.builder-images.arch': t.name.arch,
    'io.builder-images.gcc-versions': t.name.gccVersions.join(','),
  };
  if (provenance.source) labels['org.opencontainers.image.source'] = provenance.source;
  if (provenance.revision && !t.dirty) labels['org.opencontainers.image.revision'] = provenance.revision;
  return labels;
}

export async function gitProvenance(root: string): Promise<Provenance> {
  const [revision, source] = await Promise.all([headCommit(root).catch(() => undefined), remoteUrl(root)]);
  const https = source?.replace(/^git@([^:]+):/, 'https://$1/').replace(/\.git$/, '').replace(/\/\/[^@/]+@/, '//');
  return { source: https, revision };
}

/**
 * Registries a build may pull from over plain HTTP: the configured insecure ones, and loopback ones (the target,
 * and any the Dockerfile pulls from, such as a local mirror of the base images).
 */
export function plainHttpRegistries(config: Config, pulled: string[], targetRegistry?: string): string[] {
  const hosts = new Set(config.insecureRegistries);
  for (const host of [targetRegistry, ...pulled.map((image) => tryParseReference(image)?.registry)]) if (host && isLoopbackRegistry(host)) hosts.add(host);
  return [...hosts];
}
