/**
 * The push pipeline's own overhead per image: `builder-images push --force` of one image (tags, build through
 * buildah, export, check of every layer, upload, summary) vs `buildah bud` + `buildah push` of the same Dockerfile
 * and context to the same registry, each run into a fresh repository so every blob moves. The image carries
 * ~200 MB of files (a compiler-sized payload). Target: overhead under 10%.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.js';
import { makeBuilderRepo } from '../test/support/builder-repo.js';
import { git } from '../test/support/git.js';
import { row, run, verdict } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAYLOAD_MB = Number(process.env.BENCH_PAYLOAD_MB ?? 200);
const reg = await startRegistry();
const { root, cleanup } = makeBuilderRepo(`${reg.host}/builders`);
const cli = join(import.meta.dirname, '../bin/builder-images.js');
const dockerfile = 'images/builder-any-x86_64_gcc12.0.0.Dockerfile';
const buildah = (...args: string[]) => run('buildah', ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs', ...args], { cwd: root });

function payload(): void {
  const dir = join(root, 'images/bin/amd64/payload');
  mkdirSync(dir);
  const words = ['gcc', 'cc1', 'include', 'struct', 'static', 'return', 'unsigned', 'const'];
  for (let f = 0; f < PAYLOAD_MB; f++) {
    let x = f + 1;
    const parts: string[] = [];
    for (let i = 0; i < 120_000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      parts.push(`${words[x % words.length]}${x % 9973}`);
    }
    writeFileSync(join(dir, `f${f}`), Buffer.from(parts.join(' ')).subarray(0, 1 << 20));
  }
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'payload');
}

async function time(fn: () => void): Promise<number> {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

try {
  payload();
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order so neither side always runs on a warmer cache.
    const runOurs = async () =>
      ours.push(await time(() => run('node', [cli, 'push', '--quiet', '--force', '--engine', 'buildah', '--jobs', '1', '--repo', `${reg.host}/ours${i}`, dockerfile], { cwd: root })));
    const runPeer = async () => {
      peer.push(
        await time(() => {
          buildah('bud', '--quiet', '--isolation', 'chroot', '--platform', 'linux/amd64', '-f', dockerfile, '-t', `peer${i}`, 'images');
          buildah('push', '--quiet', '--tls-verify=false', `peer${i}`, `docker://${reg.host}/peer${i}:t`);
        }),
      );
      buildah('rmi', '-f', `peer${i}`);
    };
    if (i % 2 === 0) {
      await runOurs();
      await runPeer();
    } else {
      await runPeer();
      await runOurs();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const o = median(ours);
  const p = median(peer);
  console.log(`one image with a ${PAYLOAD_MB} MB payload, median of ${RUNS} runs each, fresh repository per run`);
  row('buildah bud + buildah push (peer)', p);
  row('builder-images push --force (build, check, upload)', o, `${(((o - p) / p) * 100).toFixed(1)}% overhead`);
  verdict('pipeline overhead under 10%', (o - p) / p < 0.1, `${(((o - p) / p) * 100).toFixed(1)}%`);
} finally {
  cleanup();
  await reg.stop();
}
