/**
 * verify --boot: the module loads into the kernel it was built for. The kernel's own image (from its distro
 * package, or given) boots in qemu with an initramfs of busybox-static (the distro's package for the kernel's
 * arch), the module and an /init that loads it, reports and powers off (core/boot-verdict.ts); the console says
 * what the kernel did: it loads (with its taint), it is refused (with the kernel's own line), the kernel died,
 * or the boot never came up (killed at the limit, with the last console lines). KVM where it really boots, TCG
 * otherwise; a KVM that prints nothing is dropped for the rest of the run.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { qemuArgs, qemuBinary, type Accel } from '../core/boot-machine.js';
import { initScript, moduleNameForKernel, readBootConsole, type BootReport } from '../core/boot-verdict.js';
import { writeInitramfs, type InitramfsEntry } from '../core/initramfs.js';
import { readModuleInfo } from '../core/kernel-module.js';
import type { Arch } from '../core/names.js';
import { busyboxFor } from '../adapters/kernels/busybox.js';
import { kernelImageFor, type FileSource } from '../adapters/kernels/image.js';
import { firstAccel, kvmVerdicts, runQemu, type AccelChoice, type QemuRun } from '../adapters/qemu/run.js';
import { tempDir } from '../util/cleanup.js';

export interface BootOptions {
  /** Downloads, kernel images and busybox are cached here (`.cache/kernels`). */
  cacheDir: string;
  cwd: string;
  /** --kernel-image: the image or its package; default: the distro's package next to the headers. */
  kernelImage?: FileSource;
  /** A busybox-static package or binary for the guest's arch; default: Debian bookworm's. */
  busybox?: FileSource;
  /** One boot's wall-clock limit. */
  timeoutMs?: number;
  /** Default: BUILDER_IMAGES_BOOT_ACCEL (auto, kvm, tcg), else auto. */
  accel?: AccelChoice;
  onProgress?: (line: string) => void;
}

export type BootVerdictKind = 'booted' | 'loads' | 'refused' | 'crashed' | 'no-boot' | 'error';

export interface BootResult {
  verdict: BootVerdictKind;
  ok: boolean;
  /** One sentence for the row. */
  message: string;
  accel?: Accel;
  /** Why this accel (why not KVM, when TCG). */
  accelWhy?: string;
  seconds: number;
  kernelImage?: string;
  /** `uname -r` in the guest. */
  release?: string;
  taint?: string[];
  moduleTaint?: string;
  unloaded?: boolean;
  /** The kernel's log of the insmod. */
  kernelLines: string[];
  /** The console's last lines. */
  lastLines: string[];
}

export interface BootKernel {
  release: string;
  arch: Arch;
  /** The headers sources as given: the image package is derived from them. */
  headers: string[];
}

const DEFAULT_TIMEOUT_MS = 300_000;
const MAX_CONSOLE_BYTES = 4 * 1024 ** 2;
/** Under KVM a kernel prints its first line within a second; nested KVM that hangs prints nothing. */
const KVM_FIRST_LINE_MS = 10_000;
const MODULE_DIR = '/lib/modules/under-test';

function accelChoice(options: BootOptions): AccelChoice {
  const env = process.env.BUILDER_IMAGES_BOOT_ACCEL;
  const choice = options.accel ?? (env === 'kvm' || env === 'tcg' || env === 'auto' ? env : 'auto');
  return choice;
}

/** The module's name as the kernel will list it: .modinfo `name=` (kernels since 5.x), else its file name. */
function moduleName(bytes: Buffer, file: string): string | undefined {
  let fromInfo: string | undefined;
  try {
    fromInfo = readModuleInfo(bytes).modinfo.name;
  } catch {
    fromInfo = undefined; // not an ELF file: the kernel says so (Invalid module format)
  }
  return moduleNameForKernel(fromInfo ?? basename(file).replace(/\.ko$/, ''));
}

async function bootOnce(arch: Arch, accel: Accel, kernel: string, initrd: string, options: BootOptions, probe: boolean): Promise<QemuRun> {
  return runQemu(qemuBinary(arch), qemuArgs({ arch, accel, kernel, initrd }), {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxConsoleBytes: MAX_CONSOLE_BYTES,
    firstKernelLineMs: probe ? KVM_FIRST_LINE_MS : undefined,
  });
}

