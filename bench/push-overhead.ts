/**
 * The push pipeline's own overhead per image: `builder-images push --force` of one image (tags, build through
 * buildah, export, check of every layer, upload, summary) vs `buildah bud` + `buildah push` of the same Dockerfile
 * and context to the same registry, each run into a fresh repository so every blob moves. Target: under 10%.
 *
 * Two images:
 *  - real: a builder image as this repository has them: a debootstrap Debian bookworm base (cached by
 *    `make e2e` in .cache/bases; made here when missing, which needs root and debootstrap) plus `apt-get install
 *    gcc-12` from the Debian mirror and the versioned link. The verdict is on this one.
 *  - worst case: FROM scratch + COPY of a 200 MB payload, so the build is nearly free and the pipeline's fixed
 *    costs (process start, git, reading every layer for check, upload after export) show at their largest.
 * BENCH_ONLY=real|copy runs one of them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.js';
import { makeBuilderRepo } from '../test/support/builder-repo.js';
import { git } from '../test/support/git.js';
import { privateContainersStorage, row, run, verdict } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAYLOAD_MB = Number(process.env.BENCH_PAYLOAD_MB ?? 200);
const dropStorage = privateContainersStorage();
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Run ours and the peer RUNS times each, alternating which goes first; returns the two medians. */
async function compare(label: string, file: string, context: string): Promise<{ ours: number; peer: number }> {
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const runOurs = async () =>
      ours.push(await time(() => run('node', [cli, 'push', '--quiet', '--force', '--engine', 'buildah', '--jobs', '1', '--repo', `${reg.host}/${label}-ours${i}`, file], { cwd: root })));
    const runPeer = async () => {
      peer.push(
        await time(() => {
          buildah('bud', '--quiet', '--isolation', 'chroot', '--tls-verify=false', '--platform', 'linux/amd64', '-f', file, '-t', `${label}-peer${i}`, context);
          buildah('push', '--quiet', '--tls-verify=false', `${label}-peer${i}`, `docker://${reg.host}/${label}-peer${i}:t`);
        }),
      );
      buildah('rmi', '-f', `${label}-peer${i}`);
    };
    if (i % 2 === 0) {
      await runOurs();
      await runPeer();
    } else {
      await runPeer();
      await runOurs();
    }
  }
  return { ours: median(ours), peer: median(peer) };
}

function report(title: string, r: { ours: number; peer: number }, withVerdict: boolean): void {
  const overhead = ((r.ours - r.peer) / r.peer) * 100;
  console.log(`\n${title}, median of ${RUNS} runs each, fresh repository per run`);
  row('buildah bud + buildah push (peer)', r.peer);
  row('builder-images push --force (build, check, upload)', r.ours, `${overhead.toFixed(1)}% overhead (${((r.ours - r.peer) / 1000).toFixed(2)} s)`);
  if (withVerdict) verdict('pipeline overhead under 10%', overhead < 10, `${overhead.toFixed(1)}%`);
}

try {
  const only = process.env.BENCH_ONLY;
  if (only !== 'copy') {
    // The base as make e2e makes it (cached root file system), pushed to this run's registry.
    const digest = execFileSync('bash', ['scripts/make-bases.sh', 'bookworm', reg.host, 'amd64'], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const base = `${reg.host}/debian:bookworm@${digest}`;
    writeFileSync(
      join(root, 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile'),
      `ARG BASE_IMAGE=${base}\nFROM \${BASE_IMAGE}\nRUN apt-get update && apt-get install -y --no-install-recommends gcc-12 libc6-dev && rm -rf /var/lib/apt/lists/* && ln -s gcc-12 /usr/bin/gcc-12.0.0\n`,
    );
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'real image');
    report('real builder image: debootstrap bookworm + apt-get install gcc-12', await compare('real', 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile', 'images'), true);
  }
  if (only !== 'real') {
    payload();
    report(`worst case: FROM scratch + COPY of a ${PAYLOAD_MB} MB payload (no RUN)`, await compare('copy', dockerfile, 'images'), only === 'copy');
  }
} finally {
  cleanup();
  await reg.stop();
  dropStorage();
}
