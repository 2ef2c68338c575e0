/**
 * `verify --kernels FILE|URL`: the driver grid's question — for which of the kernels the driver builder will send
 * to these images does the module build (and load)? Sharded (`--shard I/N`), parallel (`--jobs N`), skipping
 * what the registry's verification records already prove (`--record`), reported as a kernel series x image matrix
 * (text, `--json`, Markdown into $GITHUB_STEP_SUMMARY). `--plan` prints the shard matrix for CI; `--merge` joins
 * the shards' JSON into one report. verify.ts hands over here.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { planGrid, runGrid, type GridRow } from '../app/verify-grid.js';
import type { Candidate, VerifyKernel, VerifyRow } from '../app/verify.js';
import type { RegistryClient } from '../adapters/registry/client.js';
import type { IndexEntry } from '../core/index-schema.js';
import type { Arch } from '../core/names.js';
import { parseShard, type Shard } from '../core/kernel-list.js';
import { summaryLine, verifyMarkdown, verifyMatrix, type ReportRow } from '../core/verify-report.js';
import { UsageError } from '../errors.js';
import { formatTable, type Output } from '../util/output.js';
import { appendStepSummary } from '../util/step-summary.js';
import type { CommandContext } from './context.js';
import { loadKernelList, type KernelListFlags } from './select-kernels.js';
import { upsertComment } from '../adapters/github/comments.js';
import { githubApiUrl, githubClient, repositoryOf } from '../adapters/github/pulls.js';
import { GitError } from '../adapters/git/read.js';
import type { Repo } from '../app/repo.js';
import { indexesAt } from '../app/select-diff.js';
import type { KernelListEntry } from '../core/kernel-list.js';
import { imageMatcher, movedKernels } from '../core/kernel-picks.js';

export interface GridFlags extends KernelListFlags {
  shard?: string;
  jobs?: string;
  plan?: string;
  record?: boolean;
  /** Only the kernels whose pick images/ at this git ref and the working tree disagree on. */
  diff?: string;
  /** Post (or update) the report as a comment on this pull request (`true`: the one GitHub Actions runs for). */
  commentPr?: string | boolean;
}

export function parseJobs(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs takes a whole number from 1 to 64 (got "${text}")`);
  return n;
}

export function shardFlag(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const shard = parseShard(text);
  if (!shard) throw new UsageError(`--shard takes I/N with 1 <= I <= N <= 1000, e.g. 2/4 (got "${text}")`);
  return shard;
}

/**
 * `--plan N`: the GitHub Actions matrix of N shards per arch, each on the config's native runner for its arch:
 * `{"include": [{"shard": "1/N", "arch": "x86_64", "runner": "ubuntu-24.04", "name": "…"}, …]}`.
 */
export function planMatrix(text: string, runners: Partial<Record<Arch, string>>, arches: Arch[]): { include: { shard: string; arch: Arch; runner: string; name: string }[] } {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--plan takes the number of shards, 1 to 256 (got "${text}")`);
  return {
    include: arches.flatMap((arch) => {
      const runner = runners[arch];
      if (!runner) throw new UsageError(`--plan: no runner for ${arch} under runners: in builder-images.yaml`);
      return Array.from({ length: n }, (_, i) => ({ shard: `${i + 1}/${n}`, arch, runner, name: `verify ${arch} ${i + 1} of ${n}` }));
    }),
  };
}

export interface GridContext {
  repo: Repo;
  entries: IndexEntry[];
  tag: string;
  repoRoot: string;
  cacheDir: string;
  client: RegistryClient;
  /** How the module source hashes and the flow is named in records. */
  moduleSource: string;
  flow: string;
  runPair: (kernel: VerifyKernel, candidate: Candidate) => Promise<VerifyRow>;
}

export async function runVerifyKernels(flags: GridFlags, grid: GridContext, ctx: CommandContext, format: 'text' | 'json' | 'github'): Promise<number> {
  const listed = await loadKernelList(flags, ctx.cwd);
  const kernels = flags.diff ? await kernelsMoved(listed, flags.diff, grid, ctx) : listed;
  const images = flags.image?.length ? flags.image : undefined;
  const matches = images ? imageMatcher(images) : undefined;
  const shard = shardFlag(flags.shard);
  const plan = planGrid(kernels, grid.entries, grid.tag, { shard, images: matches });
  ctx.out.progress(`verify: ${kernels.length} kernel(s) in ${flags.kernels}; ${plan.pairs.length} pair(s) to verify${shard ? ` in shard ${shard.index}/${shard.count}` : ''}; ${plan.unserved.length} kernel(s) no image serves`);
  for (const u of plan.unserved.slice(0, 20)) ctx.out.warn(`${u.kernel.release} (${u.kernel.arch}, ${u.kernel.target}): ${u.why}`);
  const rows = await runGrid(plan, {
    jobs: parseJobs(flags.jobs),
    cwd: ctx.cwd,
    cacheDir: grid.cacheDir,
    onProgress: ctx.out.progress,
    runPair: grid.runPair,
    records: flags.record ? { client: grid.client, moduleSource: grid.moduleSource, flow: grid.flow } : undefined,
  });
  const title = `verify ${flags.kernels}${flags.diff ? ` (the kernels this change moves against ${flags.diff})` : ''}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}`;
  printGrid(ctx.out, rows, format, title);
  const markdown = verifyMarkdown(verifyMatrix(rows), title);
  await appendStepSummary(markdown);
  if (flags.commentPr !== undefined) await commentOnPullRequest(flags.commentPr, markdown, ctx);
  return rows.some((r) => r.verdict === 'fail' || (r.boot !== undefined && r.boot !== 'loads')) ? 1 : 0;
}

