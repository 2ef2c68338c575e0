import { describe, expect, it } from 'vitest';
import { applyUpdates, depTypeOf, formatReferenceText, planUpdate, pullRequestBody, splitReferenceText, updateTable, updateTitle, type PlannedUpdate, type Resolution } from '../../src/core/bump.js';
import { extractImageReferences } from '../../src/core/dockerfile/extract.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + 'abcdef0'.padEnd(64, '2');

const update = (over: Partial<PlannedUpdate> = {}): PlannedUpdate => ({
  file: 'images/x.Dockerfile', line: 2, editLine: 1, via: 'arg', packageName: 'debian', depType: 'final', type: 'digest',
  oldText: `debian:bookworm@${D1}`, newText: `debian:bookworm@${D2}`, oldDigest: D1, newDigest: D2, oldTag: 'bookworm', newTag: 'bookworm', ...over,
});

describe('bump planning', () => {
  it('splits references as written, registry ports included', () => {
    expect(splitReferenceText(`127.0.0.1:5000/a/b:1.2@${D1}`)).toEqual({ name: '127.0.0.1:5000/a/b', tag: '1.2', digest: D1 });
    expect(splitReferenceText('127.0.0.1:5000/a/b')).toEqual({ name: '127.0.0.1:5000/a/b', tag: undefined, digest: undefined });
    expect(formatReferenceText({ name: 'debian', tag: '12', digest: D2 })).toBe(`debian:12@${D2}`);
  });

  it('titles follow Renovate: one image names it and the short digest, several are grouped', () => {
    expect(updateTitle([update()])).toBe('chore(deps): update debian:bookworm digest to abcdef0');
    expect(updateTitle([update(), update({ packageName: 'gcc', newDigest: D1 })])).toBe('chore(deps): update builder image digests');
  });

  it('the table has Package | Type | Update | Change, one row per distinct change', () => {
    const rows = updateTable([update(), update({ file: 'images/y.Dockerfile' }), update({ type: 'pin', oldDigest: undefined, packageName: 'alpine', platform: 'linux/arm64' })]);
    expect(rows).toEqual([
      ['Package', 'Type', 'Update', 'Change'],
      ['debian', 'final', 'digest', '`1111111` → `abcdef0`'],
      ['alpine (linux/arm64)', 'final', 'pin', '`bookworm` → `abcdef0`'],
    ]);
  });
});

