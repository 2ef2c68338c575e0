import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import { planBump, type BumpPlan, type BumpProblem } from '../app/bump.js';
import { openBumpPullRequest, writeBump } from '../app/bump-apply.js';
import { registryAccess } from '../app/registry-client.js';
import { loadRepo } from '../app/repo.js';
import { updateTable } from '../core/bump.js';
import { formatTable, type Output } from '../util/output.js';
import { action, type Streams, insecureOption } from './context.js';

interface BumpCliOptions {
  dryRun?: boolean;
  pin?: boolean;
  openPr?: boolean;
  branch?: string;
  base?: string;
  remote: string;
  json?: boolean;
  insecure?: string[];
}

export function register(program: Command, streams: Streams): void {
  program
    .command('bump')
    .description('Move digest-pinned image references to current digests, optionally as a pull request')
    .option('--dry-run', 'print a unified diff and the update table; write nothing')
    .option('--pin', 'also add digests to unpinned image:tag references')
    .option('--open-pr', 'commit on a branch, push it, and open or update its pull request (GITHUB_TOKEN)')
    .option('--branch <name>', 'branch for --open-pr (default: config bump.branch, i.e. builder-images/digests)')
    .option('--base <branch>', 'base branch of the pull request (default: the current branch)')
    .option('--remote <name>', 'git remote to push to', 'origin')
    .option('--json', 'print the plan as JSON')
    .addOption(insecureOption())
    .addHelpText(
      'after',
      `
Updates image:tag@sha256 references in # syntax=, FROM, COPY --from, RUN --mount from and the ARG defaults they
come from: to the tag's current digest (the index digest for a multi-arch tag; a one-platform pin stays on its
platform), and the repository's own images to the content tag they have now. Only the digest (or reference) text
changes, where it is written; a digest assembled from several variables is reported, not rewritten. --open-pr builds the commit without touching the
checkout, force-pushes the branch, and updates the open pull request instead of opening a second one.`,
    )
    .action(
      action<BumpCliOptions>(async (opts, ctx) => {
        const repo = await loadRepo(ctx.cwd, ctx.configPath);
        const { client } = registryAccess(repo, { insecure: opts.insecure, debug: ctx.out.debug, idleTimeoutMs: ctx.idleTimeoutMs });
        const plan = await planBump(repo, client, { pin: Boolean(opts.pin), onProgress: ctx.out.progress });
        for (const p of plan.problems) ctx.out.warn(`${p.file}:${p.line}: ${p.reference}: ${p.message}`);
        const failed = plan.problems.some((p) => p.severity === 'error') ? 1 : 0;

        if (opts.json) ctx.out.json(plan);
        if (plan.updates.length === 0) {
          if (!opts.json) ctx.out.result(`nothing to bump${unresolvedNote(plan.problems)}`);
          return failed;
        }
        if (opts.dryRun) {
          if (!opts.json) printPlan(ctx.out, plan);
          return failed;
        }
        if (opts.openPr) {
          const pr = await openBumpPullRequest(repo, plan, { remote: opts.remote, branch: opts.branch, base: opts.base, env: process.env, onProgress: ctx.out.progress });
          ctx.out.result(`${pr.action} pull request #${pr.number}: ${pr.url}`);
          ctx.out.result(formatTable(updateTable(plan.updates)));
          return failed;
        }
        await writeBump(repo, plan);
        if (!opts.json) {
          ctx.out.result(formatTable(updateTable(plan.updates)));
          ctx.out.result(`updated ${plan.changes.length} file(s): ${plan.changes.map((c) => c.path).join(', ')}${unresolvedNote(plan.problems)}`);
        }
        return failed;
      }, streams),
    );
}

function printPlan(out: Output, plan: BumpPlan): void {
  // Through Output like every result, so redaction applies to the diff too.
  // jsdiff ends the ---/+++ lines with a tab before its (empty) header: a trailing blank nobody can see.
  for (const c of plan.changes) out.result(createTwoFilesPatch(`a/${c.path}`, `b/${c.path}`, c.before, c.after, '', '', { context: 2 }).replace(/^((?:---|\+\+\+) \S+)\t$/gm, '$1').replace(/\n$/, ''));
  out.result('');
  out.result(formatTable(updateTable(plan.updates)));
  out.result(`\n${plan.updates.length} update(s) in ${plan.changes.length} file(s) (dry run: nothing written)${unresolvedNote(plan.problems)}`);
}

/**
 * What the summary line owes the reader when references were left alone: how many could not be resolved and
 * why, the same reasons counted once (each reference is named in the warnings above it).
 */
export function unresolvedNote(problems: BumpProblem[]): string {
  const reasons = new Map<string, number>();
  for (const p of problems.filter((x) => x.severity === 'error')) {
    // Messages name the reference they are about; without it the reason is shared by many ("…: not found" after
    // "not found in its registry" says nothing more).
    const reason = p.message
      .replace(/(?<=^|\s)\S*[/:]\S*: /g, '')
      .replace(/^(.*): (.*)$/, (whole, head: string, tail: string) => (head.includes(tail) ? head : whole));
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const errors = [...reasons.values()].reduce((a, b) => a + b, 0);
  const pending = problems.length - errors;
  const parts: string[] = [];
  if (errors) {
    const why = [...reasons].map(([reason, n]) => (reasons.size > 1 ? `${n}: ${reason}` : reason)).join('; ');
    parts.push(`${errors} reference(s) could not be resolved (${why})`);
  }
  if (pending) parts.push(`${pending} wait for their own image's next push`);
  return parts.length ? `: ${parts.join(', ')}; each is named above` : '';
}
