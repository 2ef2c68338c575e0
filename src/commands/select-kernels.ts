/**
 * `select --kernels FILE|URL`: for every kernel of a list (kernel-crawler's list.json or our own), the image and
 * GCC the driver builder would pick, and how many kernels each image serves. select.ts hands over here.
 */
import { readKernelListSource, KernelListSourceError } from '../adapters/kernels/kernel-list-source.js';
import type { IndexEntry } from '../core/index-schema.js';
import { filterKernels, KernelListError, sampleKernels, sortKernels, uniqueKernels, type KernelListEntry } from '../core/kernel-list.js';
import { kernelsForImages, pickForKernels, type KernelPick, type KernelPickSummary } from '../core/kernel-picks.js';
import type { Arch } from '../core/names.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../util/output.js';
import { appendStepSummary, markdownCell, markdownTable } from '../util/step-summary.js';
import type { CommandContext } from './context.js';

export interface KernelListFlags {
  kernels: string;
  arch?: Arch;
  target?: string;
  release?: string;
  image?: string[];
  sample?: string;
}

/** The list, read and cut by the flags that `select --kernels` and `verify --kernels` share. */
export async function loadKernelList(flags: KernelListFlags, cwd: string): Promise<KernelListEntry[]> {
  let kernels: KernelListEntry[];
  try {
    kernels = await readKernelListSource(flags.kernels, { cwd, arch: flags.arch });
  } catch (err) {
    if (err instanceof KernelListError || err instanceof KernelListSourceError) throw new UsageError(err.message);
    throw err;
  }
  let release: RegExp | undefined;
  if (flags.release) {
    try {
      release = new RegExp(flags.release);
    } catch (err) {
      throw new UsageError(`--release "${flags.release}" is not a regular expression: ${(err as Error).message}`);
    }
  }
  const cut = uniqueKernels(filterKernels(kernels, { arch: flags.arch, target: flags.target, release }));
  if (flags.sample === undefined) return sortKernels(cut);
  const n = Number(flags.sample);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--sample takes a whole number of kernels, 1 or more (got "${flags.sample}")`);
  return sampleKernels(cut, n);
}

/** The picks, narrowed to the kernels sent to --image when given. */
export function picksFor(entries: IndexEntry[], kernels: KernelListEntry[], tag: string, images?: string[]): { summary: KernelPickSummary; picks: KernelPick[] } {
  const summary = pickForKernels(entries, kernels, tag);
  return { summary, picks: images?.length ? kernelsForImages(summary, images) : summary.picks };
}

export async function runSelectKernels(entries: IndexEntry[], flags: KernelListFlags & { tag: string; json?: boolean; format?: string }, ctx: CommandContext): Promise<number> {
  const kernels = await loadKernelList(flags, ctx.cwd);
  const { summary, picks } = picksFor(entries, kernels, flags.tag, flags.image);
  const shown = { ...summary, picks, perImage: flags.image?.length ? summary.perImage.filter((l) => picks.some((p) => p.image === l.image)) : summary.perImage };
  if (flags.json || flags.format === 'json') ctx.out.json(picksJson(shown));
  else if (flags.format === 'markdown') ctx.out.result(picksMarkdown(shown, flags.kernels));
  else ctx.out.result(picksText(shown));
  await appendStepSummary(picksMarkdown(shown, flags.kernels));
  return 0;
}

const tagOf = (name: string) => name.slice(name.lastIndexOf(':') + 1);

function picksJson(s: KernelPickSummary) {
  return {
    kernels: s.picks.map((p) => ({ release: p.kernel.release, arch: p.kernel.arch, target: p.kernel.target, wanted: p.wanted, image: p.image ?? null, gcc: p.gcc ?? null, reason: p.reason, exact: p.exact })),
    images: s.perImage,
    unserved: s.unserved.map((p) => ({ release: p.kernel.release, arch: p.kernel.arch, target: p.kernel.target, reason: p.reason })),
  };
}

function summaryLine(s: KernelPickSummary): string {
  const inexact = s.picks.filter((p) => p.image && !p.exact).length;
  const fallback = s.picks.filter((p) => p.reason === 'fallback').length;
  return `${s.picks.length} kernel(s): ${s.perImage.length} image(s) serve them; ${fallback} through the "any" fallback, ${inexact} without the GCC they want (marked *), ${s.unserved.length} with no image`;
}

function picksText(s: KernelPickSummary): string {
  const rows = [['KERNEL', 'ARCH', 'TARGET', 'WANTS', 'GCC', 'HOW', 'IMAGE']];
  for (const p of s.picks) rows.push([p.kernel.release, p.kernel.arch, p.kernel.target, p.wanted, (p.gcc ?? '-') + (p.image && !p.exact ? ' *' : ''), p.reason, p.image ?? '(no image)']);
  const load = [['IMAGE', 'KERNELS', 'WITHOUT WANTED GCC', 'AS FALLBACK']];
  for (const l of s.perImage) load.push([l.image, String(l.kernels), String(l.inexact), String(l.fallback)]);
  return [formatTable(rows), '', formatTable(load), '', summaryLine(s)].join('\n');
}

function picksMarkdown(s: KernelPickSummary, list: string): string {
  const load = [['Image', 'Kernels', 'Without the wanted GCC', 'As fallback'], ...s.perImage.map((l) => [`\`${tagOf(l.image)}\``, String(l.kernels), String(l.inexact), String(l.fallback)])];
  const odd = s.picks.filter((p) => !p.exact);
  const lines = [`### Builder images for the kernels of ${markdownCell(list)}`, '', summaryLine(s), '', markdownTable(load)];
  if (odd.length) {
    const rows = [['Kernel', 'Arch', 'Target', 'Wants', 'Gets', 'Image'], ...odd.slice(0, 200).map((p) => [p.kernel.release, p.kernel.arch, p.kernel.target, p.wanted, p.gcc ?? '-', p.image ? `\`${tagOf(p.image)}\`` : '(no image)'])];
    lines.push('', `<details><summary>${odd.length} kernel(s) without the GCC they want${odd.length > 200 ? ' (first 200)' : ''}</summary>`, '', markdownTable(rows), '', '</details>');
  }
  return lines.join('\n');
}