describe('issue 13: bump rewrites a digest where it is written', () => {
  const D3 = 'sha256:' + '3'.repeat(64);
  /** Plan the digest update of the first image site and apply it. */
  function bumpFirst(text: string, resolution: Partial<Resolution> = {}, kind?: string) {
    const parsed = parseDockerfile(text);
    const site = extractImageReferences(parsed).find((s) => !s.isStage && !s.isScratch && (!kind || s.kind === kind))!;
    const planned = planUpdate('images/x.Dockerfile', parsed, site, 'final', { digest: D3, type: 'digest', ...resolution });
    if (!planned || 'refused' in planned) return planned;
    return { ...planned, after: applyUpdates(text, [planned.update], new Map([[planned.update, planned.span]])) };
  }

  it('a digest in the FROM line with the tag from an ARG (ARG IMAGE_TAG=14.04 / FROM ubuntu:$IMAGE_TAG@sha256:…)', () => {
    const text = `ARG IMAGE_TAG=14.04\nFROM ubuntu:$IMAGE_TAG@${D1} AS base\nRUN true\n`;
    const r = bumpFirst(text);
    expect(r).toMatchObject({ after: text.replace(D1, D3), update: { via: 'instruction', editLine: 2, oldTag: '14.04', oldText: D1, newText: D3, packageName: 'ubuntu' } });
  });

  it('a digest inside an ARG default that is only part of the reference (ARG VARIANT="1.60.0-bullseye@sha256:…" / FROM rust:${VARIANT})', () => {
    const text = `ARG VARIANT="1.60.0-bullseye@${D1}"\nFROM rust:\${VARIANT}\n`;
    const r = bumpFirst(text);
    expect(r).toMatchObject({ after: text.replace(D1, D3), update: { via: 'arg', editLine: 1, oldTag: '1.60.0-bullseye', packageName: 'rust' } });
  });

  it('an ARG built from another ARG (ARG A=debian / ARG B=${A}:12@sha256:… / FROM $B)', () => {
    const text = `ARG A=debian\nARG B=\${A}:12@${D1}\nFROM $B\n`;
    expect(bumpFirst(text)).toMatchObject({ after: text.replace(D1, D3), update: { via: 'arg', editLine: 2, packageName: 'debian', oldTag: '12' } });
  });

  it('the whole reference where it is one piece of text, as before (ARG default, quotes and CRLF kept)', () => {
    const text = `# c\r\nARG BASE="debian:bookworm@${D1}"\r\nFROM \${BASE}\r\n`;
    expect(bumpFirst(text)).toMatchObject({ after: text.replace(D1, D3), update: { oldText: `debian:bookworm@${D1}`, newText: `debian:bookworm@${D3}`, via: 'arg' } });
  });

  it('the # syntax= frontend image', () => {
    const text = `# syntax=docker/dockerfile:1@${D1}\nFROM scratch\n`;
    expect(bumpFirst(text, {}, 'syntax')).toMatchObject({ after: text.replace(D1, D3), update: { via: 'directive', editLine: 1, depType: 'final' } });
  });

  it('--pin adds the digest after the word in the FROM line when the tag comes from an ARG', () => {
    const text = `ARG V=1.60\nFROM rust:\${V} AS build\n`;
    expect(bumpFirst(text, { type: 'pin' })).toMatchObject({ after: `ARG V=1.60\nFROM rust:\${V}@${D3} AS build\n` });
    const whole = `ARG BASE=debian:12\nFROM \${BASE}\n`;
    expect(bumpFirst(whole, { type: 'pin' })).toMatchObject({ after: `ARG BASE=debian:12@${D3}\nFROM \${BASE}\n` });
  });

  it('refuses, with the reason, a digest that is not written as one piece anywhere', () => {
    const text = `ARG ALGO=sha256\nFROM debian:12@\${ALGO}:${'1'.repeat(64)}\n`;
    expect(bumpFirst(text)).toEqual({ refused: expect.stringContaining('digest is not written as one piece of text') });
    const split = `FROM debian:12@sha256:\\\n${'1'.repeat(64)}\n`;
    expect(bumpFirst(split)).toEqual({ refused: expect.stringContaining('cannot be rewritten in place') });
  });
});

