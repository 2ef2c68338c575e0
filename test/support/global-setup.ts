import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Build dist/ once so tests that run the real CLI binary see the current sources, and give the whole run one
 * temporary folder (TMPDIR, inherited by the test workers and every child process) that is removed at the end,
 * so no test leaves files behind in /tmp.
 */
export default function setup(): () => void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const runTmp = mkdtempSync(join(tmpdir(), 'bi-test-run-'));
  process.env.TMPDIR = runTmp;
  return () => rmSync(runTmp, { recursive: true, force: true });
}
