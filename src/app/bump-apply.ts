/**
 * What `bump` does with a plan: write the changed files in the checkout, or publish them as a pull request
 * (a commit built without touching the checkout, force-pushed to a branch, and the branch's pull request opened or
 * updated).
 */
import { join } from 'node:path';
import { publishBranch } from '../adapters/git/publish.js';
import { refName, remoteUrl } from '../adapters/git/read.js';
import { pullRequestBody, updateTable, updateTitle } from '../core/bump.js';
import { CliError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { formatTable } from '../util/output.js';
import type { BumpPlan } from './bump.js';
import type { Repo } from './repo.js';

/** Write every changed file of the plan (atomically: no file is ever half-written). */
export async function writeBump(repo: Repo, plan: BumpPlan): Promise<void> {
  for (const change of plan.changes) await writeFileAtomic(join(repo.root, change.path), change.after);
}

export interface PullRequestOptions {
  remote: string;
  /** Default: the config's bump.branch. */
  branch?: string;
  /** Default: GITHUB_BASE_REF, else the current branch. */
  base?: string;
  /** GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_BASE_REF are read from here. */
  env: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
}

export interface PullRequestOutcome {
  action: string;
  number: number;
  url: string;
  branch: string;
  commit: string;
}

export async function openBumpPullRequest(repo: Repo, plan: BumpPlan, options: PullRequestOptions): Promise<PullRequestOutcome> {
  // Loaded here only: octokit is the heaviest module, and every other command starts faster without it.
  const { githubApiUrl, githubClient, GitHubUnreachableError, repositoryOf, upsertPullRequest } = await import('../adapters/github/pulls.js');
  const token = options.env.GITHUB_TOKEN;
  if (!token) throw new UsageError('--open-pr needs GITHUB_TOKEN in the environment (a token that may push branches and open pull requests)');
  const url = await remoteUrl(repo.root, options.remote);
  const slug = repositoryOf(url, options.env);
  if (!slug) throw new UsageError(`cannot tell the GitHub repository: set GITHUB_REPOSITORY=owner/repo (remote ${options.remote} is ${url ?? 'missing'})`);
  const branch = options.branch ?? repo.config.bump.branch;
  const base = options.base ?? options.env.GITHUB_BASE_REF ?? (await refName(repo.root, {}));
  if (!base) throw new UsageError('cannot tell the base branch (detached HEAD): pass --base');
  const title = updateTitle(plan.updates);
  const commit = await publishBranch(repo.root, {
    branch,
    remote: options.remote,
    token,
    message: `${title}\n\n${formatTable(updateTable(plan.updates))}\n`,
    files: plan.changes.map((c) => ({ path: c.path, content: c.after })),
  });
  options.onProgress?.(`pushed ${commit.slice(0, 12)} to ${options.remote}/${branch}`);
  try {
    const pr = await upsertPullRequest(githubClient(token, githubApiUrl(options.env)), { ...slug, head: branch, base, title, body: pullRequestBody(plan.updates, plan.changes.map((c) => c.path)) });
    return { action: pr.action, number: pr.number, url: pr.url, branch, commit };
  } catch (err) {
    if (err instanceof GitHubUnreachableError) {
      throw new CliError(`${err.message}: no pull request was opened for ${slug.owner}/${slug.repo}; the branch ${branch} was pushed: run again when the API is reachable (GITHUB_API_URL)`);
    }
    const e = err as { status?: number; message?: string };
    throw new CliError(`GitHub refused the pull request for ${slug.owner}/${slug.repo} (HTTP ${e.status ?? '?'}): ${e.message ?? String(err)}; the branch ${branch} was pushed`);
  }
}
