/** push --reproduce: the images a push would build, built twice and compared before the push builds them. */
import type { EngineName } from '../adapters/engines/detect.js';
import type { RegistryClient } from '../adapters/registry/index.js';
import { tempDir } from '../util/cleanup.js';
import { buildImages, type BuildOutcome } from './build.js';
import { planImages } from './plan.js';
import type { Repo } from './repo.js';
import { computeTags, selectImages } from './tags.js';

/**
 * push --reproduce: before anything is built for publishing, every image the push would build (its content tag
 * not in the repository, or all with `force`) is built twice and compared; the push goes on only when every one
 * gave a single digest.
 */
export async function reproduceBeforePush(repo: Repo, client: RegistryClient, options: { repository: string; only?: string[]; force: boolean; engine: EngineName | 'auto'; buildArgs: Record<string, string>; builders: Record<string, string>; onProgress: (line: string) => void }): Promise<BuildOutcome[]> {
  const planned = await planImages(repo, client, { repository: options.repository, buildArgs: options.buildArgs });
  const wanted = new Set(selectImages(await computeTags(repo, { buildArgs: options.buildArgs }), options.only, repo.config.imagesDir).map((t) => t.file));
  const files = planned.filter((p) => wanted.has(p.dockerfile) && (options.force || !p.built)).map((p) => p.dockerfile);
  if (files.length === 0) return [];
  const work = await tempDir('bi-push-reproduce-');
  try {
    const result = await buildImages(repo, { only: files, engine: options.engine, outputDir: work.path, buildArgs: options.buildArgs, builders: options.builders, check: false, reproduce: true, onProgress: options.onProgress });
    return result.images;
  } finally {
    await work.remove();
  }
}
