/**
 * `select --diff <ref>`: print which (target, arch, kernel series) picks a change moves, as text, JSON or Markdown,
 * and post the Markdown to the GitHub job summary when there is one. select.ts hands over here.
 */
import { diffSelect, type SelectDiff } from '../app/select-diff.js';
import { loadRepo } from '../app/repo.js';
import { GitError } from '../adapters/git/read.js';
import type { Arch } from '../core/names.js';
import { groupPicks, pickSide, type PickChange, type PickSide } from '../core/select-diff.js';
import type { MatrixPick } from '../core/select.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../util/output.js';
import { appendStepSummary, markdownTable } from '../util/step-summary.js';
import type { CommandContext } from './context.js';

export type DiffFormat = 'text' | 'json' | 'markdown';

export interface SelectDiffCliOptions {
  diff: string;
  tag: string;
  target?: string;
  arches: Arch[];
  format: DiffFormat;
}

export async function runSelectDiff(opts: SelectDiffCliOptions, ctx: CommandContext): Promise<number> {
  const repo = await loadRepo(ctx.cwd, ctx.configPath);
  let result: SelectDiff;
  try {
    result = await diffSelect(repo, { ref: opts.diff, tag: opts.tag, arches: opts.arches, target: opts.target });
  } catch (err) {
    if (err instanceof GitError) throw new UsageError(`--diff ${opts.diff}: ${err.message}`);
    throw err;
  }
  const markdown = diffMarkdown(result);
  if (opts.format === 'json') ctx.out.json(diffJson(result));
  else if (opts.format === 'markdown') ctx.out.result(markdown);
  else ctx.out.result(diffText(result));
  await appendStepSummary(markdown);
  return 0;
}

/** The tag part of an image name: both sides share the repository, so it only adds width. */
function shortImage(name: string | null): string {
  if (!name) return '(no image)';
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : name;
}

const gccOf = (s: PickSide) => s.gcc ?? '-';
const arrow = (before: string, after: string) => (before === after ? before : `${before} → ${after}`);

function headline(r: SelectDiff): string {
  const where = `images/ at ${r.ref} (${r.commit.slice(0, 7)}) → working tree, tag ${r.tag}`;
  return r.diff.changed.length
    ? `${where}: ${r.diff.changed.length} of ${r.picks} pick(s) change`
    : `${where}: no pick changes (${r.picks} compared)`;
}

export function diffText(r: SelectDiff): string {
  const lines = [headline(r)];
  if (r.diff.changed.length) {
    const rows = [['TARGET', 'ARCH', 'KERNEL', 'WANTS', 'GCC', 'HOW', 'IMAGE']];
    for (const c of r.diff.changed) {
      rows.push([c.target, c.arch, c.kernel, c.wanted, arrow(gccOf(c.before), gccOf(c.after)), arrow(c.before.reason, c.after.reason), arrow(shortImage(c.before.image), shortImage(c.after.image))]);
    }
    lines.push(formatTable(rows), `${r.diff.unchanged.length} pick(s) unchanged`);
  }
  return lines.join('\n');
}

export function diffJson(r: SelectDiff): unknown {
  return { ref: r.ref, commit: r.commit, tag: r.tag, picks: r.picks, changed: r.diff.changed, unchanged: r.diff.unchanged.length };
}

/** Kernel series of a group, as written in the matrix (2.6.32, 3.0.0, …). */
const kernelList = (kernels: string[]) => kernels.join(', ');

/**
 * For a pull request: changed picks grouped by identical before → after per target and arch, unchanged ones folded
 * into a <details> block, grouped the same way; 200 picks read as a few dozen rows.
 */
export function diffMarkdown(r: SelectDiff): string {
  const parts = [`### Driver builder picks: \`${r.ref}\` → this change`, ''];
  const source = `\`select --matrix\` over images/ at \`${r.ref}\` (\`${r.commit.slice(0, 7)}\`) and the working tree, tag \`${r.tag}\``;
  if (r.diff.changed.length) {
    parts.push(`**${r.diff.changed.length} of ${r.picks} picks change** (target, arch, kernel series), ${source}.`, '');
    const changeKey = (c: PickChange) => JSON.stringify([c.wanted, c.before.image, c.before.gcc, c.after.image, c.after.gcc]);
    const rows = [['Target', 'Arch', 'Kernel series', 'Wants', 'GCC', 'Image']];
    for (const g of groupPicks(r.diff.changed, changeKey)) {
      const c = g.sample;
      const gcc = gccOf(c.before) === gccOf(c.after) ? gccOf(c.after) : `${gccOf(c.before)} → **${gccOf(c.after)}**`;
      rows.push([g.target, g.arch, kernelList(g.kernels), c.wanted, gcc, arrow(shortImage(c.before.image), shortImage(c.after.image))]);
    }
    parts.push(markdownTable(rows));
  } else {
    parts.push(`**No pick changes**: all ${r.picks} picks are the same, ${source}.`);
  }
  if (r.diff.unchanged.length) {
    const sameKey = (p: MatrixPick) => JSON.stringify([p.pick?.image.name, p.pick?.gcc]);
    const groups = groupPicks(r.diff.unchanged, sameKey);
    const rows = [['Target', 'Arch', 'Kernel series', 'GCC', 'Image']];
    for (const g of groups) {
      const pick = pickSide(g.sample);
      rows.push([g.target, g.arch, kernelList(g.kernels), pick.gcc ?? '-', shortImage(pick.image)]);
    }
    parts.push('', `<details><summary>${r.diff.unchanged.length} unchanged picks (${groups.length} rows)</summary>`, '', markdownTable(rows), '', '</details>');
  }
  return parts.join('\n');
}
