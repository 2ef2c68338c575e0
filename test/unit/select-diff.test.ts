import { describe, expect, it } from 'vitest';
import { buildIndex } from '../../src/core/index-schema.js';
import { parseDockerfileName, type BuilderName } from '../../src/core/names.js';
import { KERNEL_SERIES } from '../../src/core/kernel.js';
import type { Arch } from '../../src/core/names.js';
import { selectionMatrix, type MatrixPick } from '../../src/core/select.js';
import { diffMatrices, groupPicks, pickSide } from '../../src/core/select-diff.js';
import { diffMarkdown, diffText } from '../../src/commands/select-diff.js';
import { markdownCell, markdownTable } from '../../src/util/step-summary.js';

const names = (...files: string[]): BuilderName[] => files.map((f) => parseDockerfileName(`builder-${f}.Dockerfile`)!);
const index = (n: BuilderName[]) => buildIndex(n, ['r/b'], ['latest']);
const BASE = names('any-x86_64_gcc8.0.0_gcc4.8.0', 'any-x86_64_gcc12.0.0', 'centos-x86_64_gcc4.8.5');
const matrix = (n: BuilderName[], targets: string[], arches: Arch[] = ['x86_64']): MatrixPick[] => selectionMatrix(index(n), targets, arches, 'latest');

describe('select --diff, pure', () => {
  it('adding a GCC 4.9 image moves the kernels that want 4.9 (and 3.18, which wants 5 and now gets the nearer 4.9)', () => {
    const targets = ['any', 'centos', 'debian'];
    const diff = diffMatrices(matrix(BASE, targets), matrix([...BASE, ...names('any-x86_64_gcc4.9.0')], targets));
    const moved = diff.changed.map((c) => `${c.target} ${c.kernel} ${c.before.gcc}→${c.after.gcc} ${c.after.reason}`);
    // centos 3.10 wants its own 4.8.5 and keeps it; the others in 3.0 … 3.17 now get 4.9 instead of 4.8.
    expect(moved).toEqual([
      'any 3.0.0 4.8.0→4.9.0 exact',
      'any 3.10.0 4.8.0→4.9.0 exact',
      'any 3.16.0 4.8.0→4.9.0 exact',
      'any 3.18.0 4.8.0→4.9.0 nearest-lower',
      'centos 3.0.0 4.8.5→4.9.0 fallback',
      'centos 3.16.0 4.8.5→4.9.0 fallback',
      'centos 3.18.0 4.8.5→4.9.0 nearest-lower',
      'debian 3.0.0 4.8.0→4.9.0 fallback',
      'debian 3.10.0 4.8.0→4.9.0 fallback',
      'debian 3.16.0 4.8.0→4.9.0 fallback',
      'debian 3.18.0 4.8.0→4.9.0 nearest-lower',
    ]);
    expect(diff.changed[0]!.before.image).toBe('r/b:any-x86_64_gcc8.0.0_gcc4.8.0-latest');
    expect(diff.changed[0]!.after.image).toBe('r/b:any-x86_64_gcc4.9.0-latest');
    expect(diff.unchanged).toHaveLength(3 * KERNEL_SERIES.length - 11);
  });

  it('a cell only one side has counts as a change from or to "no image"', () => {
    const before = matrix(BASE, ['any']);
    const after = matrix(BASE, ['any', 'newtarget']);
    const diff = diffMatrices(after, before);
    expect(diff.changed).toHaveLength(KERNEL_SERIES.length);
    expect(diff.changed.every((c) => c.target === 'newtarget' && c.after.image === null && c.before.image !== null)).toBe(true);
  });

  it('no change: an empty diff', () => {
    const m = matrix(BASE, ['any', 'centos']);
    expect(diffMatrices(m, m)).toEqual({ changed: [], unchanged: m });
  });

  it('groups cells with the same pick per target and arch, kernels in matrix order', () => {
    const m = matrix(BASE, ['any']);
    const groups = groupPicks(m, (p) => `${pickSide(p).image} ${pickSide(p).gcc}`);
    expect(groups.map((g) => `${g.sample.pick?.gcc}: ${g.kernels.join(' ')}`)).toEqual([
      '4.8.0: 2.6.32 3.0.0 3.10.0 3.16.0 3.18.0',
      '8.0.0: 4.4.0 4.9.0 4.14.0 4.18.0 4.19.0 5.4.0 5.10.0 5.14.0',
      '12.0.0: 5.15.0 6.1.0 6.5.0 6.6.0 6.8.0 6.9.0 6.12.0',
    ]);
  });

  it('Markdown stays readable at 200+ picks: grouped changed rows, unchanged folded into <details>', () => {
    const targets = ['any', 'centos', 'debian', 'ubuntu', 'amazonlinux2'];
    const before = names('any-x86_64_gcc8.0.0_gcc4.8.0', 'any-aarch64_gcc8.0.0_gcc4.8.0', 'any-x86_64_gcc12.0.0', 'any-aarch64_gcc12.0.0');
    const after = [...before, ...names('any-x86_64_gcc4.9.0', 'any-aarch64_gcc4.9.0', 'any-x86_64_gcc13.0.0')];
    const diff = diffMatrices(matrix(before, targets, ['x86_64', 'aarch64']), matrix(after, targets, ['x86_64', 'aarch64']));
    const picks = diff.changed.length + diff.unchanged.length;
    expect(picks).toBe(200);
    const md = diffMarkdown({ ref: 'main', commit: 'a'.repeat(40), tag: 'latest', picks, diff });
    const lines = md.split('\n');
    expect(lines[0]).toBe('### Driver builder picks: `main` → this change');
    expect(md).toContain(`**${diff.changed.length} of 200 picks change**`);
    expect(md).toMatch(/\| debian \| x86_64 \| 3\.0\.0, 3\.10\.0, 3\.16\.0 \| 4\.9\.0 \| 4\.8\.0 → \*\*4\.9\.0\*\* \| any-x86_64_gcc8\.0\.0_gcc4\.8\.0-latest → any-x86_64_gcc4\.9\.0-latest \|/);
    expect(md).toContain(`<details><summary>${diff.unchanged.length} unchanged picks`);
    // One row per group, not per pick: well under the 200 cells, and the changed table comes first, unfolded.
    const tableRows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| Target'));
    expect(tableRows.length).toBeLessThan(80);
    expect(md.indexOf('4.8.0 → **4.9.0**')).toBeLessThan(md.indexOf('<details>'));
    // Text lists every changed cell, one per line.
    expect(diffText({ ref: 'main', commit: 'a'.repeat(40), tag: 'latest', picks, diff }).split('\n')).toHaveLength(diff.changed.length + 3);
  });

  it('no change says so and still folds the picks it compared', () => {
    const m = matrix(BASE, ['any']);
    const md = diffMarkdown({ ref: 'v1', commit: 'b'.repeat(40), tag: 'latest', picks: m.length, diff: diffMatrices(m, m) });
    expect(md).toContain(`**No pick changes**: all ${m.length} picks are the same`);
    expect(md).toContain(`<details><summary>${m.length} unchanged picks (3 rows)</summary>`);
  });
});

describe('Markdown tables', () => {
  it('a value never breaks the table', () => {
    expect(markdownCell('a|b\nc\\')).toBe('a\\|b c\\\\');
    expect(markdownTable([['A', 'B'], ['x|y', '']])).toBe('| A | B |\n| --- | --- |\n| x\\|y |  |');
  });
});
