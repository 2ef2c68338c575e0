/**
 * verify at the driver grid's scale, on real kernels: the bookworm kernels the Debian mirror serves (apt's indexes
 * read into kernel-crawler's list format), every one `select` sends to a bookworm GCC 12 builder image in
 * a loopback registry, verified with `verify --kernels --jobs 2` for 1, 2, 4 … of them, against the peer: a serial
 * loop of a plain `make` of the same module per kernel, in the same image with the same headers. Prints kernels per
 * hour for both and the cost per kernel at each size (it must stay flat: linear growth, per-image costs once).
 *
 *   npx tsx bench/verify-grid.ts        (BENCH_GRID_MAX=8 kernels at most, BENCH_GRID_ARCH=x86_64; needs
 *                                        .cache/bases from make e2e, or BENCH_VERIFY_IMAGE=oci-archive:FILE)
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli.js';
import { runInImage } from '../src/adapters/engines/run.js';
import { loadKernels } from '../src/app/verify.js';
import { moduleMakeArgs } from '../src/core/kernel-headers.js';
import { platformString } from '../src/core/names.js';
import { PROBE_MODULE_FILES } from '../src/core/probe-module.js';
import { startRegistry } from '../test/support/registry.js';
import { privateContainersStorage, row, timeIt, verdict } from './lib.js';

const MAX = Number(process.env.BENCH_GRID_MAX ?? 8);
const bah = ['--storage-driver', 'vfs'];
const removeStorage = privateContainersStorage();

/**
 * bookworm's amd64 kernels as apt's own indexes list them (this machine's Packages files: bookworm, -updates and
 * -security), in kernel-crawler's format: each kernel's arch package with its -common and linux-kbuild companions
 * of the same version, at the mirror that lists them. The mirror serves no directory listings, so this is the list.
 */
