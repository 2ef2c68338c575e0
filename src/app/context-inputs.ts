/**
 * The build-context files a Dockerfile's COPY/ADD sources can read, as the engines read them: each source clamped
 * to the context root, what every engine's ignore file leaves out dropped, a source that is a symlink followed
 * inside the context, and the ignore files themselves (they decide what a directory or a glob copies). Used by
 * tags.ts: each of these files is an input of the content tag.
 */
import { posix } from 'node:path';
import { filesNamedBy, filesReadBy, linkTargetInContext } from '../core/dockerfile/context.js';
import { ignoredByEveryEngine, ignoreFileCandidates } from '../core/dockerfile/ignore.js';
import { readIgnoreFiles, readLinks } from '../adapters/fs/images-dir.js';

/** Reads a context directory's files for one run; `files` are repository-relative paths (committed or dirty). */
export function contextReader(root: string, contextDir: string, files: string[]): (dockerfile: string, sources: string[]) => Promise<string[]> {
  const dir = posix.normalize(contextDir).replace(/\/+$/, '');
  const inContext = (path: string) => (dir === '.' ? path : path.slice(dir.length + 1));
  const fromContext = (path: string) => (dir === '.' ? path : `${dir}/${path}`);
  const below = files.filter((p) => dir === '.' || p.startsWith(`${dir}/`)).sort();
  const contextFiles = below.map(inContext);
  const present = new Set(contextFiles);
  // The context's symlinks (context path -> link text), read once, when a source first names a file.
  let links: Promise<Map<string, string>> | undefined;
  const contextLinks = () => (links ??= readLinks(root, below).then((found) => new Map([...found].map(([path, text]) => [inContext(path), text]))));

  /** The repository files a build of `dockerfile` (repository-relative) reads for `sources`, in source order. */
  return async (dockerfile, sources) => {
    if (sources.length === 0) return [];
    const ignoreFiles = ignoreFileCandidates(inContext(dockerfile)).filter((p) => present.has(p));
    const texts = await readIgnoreFiles(root, ignoreFiles.map(fromContext));
    const ignored = ignoredByEveryEngine(inContext(dockerfile), new Map(ignoreFiles.map((p) => [p, texts.get(fromContext(p))!])), contextFiles);
    const readable = contextFiles.filter((p) => !ignored.has(p));
    const read = sources.flatMap((source) => filesReadBy(readable, source));
    const named = [...new Set(sources.flatMap((source) => filesNamedBy(readable, source)))];
    const linked = named.length === 0 ? new Map<string, string>() : await contextLinks();
    const followed = named.filter((f) => linked.has(f)).flatMap((f) => {
      const target = linkTargetInContext(f, linked);
      return target === undefined ? [] : filesReadBy(readable, target);
    });
    const seen = new Set(read);
    const extra = [...new Set([...followed, ...ignoreFiles])].filter((p) => !seen.has(p));
    return [...read, ...extra].map(fromContext);
  };
}
