/**
 * Hostile layers end in bounded memory and time, with a verdict or a clear error: each bomb is generated as a
 * stream into an OCI layout and checked by the real CLI in a child process whose peak RSS is measured (GNU time).
 * Timing goals live in bench/; these assert outcomes and limits.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hugeWindowZstd, manyHeaders, runCheckChild, writeStreamedLayout, zstdRleZeros } from '../support/bombs.js';
import { base256, baseLayer, END, ELF_X86, header, tarFile, tarPax, tarSymlink } from '../support/tar-corpus.js';

const work = mkdtempSync(join(tmpdir(), 'bi-bombs-'));
// The layers are about memory and limits, not about the driver builder's tools: its contract is off.
const ARGS = ['--quiet', '--gcc', '12.0.0', '--arch', 'x86_64', '--contract', 'none'];
let n = 0;
const layout = () => join(work, `layout${n++}`);

/** The compiler and its link, so that a bomb that is read through still passes the check. */
const good = () => [baseLayer(tarSymlink('usr/bin/gcc-12.0.0', 'gcc-12'))];

describe('check on hostile layers: bounded memory, a verdict or a clear error', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('1M empty files check under 250 MB peak RSS', async () => {
    const dir = layout();
    await writeStreamedLayout(dir, [{ compression: 'gzip', chunks: () => [...good(), ...manyHeaders(1_000_000, { mode: 0o644, size: 0 }, (i) => `usr/share/f/${i}`), END] }]);
    const run = runCheckChild([...ARGS, `oci:${dir}:bomb`]);
    expect(run.stdout).toContain('1 ok');
    expect(run.code).toBe(0);
    console.log(`1M empty files: peak RSS ${run.peakRssMB.toFixed(0)} MB in ${run.seconds.toFixed(1)} s`);
    expect(run.peakRssMB).toBeLessThan(250);
  });

  it('2M hard links (the default entry limit) check under 300 MB; more are refused, naming the layer and the limit', async () => {
    const dir = layout();
    const links = 2_000_000 - 8;
    await writeStreamedLayout(dir, [{ compression: 'gzip', chunks: () => [...good(), ...manyHeaders(links, { type: '1', linkname: 'usr/bin/x86_64-linux-gnu-gcc-12', mode: 0o755 }, (i) => `usr/lib/h/${i}`), END] }]);
    const run = runCheckChild([...ARGS, `oci:${dir}:bomb`]);
    expect(run.stdout).toContain('1 ok');
    console.log(`2M hard links: peak RSS ${run.peakRssMB.toFixed(0)} MB in ${run.seconds.toFixed(1)} s`);
    expect(run.peakRssMB).toBeLessThan(300);
    const capped = runCheckChild([...ARGS, '--max-entries', '100000', `oci:${dir}:bomb`]);
    expect(capped.code).toBe(1);
    expect(capped.stdout).toMatch(/error: layer 1 of oci:.*: the image has more than 100000 entries, the limit \(raise it with --max-entries/);
  });

  it('a zstd frame asking for a 1.875 GiB window is refused unless allowed', async () => {
    const dir = layout();
    await writeStreamedLayout(dir, [{ compression: 'zstd-raw', chunks: hugeWindowZstd }]);
    const run = runCheckChild([...ARGS, `oci:${dir}:bomb`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/layer 1 of oci:.*: a zstd frame needs a 1920 MiB window, above the 128 MiB limit .*--zstd-window-mib 1920/);
    expect(run.peakRssMB).toBeLessThan(300);
    // Allowed, the frame is decoded (it is empty: the image then lacks its compiler).
    const allowed = runCheckChild([...ARGS, '--zstd-window-mib', '2048', `oci:${dir}:bomb`]);
    expect(allowed.stdout).toContain('/usr/bin/gcc-12.0.0 is missing');
    expect(allowed.stdout).not.toContain('window');
    const usage = runCheckChild([...ARGS, '--zstd-window-mib', '4096', `oci:${dir}:bomb`]);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('--zstd-window-mib must be a whole number from 1 to 2048') });
  });

  it('2 GiB of zstd RLE zeros stream through in flat memory (zstd binary), and through fzstd', async () => {
    const dir = layout();
    await writeStreamedLayout(dir, [{ compression: 'gzip', chunks: good }, { compression: 'zstd-raw', chunks: () => zstdRleZeros(2 * 2 ** 30) }]);
    const run = runCheckChild([...ARGS, `oci:${dir}:bomb`]);
    expect(run.stdout).toContain('1 ok');
    expect(run.peakRssMB).toBeLessThan(300);
    const small = layout();
    await writeStreamedLayout(small, [{ compression: 'gzip', chunks: good }, { compression: 'zstd-raw', chunks: () => zstdRleZeros(256 * 2 ** 20) }]);
    const viaFzstd = runCheckChild([...ARGS, `oci:${small}:bomb`], { BUILDER_IMAGES_ZSTD_DECODER: 'fzstd' });
    expect(viaFzstd.stdout).toContain('1 ok');
    expect(viaFzstd.peakRssMB).toBeLessThan(300);
  });

  it('a 1 MiB PAX path, a PAX header over 1 MiB and a link target over 4095 bytes are refused by their limits', async () => {
    const cases: [Buffer, RegExp][] = [
      [tarPax({ path: `usr/${'a'.repeat(1024 * 1024 - 100)}` }), /an entry path of \d+ bytes .* is above the 4096-byte limit/],
      [Buffer.concat([header({ name: 'p', type: 'x', size: 2 * 1024 * 1024 })]), /a PAX header of 2097152 bytes .* above the 1048576-byte limit/],
      [Buffer.concat([tarPax({ linkpath: 'a/'.repeat(2048) }), tarSymlink('usr/bin/deep', 'x')]), /link target .* is 4096 bytes, above the 4095-byte limit/],
    ];
    for (const [bomb, message] of cases) {
      const dir = layout();
      await writeStreamedLayout(dir, [{ compression: 'gzip', chunks: () => [...good(), bomb, tarFile('usr/bin/after', ELF_X86), END] }]);
      const run = runCheckChild([...ARGS, '--json', `oci:${dir}:bomb`]);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)[0].error).toMatch(message);
    }
  });

  it('a broken layer stops the zstd layer read ahead of it: the run ends with the reason, no process left waiting', async () => {
    const dir = layout();
    const many = Buffer.concat([...manyHeaders(120_000, { mode: 0o644, size: 0 }, (i) => `usr/share/z/${i}`), END]);
    const zstd = execFileSync('zstd', ['-q', '-c', '-1'], { input: many, maxBuffer: 1 << 28 });
    await writeStreamedLayout(dir, [
      { compression: 'gzip', chunks: () => [...good(), header({ name: 'usr/bin/x', type: 'Z' }), END] },
      { compression: 'zstd-raw', chunks: () => [zstd] },
    ]);
    const run = runCheckChild([...ARGS, `oci:${dir}:bomb`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/error: layer 1 of oci:.* is not a valid tar: .*typeflag 'Z'/);
  });

  it('the longest link chain the limits allow (40 hops of up to 4,095 bytes, 2,000 directories deep) resolves', async () => {
    const dir = layout();
    const deep = Array.from({ length: 2000 }, () => 'd').join('/');
    const pairs = 'd/../'.repeat(818);
    const links = Array.from({ length: 38 }, (_, i) => Buffer.concat([tarPax({ linkpath: `${pairs}l${i + 1}` }), tarSymlink(`l${i}`, 'x')]));
    const last = Buffer.concat([tarPax({ linkpath: `/${deep}/gcc` }), tarSymlink('l38', 'x')]);
    await writeStreamedLayout(dir, [
      {
        compression: 'gzip',
        chunks: () => [tarPax({ path: `${deep}/gcc` }), tarFile('gcc', ELF_X86), ...links, last, baseLayer(tarSymlink('usr/bin/gcc-12.0.0', '/l0')), END],
      },
    ]);
    const run = runCheckChild([...ARGS, '--json', `oci:${dir}:bomb`]);
    const [result] = JSON.parse(run.stdout);
    expect(result, result.error).toMatchObject({ ok: true, gccs: [{ verdict: 'ok', resolved: `/${deep}/gcc` }] });
    expect(result.gccs[0].chain).toHaveLength(41); // the path and 40 link targets, the kernel's limit
  });

  it('a base-256 size beyond the layer ends with a printed reason (it used to exit 13 silently)', async () => {
    const dir = layout();
    await writeStreamedLayout(dir, [{ compression: 'gzip', chunks: () => [...good(), header({ name: 'usr/bin/big', sizeField: base256(1n << 62n) }), END] }]);
    const run = runCheckChild([...ARGS, '--json', `oci:${dir}:bomb`]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)[0]).toMatchObject({ ok: false, error: expect.stringMatching(/layer 1 of oci:.* is not a valid tar: .*truncated/) });
  });
});
