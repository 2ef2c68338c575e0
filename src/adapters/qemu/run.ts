/**
 * qemu as a bounded child process: its own process group, stopped (SIGKILL to the group, then reaped) at the
 * wall-clock limit, when the console passes its byte cap, when the kernel prints nothing within the first-output
 * window (a KVM that hangs before the kernel runs), and on SIGINT/SIGTERM through the run's clean-up scope, which
 * knows the process before anything awaits. The console is the guest's serial port on stdout.
 */
import { execa } from 'execa';
import { access, constants } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import type { Accel } from '../../core/boot-machine.js';
import type { BootOutcome } from '../../core/boot-verdict.js';
import type { Arch } from '../../core/names.js';
import { currentScope, onInterrupt, perRun } from '../../util/cleanup.js';

export interface QemuRunOptions {
  timeoutMs: number;
  maxConsoleBytes: number;
  /** Stop when the console shows no kernel line (`Linux version`) within this long (the KVM check). */
  firstKernelLineMs?: number;
}

export interface QemuRun {
  console: string;
  outcome: BootOutcome;
  /** The kernel printed its first line. */
  kernelStarted: boolean;
  /** Stopped for printing nothing within firstKernelLineMs. */
  silent: boolean;
  ms: number;
}

const STDERR_KEEP = 16 * 1024;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: gone already
  }
}

export async function runQemu(bin: string, args: string[], options: QemuRunOptions): Promise<QemuRun> {
  currentScope()?.assertRunning();
  const started = Date.now();
  const child = execa(bin, args, { detached: true, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
  const stop = onInterrupt(async () => {
    killGroup(child.pid);
    await child;
  }, { first: true });
  let consoleText = '';
  let bytes = 0;
  let stderr = '';
  let kernelStarted = false;
  let stopped: BootOutcome | undefined;
  let silent = false;
  const halt = (why: BootOutcome) => {
    stopped ??= why;
    killGroup(child.pid);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxConsoleBytes) return halt({ kind: 'output-cap', bytes: options.maxConsoleBytes });
    consoleText += chunk.toString('utf8');
    if (!kernelStarted && consoleText.includes('Linux version')) kernelStarted = true;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
  });
  const limit = setTimeout(() => halt({ kind: 'timeout', seconds: Math.round(options.timeoutMs / 100) / 10 }), options.timeoutMs);
  const firstLine =
    options.firstKernelLineMs === undefined
      ? undefined
      : setTimeout(() => {
          if (kernelStarted) return;
          silent = true;
          halt({ kind: 'timeout', seconds: Math.round(options.firstKernelLineMs! / 100) / 10 });
        }, options.firstKernelLineMs);
  try {
    const result = await child;
    return { console: consoleText, outcome: stopped ?? { kind: 'exited', code: result.exitCode ?? null, stderr }, kernelStarted, silent, ms: Date.now() - started };
  } finally {
    clearTimeout(limit);
    clearTimeout(firstLine);
    killGroup(child.pid); // anything qemu left in its group
    stop.dismiss();
  }
}

const HOST_ARCH: Record<string, Arch> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * Whether KVM may run this guest: same arch as the host, and /dev/kvm open for reading and writing. Even then it
 * may not work (nested virtualization can hang before the kernel runs): the boot checks that (see bootWithAccel).
 */
export async function kvmCandidate(arch: Arch): Promise<string | undefined> {
  const host = HOST_ARCH[hostArch()];
  if (host !== arch) return `the guest is ${arch}, the host ${host ?? hostArch()}`;
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is missing or not accessible';
  }
  return undefined;
}

/** Per run: KVM found not to boot (why), so later boots go straight to TCG. */
export function kvmVerdicts(): Map<Arch, string> {
  return perRun('qemu-kvm-broken', () => new Map<Arch, string>());
}

export type AccelChoice = 'auto' | Accel;

/** What to start with: `why` says why not KVM, when not. */
export async function firstAccel(arch: Arch, choice: AccelChoice): Promise<{ accel: Accel; why: string }> {
  if (choice !== 'auto') return { accel: choice, why: `asked for ${choice}` };
  const broken = kvmVerdicts().get(arch);
  if (broken) return { accel: 'tcg', why: `KVM does not boot here: ${broken}` };
  const no = await kvmCandidate(arch);
  return no ? { accel: 'tcg', why: no } : { accel: 'kvm', why: '/dev/kvm works' };
}
