import { describe, expect, it } from 'vitest';
import { formatReferenceText, splitReferenceText, updateTable, updateTitle, type PlannedUpdate } from '../../src/core/bump.js';

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
