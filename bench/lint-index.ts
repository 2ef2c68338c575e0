/**
 * lint and index on a repository of 2,000 builder Dockerfiles, against `git ls-files` over the same tree.
 * Target: both under 2 s on this machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, row, run, verdict } from './lib.js';

const COUNT = Number(process.env.BENCH_IMAGES ?? 2000);
const root = mkdtempSync(join(tmpdir(), 'bench-lint-'));
const cli = join(import.meta.dirname, '../bin/builder-images.js');
try {
  mkdirSync(join(root, 'images'));
  writeFileSync(join(root, 'builder-images.yaml'), 'repositories: [ghcr.io/bench/builders]\n');
  const digest = `sha256:${'ab'.repeat(32)}`;
  for (let i = 0; i < COUNT; i++) {
    const arch = i % 2 === 0 ? 'x86_64' : 'aarch64';
    const target = `t${Math.floor(i / 2)}`;
    writeFileSync(
      join(root, 'images', `builder-${target}-${arch}_gcc${(i % 9) + 4}.0.0_gcc${(i % 7) + 13}.1.0.Dockerfile`),
      `ARG BASE_IMAGE=debian:bookworm@${digest}\nFROM \${BASE_IMAGE}\nRUN apt-get update && apt-get install -y gcc\nCOPY --from=busybox:1@${digest} /bin/sh /sh\n`,
    );
  }
  run('git', ['init', '-q'], { cwd: root });
  run('git', ['add', '-A'], { cwd: root });
  run('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'bench'], { cwd: root });
  run('node', [cli, 'index'], { cwd: root });

  const peer = await median(5, () => run('git', ['ls-files'], { cwd: root }));
  const lint = await median(5, () => run('node', [cli, 'lint'], { cwd: root }));
  const index = await median(5, () => run('node', [cli, 'index', '--check'], { cwd: root }));
  console.log(`${COUNT} builder Dockerfiles, median of 5 runs (process start included)`);
  row('git ls-files (peer)', peer);
  row('builder-images lint', lint, `${(lint / peer).toFixed(1)}x git ls-files`);
  row('builder-images index --check', index, `${(index / peer).toFixed(1)}x git ls-files`);
  verdict('lint under 2 s', lint < 2000, `${(lint / 1000).toFixed(2)} s`);
  verdict('index under 2 s', index < 2000, `${(index / 1000).toFixed(2)} s`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
