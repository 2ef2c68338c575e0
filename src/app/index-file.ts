import { readFile } from 'node:fs/promises';
import type { Config } from '../core/config.js';
import { buildIndex, renderIndex, type IndexEntry } from '../core/index-schema.js';
import { builderImages, type ImageFile } from '../adapters/fs/images-dir.js';

export interface IndexChoice {
  /** Repositories the index lists (default: the primary configured repository). */
  repositories?: string[];
  /** Tags (versions) it lists (default: config index.tags). */
  tags?: string[];
}

/** The entries `index` writes for these images, in rendering order. */
export function expectedIndexEntries(files: ImageFile[], config: Config, choice: IndexChoice = {}): IndexEntry[] {
  const repositories = choice.repositories?.length ? choice.repositories : [config.repositories[0]!];
  const tags = choice.tags?.length ? choice.tags : config.index.tags;
  return buildIndex(builderImages(files).map((f) => f.name), repositories, tags);
}

/** The index.yaml text that `index` writes for these images: the one source of truth for lint, index and bump. */
export function expectedIndexText(files: ImageFile[], config: Config, choice: IndexChoice = {}): string {
  return renderIndex(expectedIndexEntries(files, config, choice));
}

/** The index file's text, or undefined when there is none yet. */
export async function readIndexFile(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}
