/**
 * Enough of the ELF header to tell what a file is and which CPU it runs on. Pure.
 */

export interface ElfInfo {
  class: 32 | 64;
  endian: 'little' | 'big';
  /** 2 = executable, 3 = shared object (PIE executables are 3). */
  type: number;
  machine: number;
  machineName: string;
}

export const ELF_HEAD_BYTES = 64;

const MACHINES: Record<number, string> = {
  3: 'x86 (i386)',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 's390',
  40: 'ARM (32-bit)',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
};

/** e_machine for each builder arch. */
export const ARCH_MACHINE = { x86_64: 62, aarch64: 183 } as const;

export function readElfHeader(head: Uint8Array | undefined): ElfInfo | null {
  if (!head || head.length < 20) return null;
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  const cls = head[4] === 1 ? 32 : head[4] === 2 ? 64 : null;
  const endian = head[5] === 1 ? 'little' : head[5] === 2 ? 'big' : null;
  if (!cls || !endian) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const little = endian === 'little';
  const type = view.getUint16(16, little);
  const machine = view.getUint16(18, little);
  return { class: cls, endian, type, machine, machineName: MACHINES[machine] ?? `machine ${machine}` };
}

export function isExecutableElf(info: ElfInfo): boolean {
  return info.type === 2 || info.type === 3;
}