describe('bump planning, exactly', () => {
  const D3 = 'sha256:' + '3'.repeat(64);
  const first = (text: string) => extractImageReferences(parseDockerfile(text)).find((s) => !s.isScratch && !s.isStage)!;
  const plan = (text: string, resolution: Partial<Resolution> = {}, site = first(text)) =>
    planUpdate('images/x.Dockerfile', parseDockerfile(text), site, 'stage', { digest: D3, type: 'digest', ...resolution });

  it('splits a reference that is only a digest, or only a name', () => {
    expect(splitReferenceText(`@${D1}`)).toEqual({ name: '', tag: undefined, digest: D1 });
    expect(splitReferenceText('debian')).toEqual({ name: 'debian', tag: undefined, digest: undefined });
    expect(splitReferenceText('a/b:1')).toEqual({ name: 'a/b', tag: '1', digest: undefined });
    expect(formatReferenceText({ name: 'debian' })).toBe('debian');
    expect(formatReferenceText({ name: 'debian', tag: '12' })).toBe('debian:12');
    expect(formatReferenceText({ name: 'debian', digest: D1 })).toBe(`debian@${D1}`);
  });

  it('names the dependency type of each site', () => {
    const [stage, final, copy, mount] = extractImageReferences(
      parseDockerfile('FROM a:1 AS x\nFROM b:1\nCOPY --from=c:1 /a /a\nRUN --mount=from=d:1,target=/d true\n'),
    );
    expect(depTypeOf(stage!, false)).toBe('stage');
    expect(depTypeOf(final!, true)).toBe('final');
    expect(depTypeOf(copy!, true)).toBe('copy-from');
    expect(depTypeOf(mount!, false)).toBe('mount-from');
  });

  it('plans every field of an update', () => {
    const text = `FROM debian:12@${D1}\n`;
    const r = plan(text, { platform: 'linux/arm64' });
    expect(r).toEqual({
      span: { start: 5, end: 5 + `debian:12@${D1}`.length },
      update: {
        file: 'images/x.Dockerfile', line: 1, editLine: 1, via: 'instruction', packageName: 'debian', depType: 'stage', type: 'digest',
        oldText: `debian:12@${D1}`, newText: `debian:12@${D3}`, oldDigest: D1, newDigest: D3, oldTag: '12', newTag: '12', platform: 'linux/arm64',
      },
    });
  });

  it('nothing to do: an unresolved site, or the same digest', () => {
    expect(plan('ARG B\nFROM $B\n')).toBeUndefined();
    expect(plan(`FROM debian:12@${D3}\n`)).toBeUndefined();
    expect(plan(`FROM debian:12@${D3}\n`, { tag: '12' })).toBeUndefined();
  });

  it('a new tag replaces tag and digest where they are written together', () => {
    const text = `ARG N=ghcr.io/x/y\nFROM \${N}:1@${D1}\n`;
    const r = plan(text, { tag: '2', type: 'rebuild' });
    expect(r).toMatchObject({ update: { oldText: `1@${D1}`, newText: `2@${D3}`, oldTag: '1', newTag: '2', via: 'instruction', editLine: 2 } });
    expect(applyUpdates(text, [(r as { update: PlannedUpdate }).update], new Map([[(r as { update: PlannedUpdate }).update, (r as { span: { start: number; end: number } }).span]]))).toBe(
      `ARG N=ghcr.io/x/y\nFROM \${N}:2@${D3}\n`,
    );
  });

  it('a new tag on a reference without a digest pins it after the new tag', () => {
    const text = 'ARG N=ghcr.io/x/y\nFROM ${N}:1\n';
    expect(plan(text, { tag: '2', type: 'rebuild' })).toMatchObject({ update: { oldText: '1', newText: `2@${D3}` }, span: { start: text.indexOf(':1') + 1, end: text.indexOf(':1') + 2 } });
  });

  it('refuses with the exact reason', () => {
    expect(plan(`ARG N=debian\nFROM \${N}@${D1}\n`, { tag: '2' })).toEqual({ refused: `debian@${D1} has no tag written in it to change: write image:tag in one place` });
    expect(plan(`ARG N=x\nARG T=1\nFROM \${N}:\${T}@${D1}\n`, { tag: '2' })).toEqual({
      refused:
        'the tag and digest are not written as one piece of text (it is assembled from several variables or split by a line continuation), so it cannot be rewritten in place: write tag@digest in one place, in the instruction or in one ARG default',
    });
    expect(plan(`ARG A=sha256\nFROM debian:12@\${A}:${'1'.repeat(64)}\n`)).toEqual({
      refused:
        'the digest is not written as one piece of text (it is assembled from several variables or split by a line continuation), so it cannot be rewritten in place: write the digest in one place, in the instruction or in one ARG default',
    });
    expect(plan('ARG N=x\nARG T=1\nFROM ${N}:${T}${T}\n', { tag: '2' })).toEqual({
      refused: 'its tag is not written as one piece of text, so it cannot be rewritten in place: write the tag in one place',
    });
    const site = { ...first('ARG N=x\nARG T=1\nFROM ${N}:${T}\n'), insertAt: undefined };
    expect(plan('ARG N=x\nARG T=1\nFROM ${N}:${T}\n', { type: 'pin' }, site)).toEqual({
      refused: 'the reference does not end in written text, so there is no place to add its digest: write the reference in the instruction or in one ARG default',
    });
  });

  it('pins by inserting the digest at the site', () => {
    const text = 'ARG N=x\nARG T=1\nFROM ${N}:${T} AS b\n';
    expect(plan(text, { type: 'pin' })).toMatchObject({ update: { oldText: '', newText: `@${D3}`, oldDigest: undefined }, span: { start: text.indexOf(' AS'), end: text.indexOf(' AS') } });
  });

  it('applies a shared span once, and refuses two different updates of it', () => {
    const text = `ARG B=debian:12@${D1}\n`;
    const span = { start: 6, end: 6 + `debian:12@${D1}`.length };
    const a = update({ newText: `debian:12@${D3}` });
    const b = update({ newText: `debian:12@${D3}`, line: 3 });
    expect(applyUpdates(text, [a, b], new Map([[a, span], [b, { ...span }]]))).toBe(`ARG B=debian:12@${D3}\n`);
    const c = update({ newText: `debian:12@${D2}`, editLine: 1 });
    expect(() => applyUpdates(text, [a, c], new Map([[a, span], [c, { ...span }]]))).toThrow(
      new Error(`images/x.Dockerfile:1: two uses of one reference want different updates (debian:12@${D3} and debian:12@${D2})`),
    );
    const d = update({ newText: 'other' });
    expect(applyUpdates(text, [a, d], new Map([[a, span], [d, { start: 0, end: 3 }]]))).toBe(`other B=debian:12@${D3}\n`);
  });
});

