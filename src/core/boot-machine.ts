/**
 * The virtual machine a kernel is booted in to load a module: qemu's binary and arguments per arch, a direct
 * kernel boot (`-kernel`, `-initrd`, `-append`) with the serial console on stdout and nothing else attached.
 * `panic=-1` makes a panicking kernel reboot at once and `-no-reboot` turns that reboot into qemu's exit, so a
 * kernel that dies ends the run instead of hanging it. Pure.
 */
import type { Arch } from './names.js';

export type Accel = 'kvm' | 'tcg';

export interface MachineInput {
  arch: Arch;
  accel: Accel;
  kernel: string;
  initrd: string;
  memoryMiB?: number;
}

const MACHINES: Record<Arch, { bin: string; machine: string; console: string; tcgCpu: string }> = {
  x86_64: { bin: 'qemu-system-x86_64', machine: 'q35', console: 'ttyS0', tcgCpu: 'max' },
  aarch64: { bin: 'qemu-system-aarch64', machine: 'virt', console: 'ttyAMA0', tcgCpu: 'max' },
};

export function qemuBinary(arch: Arch): string {
  return MACHINES[arch].bin;
}

/** The kernel command line: the console, die fast, and no root device to wait for (the initramfs is the root). */
export function kernelCommandLine(arch: Arch): string {
  return `console=${MACHINES[arch].console} panic=-1 oops=panic rdinit=/init loglevel=7`;
}

export function qemuArgs(input: MachineInput): string[] {
  const m = MACHINES[input.arch];
  return [
    '-M', m.machine,
    '-accel', input.accel,
    // Under KVM the host's CPU; TCG emulates the richest model it has (Debian kernels need x86-64-v1 / ARMv8.0).
    '-cpu', input.accel === 'kvm' ? 'host' : m.tcgCpu,
    '-smp', '1',
    '-m', String(input.memoryMiB ?? 512),
    '-nographic', '-monitor', 'none',
    '-no-reboot',
    '-nic', 'none',
    '-kernel', input.kernel,
    '-initrd', input.initrd,
    '-append', kernelCommandLine(input.arch),
  ];
}