async function bookwormKernels(): Promise<{ Debian: { kernelversion: string; kernelrelease: string; target: string; headers: string[] }[] }> {
  const files = (await execa('sh', ['-c', 'ls /var/lib/apt/lists/*_binary-amd64_Packages*'])).stdout.split('\n').filter(Boolean);
  const byRelease = new Map<string, string[]>();
  for (const file of files) {
    const base = `https://${file.split('/').pop()!.split('_dists_')[0]!.replace(/_/g, '/')}/`;
    const text = (await execa('/usr/lib/apt/apt-helper', ['cat-file', file], { maxBuffer: 1 << 30 })).stdout;
    for (const m of text.matchAll(/^Filename: (\S+\/)linux-headers-(6\.1\.0-\d+|6\.12\.\d+\+deb12)-amd64_([^_]+)_amd64\.deb$/gm)) {
      const [, dir, abi, version] = m as unknown as [string, string, string, string];
      // The indexes list only the newest linux-kbuild; the pool keeps the others, and verify's HEAD probe keeps
      // only the URLs that answer, as the driver builder does.
      const kbuild = abi.startsWith('6.12') ? `linux-kbuild-${abi}` : 'linux-kbuild-6.1';
      const names = [`linux-headers-${abi}-amd64_${version}_amd64.deb`, `linux-headers-${abi}-common_${version}_all.deb`, `${kbuild}_${version}_amd64.deb`];
      byRelease.set(`${abi}-amd64`, names.map((n) => `${base}${dir}${n}`));
    }
  }
  const releases = [...byRelease.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { Debian: releases.map((r) => ({ kernelversion: '1', kernelrelease: r, target: 'debian', headers: byRelease.get(r)! })) };
}

async function benchImage(): Promise<string> {
  const archive = /^oci-archive:(.+)$/.exec(process.env.BENCH_VERIFY_IMAGE ?? '');
  const name = 'localhost/bench-grid:gcc12';
  if (archive) {
    const id = (await execa('buildah', [...bah, 'pull', '--quiet', `oci-archive:${archive[1]}`])).stdout.trim().split('\n').pop()!;
    await execa('buildah', [...bah, 'tag', id, name]);
    return name;
  }
  const base = join(process.cwd(), '.cache', 'bases', 'bookworm-amd64.tar');
  const ctr = (await execa('buildah', [...bah, 'from', '--quiet', 'scratch'])).stdout.trim();
  await execa('buildah', [...bah, 'add', ctr, base, '/']);
  await execa('buildah', [...bah, 'run', '--isolation', 'chroot', ctr, '--', 'sh', '-c',
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-12 libc6-dev make libelf-dev bc flex bison kmod dwarves >/dev/null && ln -sf gcc-12 /usr/bin/gcc-12.0.0 && rm -rf /var/lib/apt/lists/*']);
  await execa('buildah', [...bah, 'commit', '--quiet', ctr, name]);
  await execa('buildah', [...bah, 'rm', ctr]);
  return name;
}

/** The peer for one kernel: the same make, same image, same mounts, nothing probed, staged or judged after. */
async function plainMake(image: string, headers: string[], cacheDir: string): Promise<void> {
  const { kernels, cleanup } = await loadKernels(headers.map((location) => ({ location })), {}, { cwd: process.cwd(), cacheDir });
  const work = await mkdtemp(join(tmpdir(), 'bench-grid-make-'));
  try {
    const kernel = kernels[0]!;
    for (const [name, text] of Object.entries(PROBE_MODULE_FILES)) await writeFile(join(work, name), text);
    const make = moduleMakeArgs({ buildDir: kernel.buildDir, moduleDir: '/tmp/m', cc: '/usr/bin/gcc-12.0.0', kernel: 'x86_64', image: 'x86_64' });
    const r = await runInImage('buildah', image, platformString('x86_64'), ['/bin/sh', '-c', 'cp -R /m /tmp/m && make "$@"', 'sh', ...make], {
      mounts: [...kernel.mounts.map((m) => ({ ...m, readonly: true })), { source: work, target: '/m', readonly: true }],
      pull: 'never',
    });
    if (r.exitCode !== 0) throw new Error(`plain make failed for ${kernel.release}: ${r.stderr.slice(-300)}`);
  } finally {
    await cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

const reg = await startRegistry();
const dir = await mkdtemp(join(tmpdir(), 'bench-grid-'));
try {
  const list = await bookwormKernels();
  console.log(`${list.Debian.length} bookworm amd64 kernel(s) in apt's indexes: ${list.Debian.map((k) => k.kernelrelease).join(', ')}`);
  const image = await benchImage();
  const target = `${reg.host}/builders:debian-x86_64_gcc12.0.0-latest`;
  await execa('buildah', [...bah, 'push', '--quiet', '--tls-verify=false', image, `docker://${target}`]);
  await writeFile(join(dir, 'list.json'), JSON.stringify(list));
  await writeFile(join(dir, 'builder-images.yaml'), `repositories: [${reg.host}/builders]\nengine: buildah\n`);
  await writeFile(join(dir, 'index.yaml'), `images:\n  - name: ${target}\n    target: debian\n    arch: x86_64\n    tag: latest\n    gcc_versions: ["12.0.0"]\n`);
  const cacheDir = join(dir, '.cache', 'headers');
  // Warm the headers cache for both sides, so both measure builds, not downloads.
  // A spread: the oldest and newest 6.1 ABIs and the 6.12 ones, MAX at most.
  const kernels = list.Debian.filter((_, i, all) => i % Math.max(1, Math.floor(all.length / MAX)) === 0).slice(0, MAX);
  const usable: typeof kernels = [];
  for (const k of kernels) {
    const staged = await loadKernels(k.headers.map((location) => ({ location })), {}, { cwd: dir, cacheDir }).catch((err: Error) => {
      console.log(`${k.kernelrelease}: left out (${err.message.split('\n')[0]})`);
      return undefined;
    });
    if (staged) {
      usable.push(k);
      await staged.cleanup();
    }
  }
  kernels.splice(0, kernels.length, ...usable);

  const sizes = [1, 2, 4, 8, 16].filter((n) => n <= kernels.length);
  if (!sizes.includes(kernels.length)) sizes.push(kernels.length);
  const perKernel: number[] = [];
  for (const n of sizes) {
    const subset = { Debian: kernels.slice(-n) };
    await writeFile(join(dir, 'subset.json'), JSON.stringify(subset));
    let said = '';
    const keep = { write: (chunk: unknown) => ((said += String(chunk)), true) } as unknown as NodeJS.WritableStream;
    const ours = await timeIt(() => main(['node', 'builder-images', '--cwd', dir, 'verify', '--kernels', 'subset.json', '--jobs', '2', '--json'], { stdout: keep, stderr: keep }));
    if (ours.value !== 0) throw new Error(`verify --kernels failed for ${n} kernel(s) (exit ${ours.value}):\n${said.split('\n').slice(-40).join('\n')}`);
    const peer = await timeIt(async () => {
      for (const k of subset.Debian) await plainMake(image, k.headers, cacheDir);
    });
    perKernel.push(ours.ms / n);
    row(`${n} kernel(s): verify --kernels --jobs 2`, ours.ms, `${((3_600_000 / ours.ms) * n).toFixed(0)} kernels/h; ${(ours.ms / n / 1000).toFixed(1)} s per kernel`);
    row(`${n} kernel(s): serial loop of plain make`, peer.ms, `${((3_600_000 / peer.ms) * n).toFixed(0)} kernels/h; ratio ${(ours.ms / peer.ms).toFixed(2)}`);
  }
  const spread = Math.max(...perKernel.slice(1)) / Math.min(...perKernel.slice(1));
  verdict('linear growth', perKernel.length < 3 || spread < 1.5, `cost per kernel from ${sizes[1] ?? 1} kernels on: ${perKernel.slice(1).map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (max/min ${spread.toFixed(2)})`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await reg.stop();
  removeStorage();
}
