/**
 * scripts/vitest.sh (make test, npm test): vitest's colours only on a terminal, so a log file gets plain text.
 * A nested vitest runs one trivial test in a folder of its own (no config there: no global setup, no build).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const PROJECT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'bi-colours-'));
writeFileSync(join(dir, 'trivial.test.js'), "test('passes', () => { expect(1).toBe(1); });\n");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** stdout to a file (not a terminal), as `make test > test.log` does. */
async function runToFile(env: Record<string, string | undefined>): Promise<string> {
  const inherited = { ...process.env };
  delete inherited.NO_COLOR;
  delete inherited.FORCE_COLOR;
  const log = join(dir, 'out.log');
  const r = await execa('bash', ['scripts/vitest.sh', '--root', dir, '--globals'], { cwd: PROJECT, env: { ...inherited, ...env }, extendEnv: false, stdout: { file: log }, reject: false, timeout: 90_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  return readFileSync(log, 'utf8');
}

describe('scripts/vitest.sh', () => {
  it('writes no ANSI escapes into a file, and keeps them with FORCE_COLOR', async () => {
    const plain = await runToFile({});
    expect(plain).toMatch(/trivial\.test\.js \(1 test\)/);
    expect(plain).not.toContain('\x1b[');
    expect(await runToFile({ FORCE_COLOR: '1' })).toContain('\x1b[');
  });
});
