/**
 * verify's cost per kernel against its peer: a plain `make` of the same module, in the same image, with the same
 * headers mounts, through the same engine. Target: verify within 10 % of the plain make, plus one engine start
 * (what an extra run of the engine costs, measured here with `true`). Then verify --boot's boot of that module
 * against a plain boot of the same kernel (bench/boot.ts; BENCH_BOOT=0 skips it).
 *
 * Kernels: the config's verify list (builder-images.yaml), those of this machine's arch (BENCH_VERIFY_HEADERS,
 * space-separated sources, replaces it). Image: BENCH_VERIFY_IMAGE (a registry reference or buildah:NAME) with
 * BENCH_VERIFY_GCC; by default a bookworm image with GCC 12 and make is built from .cache/bases/bookworm-<arch>.tar
 * (made by `make e2e` or scripts/make-bases.sh) in a private storage.
 * The driver builder's flow (verify --flow driverkit: downloads from the loopback server, unpacking, cmake, make
 * driver, strip, modinfo, sandboxed) is reported against a plain `cmake .. && make CC=… driver` of the same
 * Falco-shaped tree in the same image with the headers mounted (no downloads, no unpacking, no sandbox).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { arch as nodeArch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { runInImage } from '../src/adapters/engines/run.js';
import { loadRepo } from '../src/app/repo.js';
import { kernelSets, loadKernels, verifyOne, type Candidate, type VerifyKernel } from '../src/app/verify.js';
import { moduleMakeArgs } from '../src/core/kernel-headers.js';
import { platformString } from '../src/core/names.js';
import { MODULE_BUILD_SCRIPT, PROBE_CMAKE_FILES, PROBE_MODULE_FILES } from '../src/core/probe-module.js';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { benchBoot } from './boot.js';
import { median, privateContainersStorage, row, timeIt, verdict } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const arch = nodeArch() === 'arm64' ? 'aarch64' : 'x86_64';
const root = process.cwd();
const removeStorage = privateContainersStorage();
const bah = ['--storage-driver', 'vfs'];

async function benchImage(): Promise<Candidate> {
  const archive = /^oci-archive:(.+)$/.exec(process.env.BENCH_VERIFY_IMAGE ?? '');
  if (archive) {
    // An image saved earlier (e.g. the tests' toolchain archive): loaded once into the private storage.
    const id = (await execa('buildah', [...bah, 'pull', '--quiet', `oci-archive:${archive[1]}`])).stdout.trim().split('\n').pop()!;
    await execa('buildah', [...bah, 'tag', id, 'localhost/bench-verify:archive']);
    return { image: 'localhost/bench-verify:archive', engine: 'buildah', gcc: process.env.BENCH_VERIFY_GCC ?? '12.0.0', why: 'BENCH_VERIFY_IMAGE' };
  }
  if (process.env.BENCH_VERIFY_IMAGE) {
    const local = /^buildah:(.+)$/.exec(process.env.BENCH_VERIFY_IMAGE);
    return { image: local ? local[1]! : process.env.BENCH_VERIFY_IMAGE, engine: local ? 'buildah' : undefined, gcc: process.env.BENCH_VERIFY_GCC ?? '12.0.0', why: 'BENCH_VERIFY_IMAGE' };
  }
  const base = join(root, '.cache', 'bases', `bookworm-${arch === 'x86_64' ? 'amd64' : 'arm64'}.tar`);
  if (!existsSync(base)) throw new Error(`${base} is missing: run make e2e (or scripts/make-bases.sh), or set BENCH_VERIFY_IMAGE`);
  const started = Date.now();
  const ctr = (await execa('buildah', [...bah, 'from', '--quiet', 'scratch'])).stdout.trim();
  await execa('buildah', [...bah, 'add', ctr, base, '/']);
  await execa('buildah', [...bah, 'run', '--isolation', 'chroot', ctr, '--', 'sh', '-c',
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc-12 libc6-dev make libelf-dev bc flex bison kmod cmake curl ca-certificates binutils xz-utils >/dev/null && ln -sf gcc-12 /usr/bin/cc && ln -sf gcc-12 /usr/bin/gcc-12.0.0 && rm -rf /var/lib/apt/lists/*']);
  await execa('buildah', [...bah, 'commit', '--quiet', ctr, 'localhost/bench-verify:gcc12']);
  await execa('buildah', [...bah, 'rm', ctr]);
  console.log(`bench image localhost/bench-verify:gcc12 built in ${((Date.now() - started) / 1000).toFixed(0)}s (not timed below)`);
  return { image: 'localhost/bench-verify:gcc12', engine: 'buildah', gcc: '12.0.0', why: 'bench image' };
}

/** The peer: the same make in the same image with the same mounts, nothing read or judged afterwards. */
async function plainMake(kernel: VerifyKernel, candidate: Candidate): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'bench-make-'));
  try {
    for (const [name, text] of Object.entries(PROBE_MODULE_FILES)) await writeFile(join(work, name), text);
    const make = moduleMakeArgs({ buildDir: kernel.buildDir, moduleDir: '/tmp/m', cc: `/usr/bin/gcc-${candidate.gcc}`, kernel: kernel.arch, image: kernel.arch });
    const r = await runInImage('buildah', candidate.image, platformString(kernel.arch), ['/bin/sh', '-c', 'cp -R /m /tmp/m && make "$@"', 'sh', ...make], {
      mounts: [...kernel.mounts.map((m) => ({ ...m, readonly: true })), { source: work, target: '/m', readonly: true }],
      pull: candidate.engine ? 'never' : undefined,
    });
    if (r.exitCode !== 0) throw new Error(`plain make failed: ${r.stderr.slice(-400)}`);
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The flow's peer: the same Falco-shaped tree built with cmake and make driver, headers mounted, unsandboxed. */
async function plainDriverMake(kernel: VerifyKernel, candidate: Candidate): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'bench-driver-'));
  try {
    for (const [name, text] of Object.entries(PROBE_CMAKE_FILES)) {
      await mkdir(dirname(join(work, 'src', name)), { recursive: true });
      await writeFile(join(work, 'src', name), text);
    }
    await mkdir(join(work, 'out'));
    const cc = `/usr/bin/gcc-${candidate.gcc}`;
    const r = await runInImage('buildah', candidate.image, platformString(kernel.arch), ['/bin/sh', '-c', MODULE_BUILD_SCRIPT, 'sh', '/m', '/tmp/m', '/out', kernel.buildDir, cc], {
      mounts: [...kernel.mounts.map((m) => ({ ...m, readonly: true })), { source: join(work, 'src'), target: '/m', readonly: true }, { source: join(work, 'out'), target: '/out', readonly: false }],
      pull: candidate.engine ? 'never' : undefined,
    });
    if (r.exitCode !== 0) throw new Error(`plain cmake + make driver failed: ${r.stderr.slice(-400)}`);
    return 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

try {
  const repo = await loadRepo(root);
  const headers = process.env.BENCH_VERIFY_HEADERS?.split(/\s+/).filter(Boolean);
  const sets = kernelSets(headers, {}, repo.config.verify);
  const cacheDir = join(root, '.cache', 'headers');
  const candidate = await benchImage();
  console.log(`verify per kernel vs a plain make of the same module in the same image (${candidate.image}, gcc-${candidate.gcc}), median of ${RUNS}`);
  const engineStart = await median(RUNS, () => runInImage('buildah', candidate.image, platformString(arch), ['true'], { pull: candidate.engine ? 'never' : undefined }));
  row('engine start (buildah from + run true + rm)', engineStart);
  for (const set of sets) {
    const staged = await timeIt(() => loadKernels(set.sources, set.overrides, { cwd: root, cacheDir }));
    const { kernels, cleanup } = staged.value;
    try {
      for (const kernel of kernels.filter((k) => k.arch === arch)) {
        row(`${kernel.release}: headers staged (download/unpack or cache)`, staged.ms);
        const options = { engine: 'buildah' as const, insecureRegistries: [] };
        // The first build's module is kept for the boot rows (BENCH_BOOT=0 skips them).
        const keptKo = join(await mkdtemp(join(tmpdir(), 'bench-ko-')), 'module.ko');
        const first = await verifyOne(kernel, candidate, { ...options, afterBuild: async (r, ko) => {
          await copyFile(ko, keptKo);
          return r;
        } });
        if (first.verdict !== 'pass') throw new Error(`verify did not pass: ${first.message} ${first.errors.join(' | ')}`);
        const verifyMs = await median(RUNS, () => verifyOne(kernel, candidate, options));
        const plainMs = await median(RUNS, () => plainMake(kernel, candidate));
        row(`${kernel.release}: verify (build + copy out + judge .ko)`, verifyMs);
        row(`${kernel.release}: plain make, same image and mounts`, plainMs, `ratio ${(verifyMs / plainMs).toFixed(2)}`);
        const limit = plainMs * 1.1 + engineStart;
        verdict(`verify ${kernel.release}`, verifyMs <= limit, `${(verifyMs / 1000).toFixed(2)} s vs limit ${(limit / 1000).toFixed(2)} s (plain make x 1.10 + engine start)`);
        if (process.env.BENCH_BOOT !== '0') await benchBoot({ release: kernel.release, arch: kernel.arch, headers: kernel.sources }, keptKo, RUNS, join(root, '.cache', 'kernels'));
        await rm(join(keptKo, '..'), { recursive: true, force: true });
        if (kernel.packaging === 'other') continue;
        // The driver builder's flow: what it adds over the plain build is its downloads and unpacking, in the sandbox.
        const flowOptions = { ...options, build: { kind: 'flow' as const, flow: 'driverkit' as const }, paths: { cwd: root, cacheDir } };
        const flowFirst = await verifyOne(kernel, candidate, flowOptions);
        if (flowFirst.verdict !== 'pass') throw new Error(`verify --flow driverkit did not pass: ${flowFirst.message} ${flowFirst.errors.join(' | ')}`);
        const flowMs = await median(RUNS, () => verifyOne(kernel, candidate, flowOptions));
        const driverMs = await median(RUNS, () => plainDriverMake(kernel, candidate));
        row(`${kernel.release}: verify --flow driverkit (curl, unpack, cmake, make driver, strip, modinfo)`, flowMs);
        row(`${kernel.release}: plain cmake + make driver, same image, headers mounted`, driverMs, `ratio ${(flowMs / driverMs).toFixed(2)}`);
      }
    } finally {
      await cleanup();
    }
  }
} finally {
  removeStorage();
}
