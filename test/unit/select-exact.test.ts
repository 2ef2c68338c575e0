// select and select --diff corners: exact sentences, one-sided cells, same image with another GCC.
import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../src/core/index-schema.js';
import { selectBuilder, type MatrixPick, type Selection } from '../../src/core/select.js';
import { diffMatrices, groupPicks, indexTargets, pickSide } from '../../src/core/select-diff.js';

const entry = (target: string, gcc: string[], over: Partial<IndexEntry> = {}): IndexEntry => ({
  name: `r:${target}-x86_64_gcc${gcc.join('_gcc')}-latest`, target, arch: 'x86_64', tag: 'latest', gcc_versions: gcc, ...over,
});
const req = (target: string, gcc: string) => {
  const [major, minor, patch] = gcc.split('.').map(Number) as [number, number, number];
  return { target, arch: 'x86_64' as const, tag: 'latest', gcc: { major, minor, patch } };
};

describe('selectBuilder sentences', () => {
  const entries = [entry('any', ['8.0.0', '4.8.0']), entry('centos', ['4.8.5']), entry('any', ['12.0.0'])];
  it.each([
    ['centos', '4.8.5', 'r:centos-x86_64_gcc4.8.5-latest', '4.8.5', 'exact', 'centos image provides GCC 4.8.5 exactly'],
    ['centos', '8.0.0', 'r:any-x86_64_gcc8.0.0_gcc4.8.0-latest', '8.0.0', 'fallback', 'no centos image has GCC 8.0.0; the "any" image does'],
    ['any', '8.0.0', 'r:any-x86_64_gcc8.0.0_gcc4.8.0-latest', '8.0.0', 'exact', 'any image provides GCC 8.0.0 exactly'],
    ['any', '9.0.0', 'r:any-x86_64_gcc8.0.0_gcc4.8.0-latest', '8.0.0', 'nearest-lower', 'no image has GCC 9.0.0; 8.0.0 is the largest version below it'],
    ['centos', '4.9.0', 'r:centos-x86_64_gcc4.8.5-latest', '4.8.5', 'nearest-lower', 'no image has GCC 4.9.0; 4.8.5 is the largest version below it'],
    ['debian', '4.0.0', 'r:any-x86_64_gcc8.0.0_gcc4.8.0-latest', '4.8.0', 'smallest', 'every available GCC is newer than 4.0.0; 4.8.0 is the smallest'],
    ['debian', '99.0.0', 'r:any-x86_64_gcc12.0.0-latest', '12.0.0', 'nearest-lower', 'no image has GCC 99.0.0; 12.0.0 is the largest version below it'],
  ])('%s wants %s', (target, gcc, name, chosen, reason, why) => {
    const s = selectBuilder(entries, req(target, gcc))!;
    expect({ name: s.image.name, gcc: s.gcc, reason: s.reason, why: s.why }).toStrictEqual({ name, gcc: chosen, reason, why });
  });

  it('takes the fallback from the "any" images only, whatever comes first in the index', () => {
    const pick = selectBuilder([entry('centos', ['4.8.5']), entry('any', ['4.8.5']), entry('any', ['8.0.0'])], req('centos', '8.0.0'));
    expect(pick).toMatchObject({ image: { name: 'r:any-x86_64_gcc8.0.0-latest' }, gcc: '8.0.0', reason: 'fallback' });
  });

  it('prefers the target image for a nearest version both provide, and keeps only the arch and tag asked for', () => {
    const both = [entry('any', ['4.8.5']), entry('centos', ['4.8.5'])];
    expect(selectBuilder(both, req('centos', '5.0.0'))!.image.target).toBe('centos');
    expect(selectBuilder([entry('any', ['4.8.5'], { arch: 'aarch64' })], req('any', '4.8.5'))).toBeNull();
    expect(selectBuilder([entry('any', ['4.8.5'], { tag: 'v1' })], req('any', '4.8.5'))).toBeNull();
    expect(selectBuilder([entry('other', ['4.8.5'])], req('centos', '4.8.5'))).toBeNull();
    expect(selectBuilder([], req('any', '4.8.5'))).toBeNull();
  });
});

describe('select --diff corners', () => {
  const pick = (image: string, gcc: string): Selection => ({ image: entry('any', [gcc], { name: image }), gcc, reason: 'exact', why: '' });
  const cell = (kernel: string, p: Selection | null, target = 'any'): MatrixPick => ({ target, arch: 'x86_64', kernel, wanted: '8.0.0', pick: p });

  it('sides of a cell, with or without a pick', () => {
    expect(pickSide(undefined)).toStrictEqual({ image: null, gcc: null, reason: 'none' });
    expect(pickSide(cell('1', null))).toStrictEqual({ image: null, gcc: null, reason: 'none' });
    expect(pickSide(cell('1', pick('i', '8.0.0')))).toStrictEqual({ image: 'i', gcc: '8.0.0', reason: 'exact' });
  });

  it('a cell on one side only is a change even when neither side has an image', () => {
    const onlyAfter = diffMatrices([], [cell('1', null)]);
    expect(onlyAfter.changed).toStrictEqual([{ target: 'any', arch: 'x86_64', kernel: '1', wanted: '8.0.0', before: pickSide(undefined), after: pickSide(undefined) }]);
    const onlyBefore = diffMatrices([cell('1', null)], []);
    expect(onlyBefore.changed).toHaveLength(1);
    expect(onlyBefore.unchanged).toEqual([]);
    const bothEmpty = diffMatrices([cell('1', null)], [cell('1', null)]);
    expect(bothEmpty).toStrictEqual({ changed: [], unchanged: [cell('1', null)] });
  });

  it('the same image with another GCC is a change; cells are matched by target, arch and kernel', () => {
    const d = diffMatrices([cell('1', pick('i', '8.0.0')), cell('2', pick('i', '8.0.0'))], [cell('1', pick('i', '9.0.0')), cell('2', pick('j', '8.0.0'))]);
    expect(d.changed.map((c) => [c.kernel, c.before.gcc, c.after.gcc, c.before.image, c.after.image])).toEqual([
      ['1', '8.0.0', '9.0.0', 'i', 'i'],
      ['2', '8.0.0', '8.0.0', 'i', 'j'],
    ]);
    const other = diffMatrices([cell('1', pick('i', '8.0.0'), 'a')], [cell('1', pick('i', '8.0.0'), 'b')]);
    expect(other.changed.map((c) => c.target)).toEqual(['b', 'a']);
    const after = [cell('1', pick('i', '8.0.0'))];
    expect(diffMatrices([cell('1', pick('i', '8.0.0'))], after).unchanged[0]).toBe(after[0]);
  });

  it('groups by target, arch and key, and lists targets sorted once', () => {
    const cells = [cell('1', null, 'b'), cell('2', null, 'a'), cell('3', null, 'b'), { ...cell('4', null, 'b'), arch: 'aarch64' as const }];
    expect(groupPicks(cells, () => 'k').map((g) => [g.target, g.arch, g.kernels, g.sample.kernel])).toEqual([
      ['b', 'x86_64', ['1', '3'], '1'],
      ['a', 'x86_64', ['2'], '2'],
      ['b', 'aarch64', ['4'], '4'],
    ]);
    expect(groupPicks(cells, (c) => c.kernel).map((g) => g.kernels)).toEqual([['1'], ['2'], ['3'], ['4']]);
    expect(indexTargets([entry('z', ['1.0.0']), entry('any', ['1.0.0']), entry('z', ['2.0.0'])])).toEqual(['any', 'z']);
  });
});
