import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Build dist/ once so tests that run the real CLI binary see the current sources, and give the whole run one
 * temporary folder, removed at the end, so no test leaves anything behind: TMPDIR, and a containers storage of
 * its own (CONTAINERS_STORAGE_CONF) for every image buildah builds or pulls. Workers and children inherit both.
 */
export default function setup(): () => void {
  execFileSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
  const runTmp = mkdtempSync(join(tmpdir(), 'bi-test-run-'));
  const storageConf = join(runTmp, 'storage.conf');
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${runTmp}/containers/storage"\nrunroot = "${runTmp}/containers/run"\n`);
  process.env.TMPDIR = runTmp;
  process.env.CONTAINERS_STORAGE_CONF = storageConf;
  return () => rmSync(runTmp, { recursive: true, force: true });
}
