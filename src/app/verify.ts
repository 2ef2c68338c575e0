/**
 * verify: prove an image builds a real kernel module for a kernel. For each kernel (staged from its headers
 * packages), the image and GCC the driver builder would pick (select over the index, or among the images given)
 * run through an engine with the headers mounted read-only at their own paths and the probe module read-only;
 * the module is copied to a writable dir inside, built with `make -C <headers> M=<module> CC=/usr/bin/gcc-X.Y.Z
 * ARCH=<kernel arch>`, and the .ko is copied out. It passes only when the .ko is an ELF relocatable of the
 * kernel's machine whose vermagic starts with the kernel's release: the exit code alone proves nothing.
 * Nothing is published or changed; the staging trees and the work dir are removed.
 */
import { mkdir, lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexEntry } from '../core/index-schema.js';
import { defaultGccForKernel, parseKernelRelease } from '../core/kernel.js';
import { firstErrorLines, targetForKernel } from '../core/kernel-headers.js';
import { judgeModule } from '../core/kernel-module.js';
import { platformString, type Arch } from '../core/names.js';
import { selectBuilder } from '../core/select.js';
import { formatGccVersion } from '../core/version.js';
import { emulationFor, type EngineName } from '../adapters/engines/detect.js';
import { runInImage } from '../adapters/engines/run.js';
import { parseHeadersSource, stageHeaders, type HeadersSource, type StagedKernel } from '../adapters/headers/stage.js';
import type { VerifyKernelConfig } from '../core/config.js';
import { UsageError } from '../errors.js';
import { InterruptedError, tempDir } from '../util/cleanup.js';
import { prepareFlow, prepareModuleBuild, type BuildSpec, type HostPaths, type PreparedBuild } from './verify-build.js';
import type { BootResult } from './boot.js';

/** A kernel to build for: its release, arch and driver-builder target, and where its headers are. */
export interface VerifyKernel extends StagedKernel {
  arch: Arch;
  target: string;
}

/** An image to run for a kernel, with the GCC to build with. */
export interface Candidate {
  image: string;
  gcc: string;
  /** Which engine holds it when it is not pulled from a registry (a fresh build, or `buildah:NAME`). */
  engine?: EngineName;
  why: string;
}

export interface VerifyRow {
  kernel: string;
  arch: Arch;
  target: string;
  image: string;
  gcc: string;
  /** What was built: the built-in probe, a `--module`, or the driver builder's flow. */
  build?: BuildSpec['kind'];
  verdict: 'pass' | 'fail' | 'skipped';
  seconds: number;
  /** Why it passed (its vermagic) or failed, in one sentence. */
  message: string;
  /** The build's first error lines, when it failed. */
  errors: string[];
  vermagic?: string;
  why: string;
  headers: string[];
  /** The built .ko on the host, while the run lasts (a VerifyWorkspace keeps it; gone when the run ends). */
  modulePath?: string;
  /** Processes the build left running, killed after it (a daemon it started). */
  reaped?: number;
  /** verify --boot: the kernel's verdict in one string (`loads`, `refused: <the kernel's line>`, …). */
  boot?: string;
  /** verify --boot: the whole boot report (app/boot.ts). */
  bootDetail?: BootResult;
}

export interface KernelOverrides {
  release?: string;
  arch?: Arch;
  target?: string;
}

export interface KernelSet {
  sources: HeadersSource[];
  overrides: KernelOverrides;
}

