/**
 * The verification matrix for people: kernel series x image, with counts per cell and the first failing kernels'
 * error lines, as Markdown (job summary, pull request comment) and as text. Pure.
 */
import { compareReleases, kernelSeries } from './kernel-list.js';

/** What the report needs of a verified pair (app/verify's row has more). */
export interface ReportRow {
  kernel: string;
  arch: string;
  target: string;
  image: string;
  verdict: 'pass' | 'fail' | 'skipped';
  /** The boot's verdict when the module was booted: `loads`, `refused: …`, `no boot: …`. */
  boot?: string;
  /** Proven earlier for the same image digest, module and flow: not rebuilt. */
  cached?: boolean;
  message: string;
  errors: string[];
}

export type CellState = 'loads' | 'pass' | 'fail' | 'skipped';

/** A pair's state: a module that was booted must load to count; one that was not booted counts as built. */
export function rowState(r: ReportRow): CellState {
  if (r.verdict !== 'pass') return r.verdict;
  if (r.boot === undefined) return 'pass';
  return r.boot === 'loads' ? 'loads' : 'fail';
}

export interface MatrixCell {
  counts: Record<CellState, number>;
  failing: ReportRow[];
}

export interface VerifyMatrix {
  /** `<target> <arch> <series>` rows, in version order. */
  series: string[];
  images: string[];
  cells: Map<string, MatrixCell>;
  totals: Record<CellState, number> & { cached: number };
}

const cellKey = (series: string, image: string) => `${series}\u0000${image}`;
const seriesOf = (r: ReportRow) => `${r.target} ${r.arch} ${kernelSeries(r.kernel)}`;

export function verifyMatrix(rows: ReportRow[]): VerifyMatrix {
  const cells = new Map<string, MatrixCell>();
  const totals = { loads: 0, pass: 0, fail: 0, skipped: 0, cached: 0 };
  for (const r of rows) {
    const key = cellKey(seriesOf(r), r.image);
    const cell = cells.get(key) ?? { counts: { loads: 0, pass: 0, fail: 0, skipped: 0 }, failing: [] };
    const state = rowState(r);
    cell.counts[state]++;
    totals[state]++;
    if (r.cached) totals.cached++;
    if (state === 'fail') cell.failing.push(r);
    cells.set(key, cell);
  }
  const series = [...new Set(rows.map(seriesOf))].sort((a, b) => {
    const [ta, aa, sa] = a.split(' ');
    const [tb, ab, sb] = b.split(' ');
    return ta!.localeCompare(tb!) || aa!.localeCompare(ab!) || compareReleases(sa!, sb!);
  });
  for (const cell of cells.values()) cell.failing.sort((a, b) => compareReleases(a.kernel, b.kernel));
  return { series, images: [...new Set(rows.map((r) => r.image))].sort(), cells, totals };
}

const shortImage = (name: string) => (name.lastIndexOf(':') > name.lastIndexOf('/') ? name.slice(name.lastIndexOf(':') + 1) : name);

function cellText(cell: MatrixCell | undefined): string {
  if (!cell) return '';
  const parts: string[] = [];
  if (cell.counts.loads) parts.push(`${cell.counts.loads} loads`);
  if (cell.counts.pass) parts.push(`${cell.counts.pass} pass`);
  if (cell.counts.fail) parts.push(`${cell.counts.fail} fail`);
  if (cell.counts.skipped) parts.push(`${cell.counts.skipped} skipped`);
  const mark = cell.counts.fail ? '❌ ' : cell.counts.loads || cell.counts.pass ? '✅ ' : '';
  return mark + parts.join(', ');
}

export function summaryLine(m: VerifyMatrix): string {
  const t = m.totals;
  const all = t.loads + t.pass + t.fail + t.skipped;
  return `${all} pair(s) over ${m.series.length} kernel series and ${m.images.length} image(s): ${t.loads} load, ${t.pass} build${t.loads ? ' (not booted)' : ''}, ${t.fail} fail, ${t.skipped} skipped; ${t.cached} proven earlier, not rebuilt`;
}

/** The Markdown report: the matrix, then the first failing kernels of each failing cell with their error lines. */
export function verifyMarkdown(m: VerifyMatrix, title: string, firstFailures = 3): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const header = `| Kernel series | ${m.images.map((i) => `\`${esc(shortImage(i))}\``).join(' | ')} |`;
  const rule = `|---|${m.images.map(() => '---').join('|')}|`;
  const body = m.series.map((s) => `| ${esc(s)} | ${m.images.map((i) => esc(cellText(m.cells.get(cellKey(s, i))))).join(' | ')} |`);
  const lines = [`### ${title}`, '', summaryLine(m), '', header, rule, ...body];
  const failures: string[] = [];
  for (const s of m.series) {
    for (const i of m.images) {
      const cell = m.cells.get(cellKey(s, i));
      for (const r of cell?.failing.slice(0, firstFailures) ?? []) {
        failures.push(`**${esc(r.kernel)}** (${r.arch}) with \`${esc(shortImage(r.image))}\`: ${esc(r.boot && r.verdict === 'pass' ? r.boot : r.message)}`);
        const errs = r.errors.slice(0, 5).map((e) => e.replace(/```/g, "'''"));
        if (errs.length) failures.push('```', ...errs, '```');
      }
      if (cell && cell.failing.length > firstFailures) failures.push(`…and ${cell.failing.length - firstFailures} more failing ${s} kernel(s) with \`${esc(shortImage(i))}\``);
    }
  }
  if (failures.length) lines.push('', '<details open><summary>First failures</summary>', '', ...failures, '', '</details>');
  return lines.join('\n');
}
