/**
 * build: every selected image built for its platform into an OCI layout (<output>/<content tag>) and checked;
 * nothing is pushed. A failed image does not stop the others.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { platformString } from '../core/names.js';
import { pickEngine, type EngineName } from '../adapters/engines/detect.js';
import { buildImage, gitProvenance } from './build-image.js';
import { UsageError } from '../errors.js';
import { onInterrupt, tempDir } from '../util/cleanup.js';
import type { Comparison } from './reproduce.js';
import { reproduceImage } from './reproduce.js';
import type { Repo } from './repo.js';
import { computeTags, selectImages } from './tags.js';

export interface BuildOptions {
  /** Only these Dockerfiles (paths or file names); empty: all. */
  only: string[];
  engine: EngineName | 'auto';
  /** Absolute directory the layouts go to, one per content tag. */
  outputDir: string;
  /** Added to the config's build args. */
  buildArgs: Record<string, string>;
  /** docker: remote BuildKit builders by platform (added to the config's). */
  builders: Record<string, string>;
  check: boolean;
  keep?: boolean;
  /** Build each image twice and compare (same digest, or the files that differ). */
  reproduce?: boolean;
  onProgress: (line: string) => void;
}

export interface BuildOutcome {
  file: string;
  platform: string;
  output: string;
  digest?: string;
  /** `ok`, `not run` or `failed: <problems>`. */
  check: string;
  error?: string;
  /** --reproduce: the comparison of the two builds. */
  reproduce?: Omit<Comparison, 'digests'> & { secondDigest: string };
}

export interface BuildResult {
  engine: EngineName;
  images: BuildOutcome[];
  ok: boolean;
}

export async function buildImages(repo: Repo, options: BuildOptions): Promise<BuildResult> {
  const selected = selectImages(await computeTags(repo, { buildArgs: options.buildArgs }), options.only, repo.config.imagesDir);
  if (selected.length === 0) throw new UsageError(`no builder images in ${repo.config.imagesDir}/`);
  const engine = await pickEngine(options.engine);
  options.onProgress(`engine: ${engine}`);
  const builders = { ...repo.config.builders, ...options.builders };
  const provenance = await gitProvenance(repo.root, { source: repo.config.source });
  const images: BuildOutcome[] = [];
  for (const t of selected) {
    const platform = platformString(t.name.arch);
    const output = join(options.outputDir, t.contentTag);
    // A layout cut short by an interruption is removed, not left half-written.
    const partial = onInterrupt(() => rm(output, { recursive: true, force: true }));
    try {
      await rm(output, { recursive: true, force: true });
      await mkdir(options.outputDir, { recursive: true });
      const settings = { engine, buildArgs: options.buildArgs, builders, provenance, check: options.check, keep: options.keep, onProgress: (line: string) => options.onProgress(`[${t.contentTag}] ${line}`) };
      let reproduce: BuildOutcome['reproduce'];
      let built;
      if (options.reproduce) {
        const second = await tempDir('bi-reproduce-');
        try {
          const outcome = await reproduceImage(repo, t, { first: output, second: join(second.path, 'layout') }, settings);
          const { digests, first, ...comparison } = outcome;
          built = first;
          reproduce = { ...comparison, secondDigest: digests[1] };
        } finally {
          await second.remove();
        }
      } else built = await buildImage(repo, t, { ...settings, layoutDir: output });
      const check = built.problems === undefined ? 'not run' : built.problems.length ? `failed: ${built.problems.join('; ')}` : 'ok';
      images.push(reproduce ? { file: t.file, platform, output, digest: built.manifest.digest, check, reproduce } : { file: t.file, platform, output, digest: built.manifest.digest, check });
    } catch (err) {
      images.push({ file: t.file, platform, output, check: 'not run', error: (err as Error).message });
    } finally {
      partial.dismiss();
    }
  }
  return { engine, images, ok: images.every((r) => !r.error && !r.check.startsWith('failed') && r.reproduce?.reproducible !== false) };
}