/** The kernels to verify: --headers (one set, the flags apply to all), else the config's verify list. */
export function kernelSets(headers: string[] | undefined, flags: KernelOverrides, configured: VerifyKernelConfig[]): KernelSet[] {
  if (headers?.length) {
    const sources = headers.map((h) => {
      try {
        return parseHeadersSource(h);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
    return [{ sources, overrides: flags }];
  }
  if (configured.length === 0) throw new UsageError('give kernel headers (--headers <sources…>), or list kernels under verify: in builder-images.yaml');
  return configured.map((k) => ({
    sources: k.headers.map((h) => (typeof h === 'string' ? { location: h } : { location: h.source, sha256: h.sha256 })),
    overrides: { release: flags.release ?? k.release, arch: flags.arch ?? k.arch, target: flags.target ?? k.target },
  }));
}

/** Stage the headers and apply the overrides: every kernel ends with a release, an arch and a target. */
export async function loadKernels(sources: HeadersSource[], overrides: KernelOverrides, stage: { cwd: string; cacheDir: string; onProgress?: (line: string) => void }) {
  const staged = await stageHeaders(sources, stage);
  try {
    const kernels: VerifyKernel[] = staged.kernels.map((k) => {
      const arch = overrides.arch ?? k.arch;
      if (!arch) throw new Error(`headers ${k.sources.join(' + ')}: cannot tell the kernel's arch (no CONFIG_X86_64/CONFIG_ARM64 in .config, no arch in the package name): pass --arch`);
      const release = overrides.release ?? k.release;
      return { ...k, release, releaseFrom: overrides.release ? '--kernel-release' : k.releaseFrom, arch, target: overrides.target ?? targetForKernel(release, k.packaging) };
    });
    return { kernels, cleanup: staged.cleanup };
  } catch (err) {
    await staged.cleanup();
    throw err;
  }
}

/** The driver builder's pick for a kernel: its default GCC for the release, then select over the index. */
export function pickFromIndex(kernel: VerifyKernel, entries: IndexEntry[], tag: string): Candidate | string {
  const parsed = parseKernelRelease(kernel.release);
  if (!parsed) return `kernel release "${kernel.release}" is not a release such as 6.1.0-56-amd64`;
  const rule = defaultGccForKernel(kernel.target, parsed);
  const pick = selectBuilder(entries, { target: kernel.target, arch: kernel.arch, tag, gcc: rule.gcc });
  if (!pick) return `no image in the index for target ${kernel.target} (or any), arch ${kernel.arch}, tag ${tag}`;
  return { image: pick.image.name, gcc: pick.gcc, why: `kernel ${kernel.release} wants GCC ${formatGccVersion(rule.gcc)} (rule ${rule.rule}); ${pick.reason}: ${pick.why}` };
}

/** An image named by the caller (or just built by push): what its name says it holds, when it says. */
export interface ImageUnderTest {
  image: string;
  engine?: EngineName;
  arch?: Arch;
  target?: string;
  gccVersions?: string[];
}

/**
 * The GCC the driver builder would use in this image for this kernel (select over the image alone), or why none;
 * undefined when the image is for another arch or target (not a pair to build). `exact` says whether the image
 * holds the GCC the kernel wants, i.e. whether it is an image the driver builder picks for that kernel.
 */
export function candidateForImage(kernel: VerifyKernel, img: ImageUnderTest): (Candidate & { exact: boolean }) | string | undefined {
  if (img.arch && img.arch !== kernel.arch) return undefined;
  if (!img.gccVersions?.length) return `${img.image}: cannot tell its GCCs from its name: pass --gcc X.Y.Z`;
  const parsed = parseKernelRelease(kernel.release);
  if (!parsed) return `kernel release "${kernel.release}" is not a release such as 6.1.0-56-amd64`;
  const rule = defaultGccForKernel(kernel.target, parsed);
  const entry: IndexEntry = { name: img.image, target: img.target ?? kernel.target, arch: kernel.arch, tag: 'verify', gcc_versions: img.gccVersions };
  const pick = selectBuilder([entry], { target: kernel.target, arch: kernel.arch, tag: 'verify', gcc: rule.gcc });
  if (!pick) return undefined;
  const exact = pick.reason === 'exact' || pick.reason === 'fallback';
  return {
    image: img.image,
    engine: img.engine,
    gcc: pick.gcc,
    exact,
    why: `kernel ${kernel.release} wants GCC ${formatGccVersion(rule.gcc)} (rule ${rule.rule}); the image ${exact ? 'has it' : `has no such GCC: ${pick.reason} is ${pick.gcc}`}`,
  };
}

export interface RunVerifyOptions {
  engine: EngineName;
  insecureRegistries: string[];
  onProgress?: (line: string) => void;
  /** A build taking longer than this fails (ms): the wall-clock limit of the sandbox. */
  timeoutMs?: number;
  /** What to build (default: the built-in probe). */
  build?: BuildSpec;
  /** Where relative module sources are read, and the headers cache (downloads, staged trees). */
  paths?: HostPaths;
  /** verify --boot: called with a passing row and its .ko while the file still exists (app/boot.ts withBoot). */
  afterBuild?: (row: VerifyRow, modulePath: string) => Promise<VerifyRow>;
}

const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/** The run's work dirs: kept until the run ends, so a row's modulePath can be read (booted) after it is judged. */
export class VerifyWorkspace {
  private readonly dirs: { remove(): Promise<void> }[] = [];
  async make(): Promise<string> {
    const dir = await tempDir('bi-verify-');
    this.dirs.push(dir);
    return dir.path;
  }
  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => d.remove()));
  }
}

