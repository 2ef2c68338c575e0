import { describe, expect, it } from 'vitest';
import { rowState, summaryLine, verifyMarkdown, verifyMatrix, type ReportRow } from '../../src/core/verify-report.js';
import { decodeRecords, encodeRecords, provenKeys, recordKey, type VerificationRecord } from '../../src/core/verify-record.js';

const row = (kernel: string, image: string, verdict: ReportRow['verdict'], extra: Partial<ReportRow> = {}): ReportRow => ({ kernel, arch: 'x86_64', target: 'debian', image, verdict, message: verdict === 'fail' ? `build of ${kernel} failed` : 'ok', errors: [], ...extra });
const gcc12 = 'r/b:debian-x86_64_gcc12.0.0-latest';
const gcc11 = 'r/b:any-x86_64_gcc11.0.0-latest';

describe('verifyMatrix', () => {
  const rows = [
    row('6.1.0-57-amd64', gcc12, 'pass', { boot: 'loads' }),
    row('6.1.0-56-amd64', gcc12, 'pass', { boot: 'loads', cached: true }),
    row('6.1.0-9-amd64', gcc12, 'pass', { boot: 'refused: .gnu.linkonce.this_module section size must match' }),
    row('6.1.0-57-amd64', gcc11, 'fail', { errors: ["gcc-11.0.0: error: unrecognized command-line option '-ftrivial-auto-var-init=zero'"] }),
    row('5.10.0-30-amd64', gcc11, 'pass'),
    row('6.12.48+deb12-amd64', gcc12, 'skipped'),
  ];

  it('counts per kernel series and image: a booted module must load, one not booted counts as built', () => {
    expect(rows.map(rowState)).toEqual(['loads', 'loads', 'fail', 'fail', 'pass', 'skipped']);
    const m = verifyMatrix(rows);
    expect(m.series).toEqual(['debian x86_64 5.10', 'debian x86_64 6.1', 'debian x86_64 6.12']);
    expect(m.images).toEqual([gcc11, gcc12]);
    expect(m.totals).toEqual({ loads: 2, pass: 1, fail: 2, skipped: 1, cached: 1 });
    expect(summaryLine(m)).toBe('6 pair(s) over 3 kernel series and 2 image(s): 2 load, 1 build (not booted), 2 fail, 1 skipped; 1 proven earlier, not rebuilt');
  });

  it('renders the matrix and the first failures with their error lines, in Markdown that no value can break', () => {
    const md = verifyMarkdown(verifyMatrix([...rows, row('6.1.0-50-amd64', 'r/b:x|y', 'fail', { message: 'a | pipe\nand a line' })]), 'verify');
    expect(md).toContain('| Kernel series | `any-x86_64_gcc11.0.0-latest` | `debian-x86_64_gcc12.0.0-latest` | `x\\|y` |');
    expect(md).toContain('| debian x86_64 6.1 | ❌ 1 fail | ❌ 2 loads, 1 fail | ❌ 1 fail |');
    expect(md).toContain('| debian x86_64 5.10 | ✅ 1 pass |  |  |');
    expect(md).toContain("**6.1.0-9-amd64** (x86_64) with `debian-x86_64_gcc12.0.0-latest`: refused: .gnu.linkonce.this_module section size must match");
    expect(md).toContain("```\ngcc-11.0.0: error: unrecognized command-line option '-ftrivial-auto-var-init=zero'\n```");
    expect(md).toContain('a \\| pipe and a line');
  });

  it('lists at most N failures per cell and says how many more', () => {
    const many = Array.from({ length: 5 }, (_, i) => row(`6.1.0-${i + 1}-amd64`, gcc11, 'fail'));
    const md = verifyMarkdown(verifyMatrix(many), 'v', 2);
    expect(md.match(/^\*\*6\.1\.0-/gm)).toHaveLength(2);
    expect(md).toContain('…and 3 more failing debian x86_64 6.1 kernel(s)');
  });
});

describe('verification records', () => {
  const base: VerificationRecord = { imageDigest: `sha256:${'a'.repeat(64)}`, release: '6.1.0-57-amd64', arch: 'x86_64', moduleSource: `sha256:${'b'.repeat(64)}`, flow: 'driverkit+boot', verdict: 'pass', boot: 'loads', message: 'ok', at: '2026-12-08T00:00:00Z' };

  it('round-trips, sorted, and proves only passes (that loaded, for a booted flow)', () => {
    const records = [base, { ...base, release: '6.1.0-56-amd64', boot: 'refused: x' }, { ...base, release: '5.10.0-30-amd64', flow: 'probe', boot: undefined }, { ...base, release: '6.12.1', verdict: 'fail' as const }];
    const back = decodeRecords(encodeRecords(records), 'ref');
    expect(back.map((r) => r.release)).toEqual(['5.10.0-30-amd64', '6.1.0-56-amd64', '6.1.0-57-amd64', '6.12.1']);
    expect([...provenKeys(back)].sort()).toEqual([recordKey(records[2]!), recordKey(base)].sort());
  });

  it('refuses what a hostile registry could store: bad digests, unknown fields, huge or non-JSON documents', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(() => decodeRecords(enc({ records: [{ ...base, imageDigest: '../../etc' }] }), 'r@x')).toThrow(/r@x: verification records: records\.0\.imageDigest: not an OCI digest/);
    expect(() => decodeRecords(enc({ records: [{ ...base, extra: 1 }] }), 'r')).toThrow(/records\.0/);
    expect(() => decodeRecords(new Uint8Array([0xff, 0xfe]), 'r')).toThrow(/not JSON/);
    expect(() => decodeRecords(new Uint8Array(4 * 1024 * 1024 + 1), 'r')).toThrow(/over/);
  });
});
