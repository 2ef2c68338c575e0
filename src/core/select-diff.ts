/**
 * `select --diff`: how two `select --matrix` results differ, cell by cell, and grouping for readable output. Pure.
 */
import type { IndexEntry } from './index-schema.js';
import type { Arch } from './names.js';
import type { MatrixPick, SelectionReason } from './select.js';

/** Every target present in the entries, sorted (the targets a matrix covers by default). */
export function indexTargets(entries: IndexEntry[]): string[] {
  return [...new Set(entries.map((e) => e.target))].sort();
}

/** One side of a change: the image and GCC picked (null: no image at all). */
export interface PickSide {
  image: string | null;
  gcc: string | null;
  reason: SelectionReason | 'none';
}

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

export function pickSide(p: MatrixPick | undefined): PickSide {
  return { image: p?.pick?.image.name ?? null, gcc: p?.pick?.gcc ?? null, reason: p?.pick?.reason ?? 'none' };
}

/**
 * Cell by cell, before against after. Matrices over different target sets are compared over their union (a cell
 * missing on one side counts as "no image"), so compute both over the same targets for a fair diff.
 */
export function diffMatrices(before: MatrixPick[], after: MatrixPick[]): MatrixDiff {
  const old = new Map(before.map((p) => [cellKey(p), p]));
  const seen = new Set<string>();
  const diff: MatrixDiff = { changed: [], unchanged: [] };
  const visit = (cell: MatrixPick, was: MatrixPick | undefined, now: MatrixPick | undefined) => {
    const [a, b] = [pickSide(was), pickSide(now)];
    if (was && now && a.image === b.image && a.gcc === b.gcc) diff.unchanged.push(now);
    else diff.changed.push({ target: cell.target, arch: cell.arch, kernel: cell.kernel, wanted: cell.wanted, before: a, after: b });
  };
  for (const now of after) {
    seen.add(cellKey(now));
    visit(now, old.get(cellKey(now)), now);
  }
  for (const was of before) if (!seen.has(cellKey(was))) visit(was, was, undefined);
  return diff;
}

/** Cells of one target and arch with the same `sameAs` key; kernels in matrix order. */
export interface PickGroup<T> {
  target: string;
  arch: Arch;
  kernels: string[];
  sample: T;
}

/** Group cells by target, arch and `sameAs` key: 200 picks read as a few dozen rows. */
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
