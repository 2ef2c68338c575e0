/**
 * What a built kernel module says about itself, read from its bytes: an ELF relocatable (e_type 1) of the
 * kernel's machine whose `.modinfo` section holds `vermagic=<release> SMP …`. That string, not the compiler's
 * exit code, says for which kernel the module was built. Pure.
 */
import { ARCH_MACHINE, readElfHeader, type ElfInfo } from './elf.js';
import type { Arch } from './names.js';

export const ET_REL = 1;

export interface ModuleInfo {
  elf: ElfInfo;
  /** `.modinfo` as key/value pairs (a key seen twice, such as `alias`, keeps its first value). */
  modinfo: Record<string, string>;
}

export class ModuleFormatError extends Error {}

/** Read the ELF header and the `.modinfo` section (32/64-bit, either byte order); throws on a malformed file. */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  const elf = readElfHeader(bytes.subarray(0, 64));
  if (!elf) throw new ModuleFormatError('not an ELF file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = elf.endian === 'little';
  const is64 = elf.class === 64;
  const need = (offset: number, length: number, what: string) => {
    if (offset < 0 || length < 0 || offset + length > bytes.byteLength) throw new ModuleFormatError(`${what} lies outside the file (${offset}+${length} > ${bytes.byteLength})`);
  };
  need(0, is64 ? 64 : 52, 'the ELF header');
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const word = (o: number) => (is64 ? Number(view.getBigUint64(o, little)) : u32(o));
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  const shstrndx = u16(is64 ? 0x3e : 0x32);
  if (shstrndx >= shnum) throw new ModuleFormatError('the ELF file has no section name table'); // shnum 0 too
  need(shoff, shentsize * shnum, 'the section header table');
  const section = (i: number) => {
    const base = shoff + i * shentsize;
    return { name: u32(base), offset: word(base + (is64 ? 0x18 : 0x10)), size: word(base + (is64 ? 0x20 : 0x14)) };
  };
  const names = section(shstrndx);
  need(names.offset, names.size, 'the section name table');
  const nameOf = (at: number) => {
    const start = names.offset + at;
    let end = start;
    while (end < names.offset + names.size && bytes[end] !== 0) end++;
    return Buffer.from(bytes.subarray(start, end)).toString('latin1');
  };
  const modinfo: Record<string, string> = {};
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameOf(s.name) !== '.modinfo') continue;
    need(s.offset, s.size, 'the .modinfo section');
    for (const pair of Buffer.from(bytes.subarray(s.offset, s.offset + s.size)).toString('utf8').split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && !(pair.slice(0, eq) in modinfo)) modinfo[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { elf, modinfo };
}

export interface ModuleVerdict {
  ok: boolean;
  /** Why it passed (the vermagic) or failed, in one sentence. */
  message: string;
  vermagic?: string;
}

/** Pass only for a relocatable of the arch's machine whose vermagic starts with the release (then a space). */
export function judgeModule(bytes: Uint8Array, want: { arch: Arch; release: string }): ModuleVerdict {
  let info: ModuleInfo;
  try {
    info = readModuleInfo(bytes);
  } catch (err) {
    return { ok: false, message: `the .ko is not a readable ELF file: ${(err as Error).message}` };
  }
  const { elf, modinfo } = info;
  if (elf.type !== ET_REL) return { ok: false, message: `the .ko is ELF type ${elf.type}, not a relocatable (1)` };
  if (elf.machine !== ARCH_MACHINE[want.arch]) return { ok: false, message: `the .ko is for ${elf.machineName}, not ${want.arch}` };
  const vermagic = modinfo.vermagic;
  if (vermagic === undefined) return { ok: false, message: 'the .ko has no vermagic in its .modinfo section' };
  if (vermagic !== want.release && !vermagic.startsWith(`${want.release} `)) {
    return { ok: false, vermagic, message: `vermagic "${vermagic}" is not for kernel ${want.release}` };
  }
  return { ok: true, vermagic, message: `vermagic ${vermagic}` };
}
