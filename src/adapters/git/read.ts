/**
 * Read-only git: everything here takes no lock on the index (GIT_OPTIONAL_LOCKS=0, no commands that write),
 * so parallel CI jobs can run it at once in one checkout.
 */
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { perRun } from '../../util/cleanup.js';

const ENV = { GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

async function git(cwd: string, args: string[], input?: string): Promise<string> {
  const r = await execa('git', args, { cwd, env: ENV, reject: false, input, stripFinalNewline: false, maxBuffer: 512 * 1024 * 1024 });
  if (r.exitCode !== 0) {
    const why = String(r.stderr).trim().split('\n').pop() || `exit ${r.exitCode}`;
    throw new GitError(`git ${args[0]} failed in ${cwd}: ${why}`);
  }
  return String(r.stdout);
}

export interface TreeEntry {
  mode: string;
  blob: string;
  /** Path relative to the repository root. */
  path: string;
}

/** Committed files below `paths` at `rev`, one call. Symlinks have mode 120000 and their target as blob content. */
export async function listCommitted(root: string, paths: string | string[], rev = 'HEAD'): Promise<TreeEntry[]> {
  const out = await git(root, ['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...[paths].flat()]).catch((err: Error) => {
    if (/Not a valid object name|unknown revision|bad revision/.test(err.message)) return '';
    throw err;
  });
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode, , blob] = line.slice(0, tab).split(' ');
      return { mode: mode!, blob: blob!, path: line.slice(tab + 1) };
    });
}

/**
 * Paths below `paths` whose working copy differs from HEAD, and every file that is not tracked: untracked and
 * git-ignored ones alike (a build reads an ignored file as readily as a committed one).
 */
export async function listDirty(root: string, paths: string | string[]): Promise<string[]> {
  const out = await git(root, ['status', '--porcelain=v2', '-z', '--untracked-files=all', '--ignored=traditional', '--no-renames', '--', ...[paths].flat()]);
  const dirty: string[] = [];
  for (const record of out.split('\0').filter(Boolean)) {
    if (record.startsWith('? ') || record.startsWith('! ')) dirty.push(record.slice(2));
    else if (record.startsWith('1 ') || record.startsWith('u ')) dirty.push(record.split(' ').slice(record.startsWith('1 ') ? 8 : 10).join(' '));
  }
  return dirty.sort();
}

/** Blob ids of working-tree files, without writing objects (one call for all paths); missing files give null. */
export async function hashWorkingFiles(root: string, paths: string[]): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  if (paths.length === 0) return result;
  const { existsSync, lstatSync } = await import('node:fs');
  const { join } = await import('node:path');
  const present = paths.filter((p) => existsSync(join(root, p)) && !lstatSync(join(root, p)).isDirectory());
  const out = present.length ? await git(root, ['hash-object', '--stdin-paths'], present.join('\n') + '\n') : '';
  const ids = out.split('\n').filter(Boolean);
  present.forEach((p, i) => result.set(p, ids[i]!));
  for (const p of paths) if (!result.has(p)) result.set(p, null);
  return result;
}

/**
 * The repository's object hash (sha1, or sha256 for repositories made with --object-format=sha256); asked once per
 * run (a repository may be re-made between two runs in one process).
 */
export function objectFormat(root: string): Promise<'sha1' | 'sha256'> {
  return perRun(`git object format ${root}`, () =>
    git(root, ['rev-parse', '--show-object-format']).then(
      (out) => (out.trim() === 'sha256' ? 'sha256' : 'sha1'),
      () => 'sha1' as const,
    ),
  );
}

/**
 * git's blob id of some text (what `git hash-object --stdin` prints), computed here: a process per image
 * would dominate `tag` and `plan` on large repositories.
 */
export async function blobIdOf(root: string, text: string): Promise<string> {
  const body = Buffer.from(text, 'utf8');
  return createHash(await objectFormat(root))
    .update(`blob ${body.length}\0`)
    .update(body)
    .digest('hex');
}

export async function headCommit(root: string, short = false): Promise<string> {
  return (await git(root, short ? ['rev-parse', '--short', 'HEAD'] : ['rev-parse', 'HEAD'])).trim();
}

/** The branch or tag name HEAD is on (CI's GITHUB_REF_NAME wins), or undefined when detached. */
export async function refName(root: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.GITHUB_REF_NAME) return env.GITHUB_REF_NAME;
  const branch = await git(root, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
  if (branch.trim()) return branch.trim();
  const tag = await git(root, ['describe', '--tags', '--exact-match', 'HEAD']).catch(() => '');
  return tag.trim() || undefined;
}

/** The URL of a remote (for owner/repo), or undefined. */
export async function remoteUrl(root: string, remote = 'origin'): Promise<string | undefined> {
  return (await git(root, ['remote', 'get-url', remote]).catch(() => '')).trim() || undefined;
}

/**
 * The commit a ref names (branch, tag, FETCH_HEAD, HEAD~1, a hash), or a GitError that says how to get it: a
 * CI checkout is shallow, so the base branch of a pull request is often simply not fetched.
 */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new GitError(`"${ref}" is not a git ref`);
  const inRepo = await git(root, ['rev-parse', '--git-dir']).then(() => true, () => false);
  if (!inRepo) throw new GitError(`${root} is not a git repository: there is no history to compare with`);
  const out = await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).catch(() => '');
  if (!out.trim()) {
    throw new GitError(`no commit "${ref}" in ${root}: fetch it first (e.g. \`git fetch --depth=1 origin ${ref}\`, then use FETCH_HEAD), or name a branch, tag or commit that exists`);
  }
  return out.trim();
}

/**
 * The commit time (seconds since the epoch) of the last commit that changed any of `paths`: an image's
 * SOURCE_DATE_EPOCH, the same on every checkout of that history. Undefined outside git or when no commit
 * touches them (a shallow clone gives its one commit's time).
 */
export async function lastCommitTime(root: string, paths: string[]): Promise<number | undefined> {
  const out = await git(root, ['log', '-1', '--format=%ct', '--end-of-options', 'HEAD', '--', ...paths]).catch(() => '');
  const seconds = Number(out.trim());
  return out.trim() && Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : undefined;
}