describe('bump titles, table and pull request body', () => {
  it('titles name the tag when there is one, the new one when it moved', () => {
    expect(updateTitle([update({ newTag: undefined, oldTag: undefined })])).toBe('chore(deps): update debian digest to abcdef0');
    expect(updateTitle([update({ oldTag: '1', newTag: '2', type: 'rebuild' })])).toBe('chore(deps): update debian:2 digest to abcdef0');
    expect(updateTitle([update(), update({ file: 'images/y.Dockerfile' })])).toBe('chore(deps): update debian:bookworm digest to abcdef0');
    expect(updateTitle([update(), update({ newDigest: D1 })])).toBe('chore(deps): update builder image digests');
    expect(updateTitle([update(), update({ packageName: 'gcc' })])).toBe('chore(deps): update builder image digests');
    expect(updateTitle([update({ newDigest: 'abcdef0123' })])).toBe('chore(deps): update debian:bookworm digest to abcdef0');
    expect(updateTitle([update({ newDigest: 'xsha256:abcdef0123' })])).toBe('chore(deps): update debian:bookworm digest to xsha256');
  });

  it('the Change column of each update type', () => {
    expect(updateTable([update({ type: 'rebuild', oldTag: '1', newTag: '2', oldDigest: D1 })])[1]).toEqual(['debian', 'final', 'rebuild', '`1@1111111` → `2@abcdef0`']);
    expect(updateTable([update({ type: 'rebuild', oldTag: '1', newTag: '2', oldDigest: undefined })])[1]![3]).toBe('`1@` → `2@abcdef0`');
    expect(updateTable([update({ type: 'pin', oldTag: undefined, oldDigest: undefined })])[1]![3]).toBe('`` → `abcdef0`');
    expect(updateTable([update({ type: 'digest', oldDigest: undefined })])[1]![3]).toBe('`` → `abcdef0`');
    expect(updateTable([update({ platform: '' })])[1]![0]).toBe('debian');
  });

  it('one row per distinct package, type, old and new text', () => {
    const rows = updateTable([
      update(),
      update({ line: 9 }),
      update({ packageName: 'gcc' }),
      update({ depType: 'stage' }),
      update({ oldText: 'x' }),
      update({ newText: 'y' }),
    ]);
    expect(rows.map((r) => `${r[0]} ${r[1]}`)).toEqual(['Package Type', 'debian final', 'gcc final', 'debian stage', 'debian final', 'debian final']);
  });

  it('the pull request body, byte for byte', () => {
    expect(pullRequestBody([update(), update({ packageName: 'gcc', type: 'pin', oldTag: '13', depType: 'stage' })], ['images/x.Dockerfile', 'images/y.Dockerfile'])).toBe(
      [
        'This PR contains the following updates:',
        '',
        '| Package | Type | Update | Change |',
        '|---|---|---|---|',
        '| debian | final | digest | `1111111` → `abcdef0` |',
        '| gcc | stage | pin | `13` → `abcdef0` |',
        '',
        'Files: `images/x.Dockerfile`, `images/y.Dockerfile`',
        '',
        '---',
        'Generated by `builder-images bump`. Re-running it updates this pull request in place.',
      ].join('\n'),
    );
  });
});