/** Boot `kernel` with `modulePath` loaded (or a plain boot without a module) and read the verdict. */
export async function bootKernel(kernel: BootKernel, modulePath: string | undefined, options: BootOptions): Promise<BootResult> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  const fail = (message: string): BootResult => ({ verdict: 'error', ok: false, message, seconds: seconds(), kernelLines: [], lastLines: [] });
  let image;
  let busybox: Buffer;
  try {
    const fetchOptions = { cacheDir: options.cacheDir, cwd: options.cwd, onProgress: options.onProgress };
    image = await kernelImageFor(kernel, options.kernelImage, fetchOptions);
    busybox = await readFile(await busyboxFor(kernel.arch, { ...fetchOptions, source: options.busybox }));
  } catch (err) {
    return fail(`boot not run: ${(err as Error).message}`);
  }
  const nonce = randomBytes(8).toString('hex');
  const entries: InitramfsEntry[] = [
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
  ];
  let name: string | undefined;
  if (modulePath) {
    const bytes = await readFile(modulePath);
    name = moduleName(bytes, modulePath);
    if (!name) return fail(`boot not run: ${basename(modulePath)} has no module name the kernel accepts`);
    entries.push({ kind: 'file', path: `${MODULE_DIR}/${name}.ko`, data: bytes });
  }
  entries.push({ kind: 'file', path: 'init', data: Buffer.from(initScript({ nonce, module: name ? { path: `${MODULE_DIR}/${name}.ko`, name } : undefined })), mode: 0o755 });
  const work = await tempDir('bi-boot-');
  try {
    const initrd = join(work.path, 'initrd.gz');
    await writeFile(initrd, gzipSync(writeInitramfs(entries), { level: 1 }));
    const choice = accelChoice(options);
    let { accel, why } = await firstAccel(kernel.arch, choice);
    options.onProgress?.(`boot: ${kernel.release} (${kernel.arch}) under ${accel} (${why})${name ? `, loading ${name}` : ''}: ${image.from}`);
    let run = await bootOnce(kernel.arch, accel, image.path, initrd, options, accel === 'kvm' && choice === 'auto');
    if (accel === 'kvm' && choice === 'auto' && !run.kernelStarted) {
      const reason = run.silent ? `no kernel output within ${KVM_FIRST_LINE_MS / 1000}s` : `qemu failed: ${lastLine(run)}`;
      kvmVerdicts().set(kernel.arch, reason);
      accel = 'tcg';
      why = `KVM does not boot here (${reason})`;
      options.onProgress?.(`boot: ${why}: again under TCG`);
      run = await bootOnce(kernel.arch, accel, image.path, initrd, options, false);
    }
    const report: BootReport = readBootConsole(run.console, { nonce, module: name, outcome: run.outcome });
    const v = report.verdict;
    return {
      verdict: v.kind,
      ok: v.kind === 'loads' || v.kind === 'booted',
      message: report.message,
      accel,
      accelWhy: why,
      seconds: seconds(),
      kernelImage: image.from,
      release: report.release,
      ...(v.kind === 'loads' ? { taint: v.taint, moduleTaint: v.moduleTaint, unloaded: v.unloaded } : {}),
      kernelLines: report.kernelLines,
      lastLines: report.lastLines,
    };
  } finally {
    await work.remove();
  }
}

function lastLine(run: QemuRun): string {
  const text = run.outcome.kind === 'exited' ? run.outcome.stderr : '';
  return text.trim().split('\n').pop() || `exit ${run.outcome.kind === 'exited' ? run.outcome.code : '?'}`;
}

/** What withBoot reads and writes of a verify row (app/verify.ts VerifyRow). */
export interface BootableRow {
  kernel: string;
  arch: Arch;
  headers: string[];
  verdict: 'pass' | 'fail' | 'skipped';
  message: string;
  errors: string[];
  boot?: string;
  bootDetail?: BootResult;
}

/** verify --boot: a row whose module was built is booted; a refused load or a failed boot fails the row. */
export async function withBoot<R extends BootableRow>(row: R, modulePath: string, options: BootOptions): Promise<R> {
  const boot = await bootKernel({ release: row.kernel, arch: row.arch, headers: row.headers }, modulePath, options);
  options.onProgress?.(`boot: ${row.kernel} (${row.arch}): ${boot.verdict} in ${boot.seconds}s under ${boot.accel ?? '-'}: ${boot.message}`);
  const message = `${row.message}; boot: ${boot.message}`;
  // The one-string verdict verification records and reports keep (core/verify-record.ts): `loads` or why not.
  const verdict = boot.ok ? 'loads' : boot.message;
  if (boot.ok) return { ...row, boot: verdict, bootDetail: boot, message };
  return { ...row, boot: verdict, bootDetail: boot, verdict: 'fail', message, errors: boot.kernelLines.length ? boot.kernelLines : boot.lastLines };
}
