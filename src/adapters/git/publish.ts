/**
 * Publishing a change as a branch without touching the checkout: the commit is built with a temporary index
 * (read-tree, update-index, write-tree, commit-tree), so neither the working tree nor .git/index is locked or
 * changed, then force-pushed. A GitHub token travels as an HTTP header through git's environment config
 * (GIT_CONFIG_COUNT/KEY/VALUE): never in a URL, an argument list, a log or an error.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { onInterrupt } from '../../util/cleanup.js';
import { redact, registerSecret } from '../../util/redact.js';
import { GitError } from './read.js';

export interface BranchChange {
  branch: string;
  message: string;
  files: { path: string; content: string }[];
  remote?: string;
  /** GitHub token for https remotes. */
  token?: string;
  env?: NodeJS.ProcessEnv;
}

const IDENTITY = { GIT_AUTHOR_NAME: 'builder-images', GIT_AUTHOR_EMAIL: 'builder-images@users.noreply.github.com', GIT_COMMITTER_NAME: 'builder-images', GIT_COMMITTER_EMAIL: 'builder-images@users.noreply.github.com' };

async function git(root: string, args: string[], env: Record<string, string | undefined>, input?: string): Promise<string> {
  const r = await execa('git', args, { cwd: root, env: { GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', ...env }, input, reject: false });
  if (r.exitCode !== 0) throw new GitError(redact(`git ${args[0]} failed: ${String(r.stderr).trim().split('\n').pop() ?? `exit ${r.exitCode}`}`));
  return String(r.stdout).trim();
}

/** Environment that gives git the token as an Authorization header for one host. */
function tokenEnv(token: string, host = 'github.com'): Record<string, string> {
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  registerSecret(token);
  registerSecret(basic);
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.https://${host}/.extraheader`, GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basic}` };
}

/** Commit `files` on top of HEAD as `branch` and force-push it; returns the commit id. */
export async function publishBranch(root: string, change: BranchChange): Promise<string> {
  const base = { ...(change.env ?? process.env), ...IDENTITY } as Record<string, string | undefined>;
  const remote = change.remote ?? 'origin';
  const remoteUrl = await git(root, ['remote', 'get-url', remote], base);
  const host = /^https?:\/\/([^/]+)/.exec(remoteUrl)?.[1];
  const auth = change.token && host ? tokenEnv(change.token, host) : {};
  const index = join(tmpdir(), `bi-index-${randomBytes(6).toString('hex')}`);
  const withIndex = { ...base, GIT_INDEX_FILE: index };
  const indexRemoval = onInterrupt(() => rm(index, { force: true }));
  try {
    await git(root, ['read-tree', 'HEAD'], withIndex);
    for (const file of change.files) {
      const blob = await git(root, ['hash-object', '-w', '--stdin', '--path', file.path], base, file.content);
      const existing = await git(root, ['ls-tree', 'HEAD', '--', file.path], base);
      const mode = existing.split(' ')[0] || '100644';
      await git(root, ['update-index', '--add', '--cacheinfo', `${mode},${blob},${file.path}`], withIndex);
    }
    const tree = await git(root, ['write-tree'], withIndex);
    const commit = await git(root, ['commit-tree', tree, '-p', 'HEAD', '-F', '-'], base, change.message);
    await git(root, ['push', '--force', '--quiet', remote, `${commit}:refs/heads/${change.branch}`], { ...base, ...auth });
    return commit;
  } finally {
    await indexRemoval.runNow();
  }
}
