/**
 * verify: prove an image builds a real kernel module for a kernel. For each kernel (staged from its headers
 * packages), the image and GCC the driver builder would pick (select over the index, or among the images given)
 * run through an engine with the headers mounted read-only at their own paths and the probe module read-only;
 * the module is copied to a writable dir inside, built with `make -C <headers> M=<module> CC=/usr/bin/gcc-X.Y.Z
 * ARCH=<kernel arch>`, and the .ko is copied out. It passes only when the .ko is an ELF relocatable of the
 * kernel's machine whose vermagic starts with the kernel's release: the exit code alone proves nothing.
 * Nothing is published or changed; the staging trees and the work dir are removed.
 */
import { mkdir, mkdtemp, lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexEntry } from '../core/index-schema.js';
import { defaultGccForKernel, parseKernelRelease } from '../core/kernel.js';
import { firstErrorLines, moduleMakeArgs, targetForKernel } from '../core/kernel-headers.js';
import { judgeModule } from '../core/kernel-module.js';
import { platformString, type Arch } from '../core/names.js';
import { PROBE_MODULE_FILES } from '../core/probe-module.js';
import { selectBuilder } from '../core/select.js';
import { formatGccVersion } from '../core/version.js';
import { emulationFor, type EngineName } from '../adapters/engines/detect.js';
import { runInImage } from '../adapters/engines/run.js';
import { parseHeadersSource, stageHeaders, type HeadersSource, type StagedKernel } from '../adapters/headers/stage.js';
import type { VerifyKernelConfig } from '../core/config.js';
import { UsageError } from '../errors.js';
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
  verdict: 'pass' | 'fail' | 'skipped';
  seconds: number;
  /** Why it passed (its vermagic) or failed, in one sentence. */
  message: string;
  /** The build's first error lines, when it failed. */
  errors: string[];
  vermagic?: string;
  why: string;
  headers: string[];
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
  /** A build taking longer than this fails (ms). */
  timeoutMs?: number;
  /** verify --boot: called with a passing row and its .ko while the file still exists (app/boot.ts withBoot). */
  afterBuild?: (row: VerifyRow, modulePath: string) => Promise<VerifyRow>;
}

/** The script run inside the image; values come as arguments, never spliced into it. */
const IN_IMAGE_SCRIPT = [
  'set -u',
  'src=$1; work=$2; out=$3; shift 3',
  'command -v make >/dev/null 2>&1 || { echo "verify: make not found in the image" >&2; exit 127; }',
  'rm -rf "$work" && mkdir -p "$work" && cp -R "$src/." "$work/" || exit 1',
  'make "$@"; status=$?',
  'for ko in "$work"/*.ko; do [ -f "$ko" ] && cp "$ko" "$out/"; done',
  'exit $status',
].join('\n');

const MODULE_IN = '/run/builder-images/module';
const OUT_IN = '/run/builder-images/out';
const WORK_IN = '/tmp/builder-images-probe';
const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/** Build the probe module for one kernel in one image and judge the .ko. */
export async function verifyOne(kernel: VerifyKernel, candidate: Candidate, options: RunVerifyOptions): Promise<VerifyRow> {
  const started = Date.now();
  const row = (verdict: VerifyRow['verdict'], message: string, extra: Partial<VerifyRow> = {}): VerifyRow => ({
    kernel: kernel.release,
    arch: kernel.arch,
    target: kernel.target,
    image: candidate.image,
    gcc: candidate.gcc,
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
  const work = await mkdtemp(join(tmpdir(), 'bi-verify-'));
  try {
    const moduleDir = join(work, 'module');
    const outDir = join(work, 'out');
    await mkdir(moduleDir);
    await mkdir(outDir);
    for (const [name, text] of Object.entries(PROBE_MODULE_FILES)) await writeFile(join(moduleDir, name), text);
    const make = moduleMakeArgs({ buildDir: kernel.buildDir, moduleDir: WORK_IN, cc: `/usr/bin/gcc-${candidate.gcc}`, kernel: kernel.arch, image: kernel.arch });
    options.onProgress?.(`verify: ${kernel.release} (${kernel.arch}) in ${candidate.image}: make ${make.join(' ')}`);
    const mounts = [
      ...kernel.mounts.map((m) => ({ ...m, readonly: true })),
      { source: moduleDir, target: MODULE_IN, readonly: true },
      { source: outDir, target: OUT_IN, readonly: false },
    ];
    let result;
    try {
      result = await runInImage(candidate.engine ?? options.engine, candidate.image, platformString(kernel.arch), ['/bin/sh', '-c', IN_IMAGE_SCRIPT, 'verify', MODULE_IN, WORK_IN, OUT_IN, ...make], {
        insecureRegistries: options.insecureRegistries,
        mounts,
        timeout: options.timeoutMs ?? 20 * 60_000,
        pull: candidate.engine ? 'never' : undefined,
      });
    } catch (err) {
      const text = String((err as { stderr?: string }).stderr || (err as Error).message);
      return row('fail', `the engine could not run the image: ${firstErrorLines(text, 1)[0] ?? text}`, { errors: firstErrorLines(text) });
    }
    const ko = (await readdir(outDir)).find((f) => f.endsWith('.ko'));
    const output = `${result.stdout}\n${result.stderr}`;
    if (!ko) {
      const errors = firstErrorLines(output);
      // 127 is the shell's "command not found": say so even when the image printed nothing.
      const status = result.exitCode === 127 ? 'exit 127: a command the build needs is not in the image' : `exit ${result.exitCode}`;
      return row('fail', `no .ko was built (${status})${errors[0] ? `: ${errors[0]}` : ''}`, { errors });
    }
    // The image wrote it: read it only as a regular file (no symlink out to the host) of a module's size.
    const info = await lstat(join(outDir, ko));
    if (!info.isFile() || info.size > MAX_MODULE_BYTES) return row('fail', `${ko} is not a regular file of a module's size`);
    const verdict = judgeModule(await readFile(join(outDir, ko)), { arch: kernel.arch, release: kernel.release });
    if (!verdict.ok) return row('fail', verdict.message, { vermagic: verdict.vermagic, errors: firstErrorLines(output) });
    if (result.exitCode !== 0) return row('fail', `a .ko was built but make exited ${result.exitCode}`, { vermagic: verdict.vermagic, errors: firstErrorLines(output) });
    const passed = row('pass', `${ko}: ${verdict.message}`, { vermagic: verdict.vermagic });
    return options.afterBuild ? await options.afterBuild(passed, join(outDir, ko)) : passed;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Every kernel against its candidates, one after another (each build already uses the machine). */
export async function verifyAll(pairs: { kernel: VerifyKernel; candidate: Candidate | string }[], options: RunVerifyOptions): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  for (const { kernel, candidate } of pairs) {
    if (typeof candidate === 'string') {
      rows.push({ kernel: kernel.release, arch: kernel.arch, target: kernel.target, image: '-', gcc: '-', verdict: 'fail', seconds: 0, message: candidate, errors: [], why: candidate, headers: kernel.sources });
      continue;
    }
    const r = await verifyOne(kernel, candidate, options);
    options.onProgress?.(`verify: ${r.kernel} (${r.arch}) ${r.image} gcc ${r.gcc}: ${r.verdict} in ${r.seconds}s: ${r.message}`);
    rows.push(r);
  }
  return rows;
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
