/**
 * A pull request comment kept up to date: one comment per marker (an HTML comment in its body), created once and
 * edited in place on every later run, so a pull request carries one verify report, not one per push.
 */
import type { Octokit } from '@octokit/rest';
import { GitHubUnreachableError } from './pulls.js';

export interface CommentSpec {
  owner: string;
  repo: string;
  number: number;
  /** Identifies our comment among the others, e.g. `builder-images verify`. */
  marker: string;
  body: string;
}

/** GitHub refuses comment bodies over 65,536 characters. */
export const MAX_COMMENT_CHARS = 65_000;

export async function upsertComment(octokit: Octokit, spec: CommentSpec): Promise<{ id: number; action: 'created' | 'updated' }> {
  const tag = `<!-- ${spec.marker} -->`;
  const text = `${tag}\n${spec.body}`;
  const body = text.length > MAX_COMMENT_CHARS ? `${text.slice(0, MAX_COMMENT_CHARS)}\n\n…(cut: the whole report is in the job summary)` : text;
  try {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner: spec.owner, repo: spec.repo, issue_number: spec.number, per_page: 100 });
    const ours = comments.find((c) => c.body?.startsWith(tag));
    if (ours) {
      await octokit.rest.issues.updateComment({ owner: spec.owner, repo: spec.repo, comment_id: ours.id, body });
      return { id: ours.id, action: 'updated' };
    }
    const created = await octokit.rest.issues.createComment({ owner: spec.owner, repo: spec.repo, issue_number: spec.number, body });
    return { id: created.data.id, action: 'created' };
  } catch (err) {
    const e = err as { response?: unknown; message?: string };
    if (e.response === undefined) throw new GitHubUnreachableError(String(octokit.request.endpoint.DEFAULTS.baseUrl), e.message ?? String(err));
    throw err;
  }
}