/** What a report prints of a row: a fresh GridRow, or one read back from a shard's JSON. */
async function kernelsMoved(kernels: KernelListEntry[], ref: string, grid: GridContext, ctx: CommandContext): Promise<KernelListEntry[]> {
  let sides;
  try {
    sides = await indexesAt(grid.repo, ref, grid.tag);
  } catch (err) {
    if (err instanceof GitError) throw new UsageError(`--diff ${ref}: ${err.message}`);
    throw err;
  }
  const moved = movedKernels(sides.before, sides.after, kernels, grid.tag);
  ctx.out.progress(`verify: ${moved.length} of ${kernels.length} kernel(s) change image or GCC between images/ at ${ref} (${sides.commit.slice(0, 7)}) and the working tree`);
  for (const m of moved.slice(0, 20)) ctx.out.progress(`  ${m.kernel.release} (${m.kernel.arch}): ${m.before.image ?? '(no image)'} gcc ${m.before.gcc ?? '-'} -> ${m.after.image ?? '(no image)'} gcc ${m.after.gcc ?? '-'}`);
  return moved.map((m) => m.kernel);
}

/** The pull request to comment on: the flag's number, else the one in GitHub Actions' event file. */
async function pullRequestNumber(flag: string | boolean, env: NodeJS.ProcessEnv): Promise<number> {
  if (typeof flag === 'string') {
    if (!/^[1-9]\d{0,9}$/.test(flag)) throw new UsageError(`--comment-pr takes a pull request number (got "${flag}")`);
    return Number(flag);
  }
  const event = env.GITHUB_EVENT_PATH ? await readFile(env.GITHUB_EVENT_PATH, 'utf8').catch(() => undefined) : undefined;
  const number = (event ? (JSON.parse(event) as { pull_request?: { number?: unknown } }).pull_request?.number : undefined) as unknown;
  if (typeof number !== 'number') throw new UsageError('--comment-pr without a number needs a pull_request event (GITHUB_EVENT_PATH): give the number');
  return number;
}

async function commentOnPullRequest(flag: string | boolean, markdown: string, ctx: CommandContext, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const token = env.GITHUB_TOKEN;
  if (!token) throw new UsageError('--comment-pr needs GITHUB_TOKEN (with pull-requests: write)');
  const slug = repositoryOf(undefined, env);
  if (!slug) throw new UsageError('--comment-pr needs GITHUB_REPOSITORY=owner/repo');
  const number = await pullRequestNumber(flag, env);
  const done = await upsertComment(githubClient(token, githubApiUrl(env)), { ...slug, number, marker: 'builder-images verify', body: markdown });
  ctx.out.progress(`verify: report ${done.action} as a comment on ${slug.owner}/${slug.repo}#${number}`);
}

type AnyRow = ReportRow & { gcc: string; seconds: number };

export function printGrid(out: Output, rows: AnyRow[] | GridRow[], format: 'text' | 'json' | 'github', title: string): void {
  if (format === 'json') return out.json(rows);
  const table = [['KERNEL', 'ARCH', 'IMAGE', 'GCC', 'VERDICT', 'SECONDS']];
  for (const r of rows as AnyRow[]) table.push([r.kernel, r.arch, r.image, r.gcc, r.cached ? `${r.verdict} (recorded)` : r.boot && r.verdict === 'pass' ? r.boot.split(':')[0]! : r.verdict, r.seconds.toFixed(1)]);
  out.result(formatTable(table));
  for (const r of (rows as AnyRow[]).filter((x) => x.verdict === 'fail' || (x.boot && x.boot !== 'loads'))) {
    out.result(`  ${r.kernel} ${r.arch} ${r.image}: ${r.verdict === 'fail' ? r.message : r.boot}`);
    for (const line of r.errors) out.result(`    | ${line}`);
  }
  out.result(summaryLine(verifyMatrix(rows as ReportRow[])));
  if (format === 'github') out.result(`(${title}: the matrix is in the job summary)`);
}

const rowSchema = z
  .object({
    kernel: z.string(),
    arch: z.string(),
    target: z.string(),
    image: z.string(),
    gcc: z.string(),
    verdict: z.enum(['pass', 'fail', 'skipped']),
    seconds: z.number(),
    message: z.string(),
    errors: z.array(z.string()),
    boot: z.string().optional(),
    cached: z.boolean().optional(),
  })
  .passthrough();

/** `verify --merge a.json b.json …`: the shards' `--json` rows as one report (a pair in two shards counts once). */
export async function mergeReports(files: string[], ctx: CommandContext, format: 'text' | 'json' | 'github'): Promise<number> {
  const seen = new Map<string, AnyRow>();
  for (const file of files) {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(resolve(ctx.cwd, file), 'utf8'));
    } catch (err) {
      throw new UsageError(`--merge ${file}: not a verify --json report: ${(err as Error).message}`);
    }
    const parsed = z.array(rowSchema).max(1_000_000).safeParse(value);
    if (!parsed.success) throw new UsageError(`--merge ${file}: not a verify --json report: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    for (const r of parsed.data) seen.set(`${r.arch} ${r.target} ${r.kernel} ${r.image}`, r);
  }
  const rows = [...seen.values()];
  printGrid(ctx.out, rows, format, `verify (${files.length} report(s) merged)`);
  await appendStepSummary(verifyMarkdown(verifyMatrix(rows), `verify: ${files.length} shard(s) merged`));
  return rows.some((r) => r.verdict === 'fail' || (r.boot !== undefined && r.boot !== 'loads')) ? 1 : 0;
}
