import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describe('honest summaries, in the terminal and in the GitHub job summary', () => {
  let reg: TestRegistry;
  let root: string;
  let cleanup: () => void;
  let dir: string;
  let summaryFile: string;
  const summary = () => readFileSync(summaryFile, 'utf8');

  beforeAll(async () => {
    reg = await startRegistry();
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`, {
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': 'FROM scratch\nCOPY bin/arm64/aarch64-linux-gnu-gcc-12 /usr/bin/\n',
    }));
  });
  afterAll(async () => {
    cleanup?.();
    await reg?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bi-summary-'));
    summaryFile = join(dir, 'step_summary.md');
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
  });
  afterEach(() => {
    delete process.env.GITHUB_STEP_SUMMARY;
    rmSync(dir, { recursive: true, force: true });
  });

  it('push --dry-run whose lookups fail counts them in the plan line (not a plan of zeros)', async () => {
    const out = await runCli(['push', '--dry-run', '--repo', '127.0.0.1:1/builders'], root);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/\ndry run, nothing was touched: would build 0, 0 up to date, would push 0 index\(es\), 5 could not be planned \(see NOTE\)\n$/);
    // The unreachable registry is said once, below the table; every row points at it.
    expect(out.stdout).toMatch(/any-x86_64_gcc12\.0\.0-\S+\s+x86_64\s+failed\s+-\s+\[1\]\n/);
    expect(out.stdout.match(/cannot reach 127\.0\.0\.1:1/g)).toHaveLength(1);
    expect(out.stdout).toMatch(/\n\[1\] 5 rows: cannot reach 127\.0\.0\.1:1 over http after \d+ attempts/);
    expect(summary()).toContain('**dry run, nothing was touched: would build 0, 0 up to date, would push 0 index(es), 5 could not be planned (see NOTE)**');
    expect(summary()).toMatch(/\n\[1\] 5 rows: cannot reach 127\.0\.0\.1:1/);
  });

  it('push writes its pushed/skipped/failed table to the job summary, and check --all its verdicts', async () => {
    const pushed = await runCli(['push'], root);
    expect(pushed.code).toBe(1); // the broken image
    const md = summary();
    expect(md).toMatch(/^### builder-images push\n\n\*\*2 built and pushed, 0 skipped \(up to date\), 1 failed, 2 index\(es\) pushed\*\*\n\n\| IMAGE \| ARCH \| STATUS \| DIGEST \| NOTE \|\n\| --- \|/);
    expect(md).toMatch(/\| broken-aarch64_gcc12\.0\.0-\S+ \| aarch64 \| failed \| - \| check failed, nothing published: \/usr\/bin\/gcc-12\.0\.0 is missing/);
    expect(md).toMatch(/\| any_gcc12\.0\.0-latest \| pushed \| sha256:/);

    const checked = await runCli(['check', '--all'], root);
    expect(checked.code).toBe(1);
    const verdicts = summary().slice(md.length);
    expect(verdicts).toContain('### builder-images check\n\n**3 image(s) checked: 2 ok, 1 failed**');
    // Failures first, with the reason; then the images that passed, each with its GCC verdicts.
    const rows = verdicts.split('\n').filter((l) => l.startsWith(`| ${reg.host}`));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/broken-aarch64_gcc12\.0\.0-latest \| - \| - \| failed \| - \| .*not found/);
    // The driver builder column is `-`: this repository turns the contract off (test/support/builder-repo.ts).
    expect(rows.slice(1).every((r) => / \| ok \| 12\.0\.0 ok \| - \| {2}\|$/.test(r))).toBe(true);
  });

  it('writes nothing when GITHUB_STEP_SUMMARY is not set', async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    await runCli(['push', '--dry-run'], root);
    expect(() => readFileSync(summaryFile)).toThrow();
  });
});
