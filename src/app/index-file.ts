import { lstat, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';
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

/**
 * Where the configured builder index file (config index.file) really is: its path in the repository, refused when
 * a symlink on the way (a directory, or the file itself) leads outside. The config's own check is textual (no
 * `..`, not absolute); this one follows the links the file system has.
 */
export async function indexFileInRepository(root: string, file: string): Promise<string> {
  const path = join(root, file);
  const realRoot = await realpath(root);
  const real = await realPathOfWhatExists(path);
  const inside = relative(realRoot, real);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new UsageError(`index.file ${file} leads outside the repository through a symlink (to ${real}): point it at a file inside ${root}`);
  }
  return path;
}

/** The real path of `path`: its nearest existing ancestor resolved, the part that does not exist yet appended. */
async function realPathOfWhatExists(path: string): Promise<string> {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    const exists = await lstat(at).then(() => true, () => false);
    if (exists) {
      // A dangling link: what a write would replace is the link itself, in its directory.
      const real = await realpath(at).catch(() => undefined);
      if (real !== undefined) return join(real, ...missing);
    }
    const parent = dirname(at);
    if (parent === at) return join(at, ...missing);
    missing.unshift(basename(at));
    at = parent;
  }
}
