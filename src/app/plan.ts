/**
 * plan: which images need building. An image needs building exactly when `push` would build it: its content tag
 * is not in the repository (findPublished, the same question push asks).
 */
import { platformString, type Arch } from '../core/names.js';
import { parseReference } from '../core/reference.js';
import type { RegistryClient } from '../adapters/registry/index.js';
import { findPublished } from './published.js';
import type { Repo } from './repo.js';
import { computeTags } from './tags.js';

export interface PlannedImage {
  dockerfile: string;
  /** The Dockerfile's name without `.Dockerfile`. */
  image: string;
  arch: Arch;
  platform: string;
  runner: string;
  tag: string;
  built: boolean;
}

export interface PlanOptions {
  /** Repository to compare with (default: the first configured one). */
  repository?: string;
  /** Build args added to the config's (`--build-arg`): they change the content tags, as in push. */
  buildArgs?: Record<string, string>;
}

/** Every image with its content tag and whether that tag is published. */
export async function planImages(repo: Repo, client: RegistryClient, options: PlanOptions = {}): Promise<PlannedImage[]> {
  const { registry, repository } = parseReference(options.repository ?? repo.config.repositories[0]!);
  const tags = await computeTags(repo, { buildArgs: options.buildArgs });
  // The client bounds how many requests run at once.
  const published = await Promise.all(tags.map((t) => findPublished(client, { registry, repository }, t.contentTag)));
  return tags.map((t, i) => ({
    dockerfile: t.file,
    image: t.file.split('/').pop()!.replace(/\.Dockerfile$/, ''),
    arch: t.name.arch,
    platform: platformString(t.name.arch),
    runner: repo.config.runners[t.name.arch],
    tag: t.contentTag,
    built: published[i] !== undefined,
  }));
}
