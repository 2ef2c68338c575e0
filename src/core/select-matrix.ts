/**
 * `select --matrix`: the driver builder's pick for every target, arch and kernel series, and how two such
 * matrices differ (`select --diff`). Pure.
 */
import { defaultGccForKernel, parseKernelRelease } from './kernel.js';
import type { IndexEntry } from './index-schema.js';
import type { Arch } from './names.js';
import { selectBuilder, type SelectionReason } from './select.js';
import { formatGccVersion } from './version.js';

export interface MatrixRequest {
  targets: string[];
  arches: Arch[];
  /** One kernel release per series, e.g. 5.10.0. */
  kernels: readonly string[];
  tag: string;
}

/** One cell of the matrix: what the driver builder wants for that kernel and what it gets. */
export interface MatrixPick {
  target: string;
  arch: Arch;
  kernel: string;
  wanted: string;
  image: string | null;
  gcc: string | null;
  reason: SelectionReason | 'none';
}

/** Every target present in the entries, sorted (the targets a matrix covers by default). */
export function indexTargets(entries: IndexEntry[]): string[] {
  return [...new Set(entries.map((e) => e.target))].sort();
}

export function selectMatrix(entries: IndexEntry[], req: MatrixRequest): MatrixPick[] {
  const picks: MatrixPick[] = [];
  for (const target of req.targets) {
    for (const arch of req.arches) {
      for (const kernel of req.kernels) {
        const release = parseKernelRelease(kernel);
        if (!release) throw new Error(`not a kernel release: ${kernel}`);
        const gcc = defaultGccForKernel(target, release).gcc;
        const pick = selectBuilder(entries, { target, arch, tag: req.tag, gcc });
        picks.push({ target, arch, kernel, wanted: formatGccVersion(gcc), image: pick?.image.name ?? null, gcc: pick?.gcc ?? null, reason: pick?.reason ?? 'none' });
      }
    }
  }
  return picks;
}

/** A pick as one side of a change; null when that side has no image at all. */
export type PickSide = Pick<MatrixPick, 'image' | 'gcc' | 'reason'>;

export interface PickChange {
  target: string;
  arch: Arch;
  kernel: string;
  wanted: string;
  before: PickSide;
  after: PickSide;
}

export interface MatrixDiff {
  /** Cells whose image or GCC differs, in matrix order. */
  changed: PickChange[];
  /** Cells that pick the same image and GCC on both sides. */
  unchanged: MatrixPick[];
}

const cellKey = (p: Pick<MatrixPick, 'target' | 'arch' | 'kernel'>) => `${p.target}\0${p.arch}\0${p.kernel}`;
const side = (p: MatrixPick | undefined): PickSide => ({ image: p?.image ?? null, gcc: p?.gcc ?? null, reason: p?.reason ?? 'none' });

/**
 * Cell by cell, before against after. Matrices over different target sets are compared over their union (a cell
 * missing on one side counts as "no image"), so compute both over the same targets for a fair diff.
 */
export function diffMatrices(before: MatrixPick[], after: MatrixPick[]): MatrixDiff {
  const old = new Map(before.map((p) => [cellKey(p), p]));
  const seen = new Set<string>();
  const diff: MatrixDiff = { changed: [], unchanged: [] };
  const visit = (cell: MatrixPick, was: MatrixPick | undefined, now: MatrixPick | undefined) => {
    if (was && now && was.image === now.image && was.gcc === now.gcc) diff.unchanged.push(now);
    else diff.changed.push({ target: cell.target, arch: cell.arch, kernel: cell.kernel, wanted: cell.wanted, before: side(was), after: side(now) });
  };
  for (const now of after) {
    seen.add(cellKey(now));
    visit(now, old.get(cellKey(now)), now);
  }
  for (const was of before) if (!seen.has(cellKey(was))) visit(was, was, undefined);
  return diff;
}

/** Cells of one target and arch whose before → after (or unchanged pick) is the same, kernels in matrix order. */
export interface PickGroup<T> {
  target: string;
  arch: Arch;
  kernels: string[];
  sample: T;
}

/** Group consecutive-or-not cells by target, arch and `sameAs` key: 200 picks read as a few dozen rows. */
export function groupPicks<T extends { target: string; arch: Arch; kernel: string }>(cells: T[], sameAs: (cell: T) => string): PickGroup<T>[] {
  const groups = new Map<string, PickGroup<T>>();
  for (const cell of cells) {
    const key = `${cell.target}\0${cell.arch}\0${sameAs(cell)}`;
    const group = groups.get(key);
    if (group) group.kernels.push(cell.kernel);
    else groups.set(key, { target: cell.target, arch: cell.arch, kernels: [cell.kernel], sample: cell });
  }
  return [...groups.values()];
}
