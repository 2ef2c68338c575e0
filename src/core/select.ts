/**
 * The driver builder's choice of builder image, reproduced so the index can be trusted. Pure.
 *
 * 1. keep images for the build arch and tag whose target is the build target or `any`;
 * 2. an image of the build target that provides the target GCC exactly wins; else an `any` image that does;
 * 3. else, over all kept GCC versions (target and `any` alike), take the largest version <= the target GCC, or,
 *    if all are greater, the smallest; then prefer the build target's image over `any` for that version.
 */
import { ANY_TARGET, type Arch } from './names.js';
import { defaultGccForKernel, KERNEL_SERIES, parseKernelRelease } from './kernel.js';
import type { IndexEntry } from './index-schema.js';
import { compareGccVersions, formatGccVersion, parseGccVersion, type GccVersion } from './version.js';

export type SelectionReason = 'exact' | 'fallback' | 'nearest-lower' | 'smallest';

export interface SelectionRequest {
  target: string;
  arch: Arch;
  tag: string;
  gcc: GccVersion;
}

export interface Selection {
  image: IndexEntry;
  gcc: string;
  reason: SelectionReason;
  /** One sentence a person can check. */
  why: string;
}

export function selectBuilder(entries: IndexEntry[], req: SelectionRequest): Selection | null {
  const kept = entries.filter((e) => e.arch === req.arch && e.tag === req.tag && (e.target === req.target || e.target === ANY_TARGET));
  const wanted = formatGccVersion(req.gcc);
  const ofTarget = (e: IndexEntry) => e.target === req.target;
  const provides = (version: string) => (e: IndexEntry) => e.gcc_versions.includes(version);

  const exact = kept.find((e) => ofTarget(e) && provides(wanted)(e));
  if (exact) return { image: exact, gcc: wanted, reason: 'exact', why: `${req.target} image provides GCC ${wanted} exactly` };
  if (req.target !== ANY_TARGET) {
    const fallback = kept.find((e) => e.target === ANY_TARGET && provides(wanted)(e));
    if (fallback) {
      return { image: fallback, gcc: wanted, reason: 'fallback', why: `no ${req.target} image has GCC ${wanted}; the "any" image does` };
    }
  }

  const versions = [...new Set(kept.flatMap((e) => e.gcc_versions))]
    .map((text) => ({ text, parsed: parseGccVersion(text)! }))
    .sort((a, b) => compareGccVersions(a.parsed, b.parsed));
  if (versions.length === 0) return null;
  const lower = versions.filter((x) => compareGccVersions(x.parsed, req.gcc) <= 0);
  const chosen = lower.length > 0 ? lower[lower.length - 1]! : versions[0]!;
  const reason: SelectionReason = lower.length > 0 ? 'nearest-lower' : 'smallest';
  const image = kept.find((e) => ofTarget(e) && provides(chosen.text)(e)) ?? kept.find(provides(chosen.text))!;
  const why =
    reason === 'nearest-lower'
      ? `no image has GCC ${wanted}; ${chosen.text} is the largest version below it`
      : `every available GCC is newer than ${wanted}; ${chosen.text} is the smallest`;
  return { image, gcc: chosen.text, reason, why };
}

/** One cell of the selection matrix: what a kernel of a series wants on a target and arch, and what it gets. */
export interface MatrixPick {
  target: string;
  arch: Arch;
  kernel: string;
  /** The GCC the driver builder's kernel table wants. */
  wanted: string;
  pick: Selection | null;
}

/** For every target, arch and kernel series (KERNEL_SERIES), the builder the driver builder would pick. */
export function selectionMatrix(entries: IndexEntry[], targets: string[], arches: Arch[], tag: string): MatrixPick[] {
  const rows: MatrixPick[] = [];
  for (const target of targets) {
    for (const arch of arches) {
      for (const kernel of KERNEL_SERIES) {
        const gcc = defaultGccForKernel(target, parseKernelRelease(kernel)!).gcc;
        rows.push({ target, arch, kernel, wanted: formatGccVersion(gcc), pick: selectBuilder(entries, { target, arch, tag, gcc }) });
      }
    }
  }
  return rows;
}
