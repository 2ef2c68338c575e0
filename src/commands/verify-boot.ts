/**
 * verify's --boot flags and their printing: kept out of commands/verify.ts so that file only wires them in.
 */
import { Option, type Command } from 'commander';
import { withBoot, type BootOptions } from '../app/boot.js';
import type { VerifyRow } from '../app/verify.js';
import { parseFileSource } from '../adapters/kernels/image.js';
import { UsageError } from '../errors.js';
import type { Output } from '../util/output.js';

export interface BootFlags {
  boot?: boolean;
  kernelImage?: string;
  bootTimeout?: string;
  bootAccel?: 'auto' | 'kvm' | 'tcg';
}

export function registerBootOptions(command: Command): void {
  command
    .option('--boot', 'also boot the kernel in qemu with the built module: it must load (insmod), and unload')
    .option('--kernel-image <path|url>', 'with --boot: the kernel image, or its package (.deb/.rpm), optionally #sha256=HEX (default: the distro package next to the headers package)')
    .option('--boot-timeout <seconds>', 'with --boot: one boot\'s wall-clock limit (default 300)')
    .addOption(new Option('--boot-accel <accel>', 'with --boot: qemu accelerator (default auto: KVM where it boots, else TCG)').choices(['auto', 'kvm', 'tcg']));
}

/** The hook verify calls with each built module, or undefined without --boot. */
export function bootOptionsFrom(opts: BootFlags, where: Pick<BootOptions, 'cwd' | 'cacheDir' | 'onProgress'>): ((row: VerifyRow, ko: string) => Promise<VerifyRow>) | undefined {
  if (!opts.boot) {
    const stray = opts.kernelImage ? '--kernel-image' : opts.bootTimeout ? '--boot-timeout' : opts.bootAccel ? '--boot-accel' : undefined;
    if (stray) throw new UsageError(`${stray} needs --boot`);
    return undefined;
  }
  let timeoutMs: number | undefined;
  if (opts.bootTimeout !== undefined) {
    const seconds = Number(opts.bootTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) throw new UsageError(`--boot-timeout ${opts.bootTimeout}: give a number of seconds (up to 86400)`);
    timeoutMs = seconds * 1000;
  }
  let kernelImage;
  try {
    kernelImage = opts.kernelImage ? parseFileSource(opts.kernelImage, '--kernel-image') : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const options: BootOptions = { ...where, kernelImage, timeoutMs, accel: opts.bootAccel };
  return (row, ko) => withBoot(row, ko, options);
}

/** The BOOT column: the verdict and the accelerator. */
export function bootSummary(row: VerifyRow): string {
  const boot = row.bootDetail;
  if (!boot) return '-';
  return `${boot.verdict}${boot.accel ? ` (${boot.accel}, ${boot.seconds.toFixed(1)}s)` : ''}`;
}

/** Under a row: the boot's accelerator choice and, when it failed, the kernel's lines or the console's last. */
export function printBootLines(out: Output, row: VerifyRow): void {
  const boot = row.bootDetail;
  if (!boot) return;
  if (boot.accel) out.result(`    boot: ${boot.accel}: ${boot.accelWhy ?? ''}; kernel image ${boot.kernelImage ?? '-'}`);
  if (!boot.ok && row.errors.length === 0) for (const line of boot.lastLines) out.result(`    | ${line}`);
}