/** Build the probe (or the module, or the driver builder's flow) for one kernel in one image and judge the .ko. */
export async function verifyOne(kernel: VerifyKernel, candidate: Candidate, options: RunVerifyOptions, workspace?: VerifyWorkspace): Promise<VerifyRow> {
  const started = Date.now();
  const spec = options.build ?? { kind: 'probe' };
  const row = (verdict: VerifyRow['verdict'], message: string, extra: Partial<VerifyRow> = {}): VerifyRow => ({
    kernel: kernel.release,
    arch: kernel.arch,
    target: kernel.target,
    image: candidate.image,
    gcc: candidate.gcc,
    build: spec.kind,
    verdict,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    message,
    errors: [],
    why: candidate.why,
    headers: kernel.sources,
    ...extra,
  });
  const emulation = emulationFor(kernel.arch);
  if (emulation.mode === 'none') return row('skipped', `not run: ${platformString(kernel.arch)} cannot execute here (${emulation.detail})`);
  const own = workspace ? undefined : new VerifyWorkspace();
  const work = await (workspace ?? own!).make();
  try {
    const outDir = join(work, 'out');
    await mkdir(outDir);
    let prepared: PreparedBuild;
    try {
      const paths = options.paths ?? { cwd: process.cwd(), cacheDir: join(process.cwd(), '.cache', 'headers') };
      prepared = spec.kind === 'flow' ? await prepareFlow(kernel, candidate.gcc, spec, work, paths) : await prepareModuleBuild(kernel, candidate.gcc, spec, work, paths);
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      return row('fail', `not run: ${(err as Error).message}`);
    }
    options.onProgress?.(`verify: ${kernel.release} (${kernel.arch}) in ${candidate.image}: ${prepared.describe}`);
    let result;
    try {
      result = await runInImage(candidate.engine ?? options.engine, candidate.image, platformString(kernel.arch), prepared.argv, {
        insecureRegistries: options.insecureRegistries,
        mounts: prepared.mounts,
        containerEnv: prepared.containerEnv,
        sandbox: prepared.sandbox,
        timeout: options.timeoutMs ?? 20 * 60_000,
        pull: candidate.engine ? 'never' : undefined,
      });
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      const text = String((err as { stderr?: string }).stderr || (err as Error).message);
      return row('fail', `the engine could not run the image: ${firstErrorLines(text, 1)[0] ?? text}`, { errors: firstErrorLines(text) });
    } finally {
      await prepared.close();
    }
    const output = `${result.stdout}\n${result.stderr}`;
    const sandbox = result.reaped ? { reaped: result.reaped } : {};
    if (result.timedOut) return row('fail', `the build ran past the ${Math.round((options.timeoutMs ?? 20 * 60_000) / 1000)} s limit and was killed`, { errors: firstErrorLines(output), ...sandbox });
    const ko = (await readdir(outDir)).find((f) => f.endsWith('.ko'));
    if (!ko) {
      const errors = firstErrorLines(output);
      // 127 is the shell's "command not found": say so even when the image printed nothing.
      const status = result.exitCode === 127 ? 'exit 127: a command the build needs is not in the image' : `exit ${result.exitCode}`;
      return row('fail', `no .ko was built (${status})${errors[0] ? `: ${errors[0]}` : ''}`, { errors, ...sandbox });
    }
    // The image wrote it: read it only as a regular file (no symlink out to the host) of a module's size.
    const modulePath = join(outDir, ko);
    const info = await lstat(modulePath);
    if (!info.isFile() || info.size > MAX_MODULE_BYTES) return row('fail', `${ko} is not a regular file of a module's size`, sandbox);
    const verdict = judgeModule(await readFile(modulePath), { arch: kernel.arch, release: kernel.release });
    const kept = workspace ? { modulePath } : {};
    if (!verdict.ok) return row('fail', verdict.message, { vermagic: verdict.vermagic, errors: firstErrorLines(output), ...sandbox, ...kept });
    if (result.exitCode !== 0) return row('fail', `a .ko was built but the build exited ${result.exitCode}`, { vermagic: verdict.vermagic, errors: firstErrorLines(output), ...sandbox, ...kept });
    const passed = row('pass', `${ko}: ${verdict.message}`, { vermagic: verdict.vermagic, ...sandbox, ...kept });
    return options.afterBuild ? await options.afterBuild(passed, modulePath) : passed;
  } finally {
    await own?.removeAll();
  }
}

