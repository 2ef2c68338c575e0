import { describe, expect, it } from 'vitest';
import { applyUpdates, formatReferenceText, planUpdate, splitReferenceText, updateTable, updateTitle, type PlannedUpdate, type Resolution } from '../../src/core/bump.js';
import { extractImageReferences, parseDockerfile } from '../../src/core/dockerfile.js';

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
