import { lstat, readFile, readlink, realpath, stat as statOf } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { globby } from 'globby';
import pLimit from 'p-limit';
import { MAX_DOCKERFILE_SIZE } from '../../core/dockerfile/parse.js';
import { parseDockerfileName, type BuilderName } from '../../core/names.js';

/** A file in images/ that is, or looks meant to be, a Dockerfile. */
export interface ImageFile {
  /** Path relative to the repository root, with forward slashes: how findings name it. */
  path: string;
  absPath: string;
  fileName: string;
  /** Parsed name, or null when the name is not a valid builder name. */
  name: BuilderName | null;
  /** For a symlink: the repository-relative path it points at. */
  linkTarget?: string;
  /**
   * For a symlink: the file it finally resolves to (every hop followed), repository-relative, or absolute when it
   * lies outside the repository; undefined when it dangles.
   */
  realTarget?: string;
  /** The symlink resolves outside the repository (nothing git can vouch for). */
  outsideRepository?: boolean;
  /** File content (of the link target for a symlink); undefined when it cannot be read or is too large. */
  content?: string;
  /** Its size in bytes when over MAX_DOCKERFILE_SIZE: then it is not read (lint and tag refuse it). */
  oversize?: number;
}

/** Names that are Dockerfiles or near misses of one (Renovate's patterns, plus any case of `.dockerfile`). */
const DOCKERFILE_LIKE = /(^|[/.])(dockerfile|containerfile)([^/]*)$|\.dockerfile$/i;

/** A Dockerfile's own ignore file (`x.Dockerfile.dockerignore`): part of the build context, not a Dockerfile. */
const IGNORE_FILE = /\.(dockerignore|containerignore)$/i;

/** Every Dockerfile-like file below `imagesDir`, sorted by path, with its content (read concurrently). */
export async function listImageFiles(root: string, imagesDir: string): Promise<ImageFile[]> {
  const base = resolve(root, imagesDir);
  const paths = await globby('**/*', { cwd: base, dot: false, onlyFiles: false, followSymbolicLinks: false, gitignore: false });
  const candidates = paths.filter((rel) => DOCKERFILE_LIKE.test(basename(rel)) && !IGNORE_FILE.test(rel)).sort();
  const limit = pLimit(64);
  const realRoot = await realpath(root).catch(() => resolve(root));
  const files = await Promise.all(candidates.map((rel) => limit(() => readImageFile(root, realRoot, base, rel))));
  return files.filter((f): f is ImageFile => f !== undefined);
}

async function readImageFile(root: string, realRoot: string, base: string, rel: string): Promise<ImageFile | undefined> {
  const absPath = join(base, rel);
  const stat = await lstat(absPath);
  if (stat.isDirectory()) return undefined;
  const fileName = basename(rel);
  const file: ImageFile = {
    path: relative(root, absPath).split('\\').join('/'),
    absPath,
    fileName,
    name: parseDockerfileName(fileName),
  };
  if (stat.isSymbolicLink()) {
    const target = resolve(dirname(absPath), await readlink(absPath));
    file.linkTarget = relative(root, target).split('\\').join('/');
    const real = await realpath(absPath).catch(() => undefined);
    if (real) {
      const inRepo = relative(realRoot, real);
      file.outsideRepository = inRepo.startsWith('..') || isAbsolute(inRepo);
      file.realTarget = file.outsideRepository ? real : inRepo.split('\\').join('/');
    }
  }
  const size = (await statOf(absPath).catch(() => undefined))?.size;
  if (size !== undefined && size > MAX_DOCKERFILE_SIZE) file.oversize = size;
  else file.content = await readFile(absPath, 'utf8').catch(() => undefined);
  return file;
}

/** The valid builder images only. */
export function builderImages(files: ImageFile[]): (ImageFile & { name: BuilderName })[] {
  return files.filter((f): f is ImageFile & { name: BuilderName } => f.name !== null);
}

/** The largest ignore file read; a larger one counts as ignoring nothing (its every candidate stays an input). */
const MAX_IGNORE_FILE_SIZE = 1024 * 1024;

/**
 * The text of each ignore file (repository-relative paths) as the engines would read it now; '' for one that
 * cannot be read or is over the size limit, so it excludes nothing.
 */
export async function readIgnoreFiles(root: string, paths: string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const path of paths) {
    const absPath = join(root, path);
    const size = (await statOf(absPath).catch(() => undefined))?.size;
    const text = size !== undefined && size <= MAX_IGNORE_FILE_SIZE ? await readFile(absPath, 'utf8').catch(() => '') : '';
    texts.set(path, text);
  }
  return texts;
}

/** The symlinks among `paths` (repository-relative), each with its link text as written; lstat and readlink only. */
export async function readLinks(root: string, paths: string[]): Promise<Map<string, string>> {
  const limit = pLimit(64);
  const found = await Promise.all(
    paths.map((path) =>
      limit(async () => {
        const absPath = join(root, path);
        const isLink = (await lstat(absPath).catch(() => undefined))?.isSymbolicLink();
        return isLink ? ([path, await readlink(absPath)] as const) : undefined;
      }),
    ),
  );
  return new Map(found.filter((f) => f !== undefined));
}