/** Every kernel against its candidates, one after another (each build already uses the machine). */
export async function verifyAll(pairs: { kernel: VerifyKernel; candidate: Candidate | string }[], options: RunVerifyOptions): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  const workspace = new VerifyWorkspace();
  try {
    for (const { kernel, candidate } of pairs) {
      if (typeof candidate === 'string') {
        rows.push({ kernel: kernel.release, arch: kernel.arch, target: kernel.target, image: '-', gcc: '-', build: options.build?.kind ?? 'probe', verdict: 'fail', seconds: 0, message: candidate, errors: [], why: candidate, headers: kernel.sources });
        continue;
      }
      // Each row's .ko (modulePath) stays readable until the run ends: a later step (boot) can load it.
      const r = await verifyOne(kernel, candidate, options, workspace);
      options.onProgress?.(`verify: ${r.kernel} (${r.arch}) ${r.image} gcc ${r.gcc}: ${r.verdict} in ${r.seconds}s: ${r.message}`);
      rows.push(r);
    }
  } finally {
    await workspace.removeAll();
  }
  return rows.map(({ modulePath: _kept, ...r }) => r);
}

/**
 * push --verify: build the probe module with a freshly built image for every kernel it would be picked for (its
 * arch and target, and the GCC the kernel wants), before it is published. Returns the failures as sentences
 * (empty when all passed, or when no kernel is for it).
 */
export async function verifyBuiltImage(
  kernels: VerifyKernel[],
  built: { image: string; engine: EngineName; arch: Arch; target: string; gccVersions: string[] },
  options: RunVerifyOptions,
): Promise<string[]> {
  const problems: string[] = [];
  let ran = 0;
  for (const kernel of kernels) {
    const candidate = candidateForImage(kernel, built);
    if (candidate === undefined) continue;
    if (typeof candidate === 'string') {
      problems.push(candidate);
      continue;
    }
    // Only kernels this image is picked for: an image without the kernel's GCC is not its image.
    if (!candidate.exact) {
      options.onProgress?.(`verify: kernel ${kernel.release} skipped: ${candidate.why}`);
      continue;
    }
    ran++;
    const r = await verifyOne(kernel, candidate, options);
    options.onProgress?.(`verify: kernel ${r.kernel} with gcc ${r.gcc}: ${r.verdict} in ${r.seconds}s: ${r.message}`);
    if (r.verdict === 'fail') problems.push(`kernel ${r.kernel} with gcc-${r.gcc}: ${r.message}${r.errors.length && !r.message.includes(r.errors[0]!) ? ` (${r.errors[0]})` : ''}`);
  }
  if (ran === 0 && problems.length === 0) options.onProgress?.(`verify: no kernel of ${built.arch}/${built.target} wants this image's GCC (${built.gccVersions.join(', ')}): nothing to build`);
  return problems;
}
