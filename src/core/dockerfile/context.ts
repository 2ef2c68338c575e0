/**
 * Context paths: what a COPY/ADD reads from the build context. Sources are expanded with the stage's variables;
 * URLs, git repositories and unresolved ones cannot be read from the context. The engines clamp a source to the
 * context root (BuildKit, docker and buildah alike: `../secret` reads `<context>/secret`), so `contextPath` says
 * which context path a source really names, and `climbsOut` which sources are written as if they left it.
 */
import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { EscapeToken, Instruction } from './ast.js';
import { processWord, type LexEnv } from './shell-lex.js';

export interface ContextSource {
  keyword: 'COPY' | 'ADD';
  line: number;
  /** Source paths after expansion, as written (not yet clamped: see `contextPath`). */
  sources: string[];
  /** Sources that cannot be hashed from the context (URLs, git repositories, unresolved variables). */
  external: string[];
}

/** The build-context paths a COPY/ADD reads, each expanded with the stage's variables. */
export function contextSource(ins: Instruction, env: LexEnv, escape: EscapeToken): ContextSource {
  const entry: ContextSource = { keyword: ins.keyword as 'COPY' | 'ADD', line: ins.line, sources: [], external: [] };
  for (const word of ins.words.slice(0, -1)) {
    const p = word.value;
    if (p.startsWith('<<')) continue; // heredoc: content lives in the Dockerfile itself
    const r = processWord(p, env, { escapeToken: escape });
    const expanded = r.ok && r.missing.length === 0 ? r.value : null;
    if (expanded === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(expanded) || expanded.startsWith('git@')) entry.external.push(p);
    else entry.sources.push(expanded);
  }
  return entry;
}

/**
 * The context-relative path a source names once the engine clamps it to the context root (`.` for the root):
 * `../secret` and `/secret` are both `secret`, `a/../../b` is `b`.
 */
export function contextPath(source: string): string {
  const clamped = posix.normalize(`/${source}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return clamped === '' ? '.' : clamped;
}

/** The source is written as if it left the context (`../x`, `a/../../x`): the engines read something else. */
export function climbsOut(source: string): boolean {
  const relative = posix.normalize(source.replace(/^\/+/, '') || '.');
  return relative === '..' || relative.startsWith('../');
}

/** The files a source names itself (the path, or what its glob matches): the engines follow these if links. */
export function filesNamedBy(files: string[], source: string): string[] {
  const path = contextPath(source);
  if (!/[*?[\]{}]/.test(path)) return files.filter((f) => f === path);
  const isMatch = picomatch(path, { dot: true });
  return files.filter((f) => isMatch(f));
}

/** Hops a link chain may take before the engines give up (Linux's own limit). */
const MAX_LINK_HOPS = 40;

/**
 * Where a symlink in the context leads, resolved inside the context as the engines resolve a source (a target
 * that climbs out, or an absolute one, stays in the context root), following links among `links` (context path ->
 * link text); undefined for a chain longer than the engines follow.
 */
export function linkTargetInContext(path: string, links: ReadonlyMap<string, string>): string | undefined {
  let current = path;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const target = links.get(current);
    if (target === undefined) return current;
    current = contextPath(target.startsWith('/') ? target : posix.join(posix.dirname(current), target));
  }
  return undefined;
}

/**
 * The files of the context (paths relative to its root) a source reads: the path itself, everything beneath a
 * directory, or what a glob matches.
 */
export function filesReadBy(files: string[], source: string): string[] {
  const path = contextPath(source);
  if (path === '.') return [...files];
  if (/[*?[\]{}]/.test(path)) {
    const isMatch = picomatch(path, { dot: true });
    return files.filter((f) => isMatch(f));
  }
  return files.filter((f) => f === path || f.startsWith(`${path}/`));
}
