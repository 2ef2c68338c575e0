/**
 * GitHub pull requests through @octokit/rest: one pull request per branch, opened once and then updated in
 * place (title and body) instead of opening a second. The API base comes from GITHUB_API_URL (GitHub
 * Enterprise, or a local stand-in in tests).
 */
import { Octokit } from '@octokit/rest';
import { registerSecret } from '../../util/redact.js';

export interface PullRequestSpec {
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
}

export interface PullRequestResult {
  number: number;
  url: string;
  action: 'created' | 'updated';
}

/** The REST API's base: GITHUB_API_URL (GitHub Enterprise, a local stand-in in tests), else api.github.com. */
export function githubApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.GITHUB_API_URL ?? 'https://api.github.com';
}

/** The API gave no answer at all (refused connection, DNS, TLS, timeout): not GitHub refusing anything. */
export class GitHubUnreachableError extends Error {
  constructor(
    readonly baseUrl: string,
    reason: string,
  ) {
    super(`could not reach the GitHub API at ${baseUrl}: ${reason}`);
    this.name = 'GitHubUnreachableError';
  }
}

export function githubClient(token: string, baseUrl = githubApiUrl()): Octokit {
  registerSecret(token);
  return new Octokit({ auth: token, baseUrl, userAgent: 'builder-images', log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
}

export async function upsertPullRequest(octokit: Octokit, spec: PullRequestSpec): Promise<PullRequestResult> {
  try {
    return await upsert(octokit, spec);
  } catch (err) {
    // octokit reports a request that got no response as HTTP 500 without a response: tell the two apart.
    const e = err as { response?: unknown; message?: string };
    if (e.response === undefined) throw new GitHubUnreachableError(String(octokit.request.endpoint.DEFAULTS.baseUrl), e.message ?? String(err));
    throw err;
  }
}

async function upsert(octokit: Octokit, spec: PullRequestSpec): Promise<PullRequestResult> {
  const open = await octokit.rest.pulls.list({ owner: spec.owner, repo: spec.repo, head: `${spec.owner}:${spec.head}`, state: 'open', per_page: 10 });
  const existing = open.data[0];
  if (existing) {
    await octokit.rest.pulls.update({ owner: spec.owner, repo: spec.repo, pull_number: existing.number, title: spec.title, body: spec.body });
    return { number: existing.number, url: existing.html_url, action: 'updated' };
  }
  const created = await octokit.rest.pulls.create({ owner: spec.owner, repo: spec.repo, head: spec.head, base: spec.base, title: spec.title, body: spec.body });
  return { number: created.data.number, url: created.data.html_url, action: 'created' };
}

/** owner/repo from GITHUB_REPOSITORY, else from a GitHub remote URL. */
export function repositoryOf(remoteUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): { owner: string; repo: string } | undefined {
  const slug = env.GITHUB_REPOSITORY ?? /[/:]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(remoteUrl ?? '')?.[1];
  const [owner, repo] = slug?.split('/') ?? [];
  return owner && repo ? { owner, repo } : undefined;
}
