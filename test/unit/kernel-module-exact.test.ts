// Kernel module reading, field by field: each malformation's exact message and each verdict's sentence.
import { describe, expect, it } from 'vitest';
import { judgeModule, ModuleFormatError, readModuleInfo } from '../../src/core/kernel-module.js';
import { AARCH64, X86_64, moduleElf } from '../support/elf.js';

const VERMAGIC = 'vermagic=6.1.0-56-amd64 SMP mod_unload ';
const errorOf = (bytes: Uint8Array): unknown => {
  try {
    readModuleInfo(bytes);
  } catch (err) {
    return err;
  }
  return undefined;
};
const messageOf = (bytes: Uint8Array) => (errorOf(bytes) as Error | undefined)?.message;

describe('readModuleInfo, malformed files', () => {
  it('needs the whole ELF header of its class', () => {
    const elf64 = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    expect(messageOf(elf64.subarray(0, 63))).toBe('the ELF header lies outside the file (0+64 > 63)');
    const elf32 = moduleElf({ machine: X86_64, bits: 32, modinfo: [VERMAGIC] });
    expect(messageOf(elf32.subarray(0, 51))).toBe('the ELF header lies outside the file (0+52 > 51)');
    expect(errorOf(elf64.subarray(0, 63))).toBeInstanceOf(ModuleFormatError);
    expect(messageOf(Buffer.alloc(64))).toBe('not an ELF file');
    expect(errorOf(Buffer.alloc(64))).toBeInstanceOf(ModuleFormatError);
  });

  it('needs a section name table inside the section table', () => {
    const none = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    none.writeUInt16LE(0, 0x3c);
    expect(messageOf(none)).toBe('the ELF file has no section name table');
    const past = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    past.writeUInt16LE(3, 0x3e); // 3 sections: index 3 is one past the last
    expect(messageOf(past)).toBe('the ELF file has no section name table');
    const last = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    last.writeUInt16LE(2, 0x3e);
    expect(readModuleInfo(last).modinfo.vermagic).toBe('6.1.0-56-amd64 SMP mod_unload ');
  });

  it('names the part that lies outside the file', () => {
    const whole = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    const shoff = Number(whole.readBigUInt64LE(0x28));
    expect(messageOf(whole.subarray(0, whole.length - 1))).toBe(`the section header table lies outside the file (${shoff}+192 > ${whole.length - 1})`);
    const names = Buffer.from(whole);
    names.writeBigUInt64LE(BigInt(names.length), shoff + 2 * 64 + 0x18); // .shstrtab offset at the end
    expect(messageOf(names)).toBe(`the section name table lies outside the file (${names.length}+20 > ${names.length})`);
    const info = Buffer.from(whole);
    info.writeBigUInt64LE(10_000n, shoff + 64 + 0x20); // .modinfo size
    expect(messageOf(info)).toBe(`the .modinfo section lies outside the file (64+10000 > ${info.length})`);
    const exact = Buffer.from(whole);
    exact.writeBigUInt64LE(BigInt(exact.length - 64), shoff + 64 + 0x20); // .modinfo up to the very end
    expect(() => readModuleInfo(exact)).not.toThrow();
  });

  it('reads the section table in big-endian 32-bit files at the 32-bit offsets', () => {
    const elf = moduleElf({ machine: AARCH64, bits: 32, endian: 'big', modinfo: ['license=GPL', VERMAGIC] });
    expect(readModuleInfo(elf)).toMatchObject({ elf: { class: 32, endian: 'big', machine: AARCH64 }, modinfo: { license: 'GPL' } });
  });
});

describe('readModuleInfo, .modinfo pairs', () => {
  it('keeps the first value of a repeated key, splits at the first =, skips pairs without a key', () => {
    const info = readModuleInfo(moduleElf({ machine: X86_64, modinfo: ['alias=a', 'alias=b', 'x=1=2', '=nokey', 'noequals', 'e='] }));
    expect(info.modinfo).toStrictEqual({ alias: 'a', x: '1=2', e: '' });
  });

  it('finds no .modinfo in a file without one', () => {
    expect(readModuleInfo(moduleElf({ machine: X86_64 })).modinfo).toStrictEqual({});
  });

  it('reads section names only up to their NUL and within the table', () => {
    const elf = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] });
    // rename .modinfo to .modinfoX by overwriting its terminating NUL: it is no longer the section
    const names = elf.indexOf('\0.modinfo\0', 0, 'latin1');
    elf.write('X', names + 9, 'latin1');
    expect(readModuleInfo(elf).modinfo).toStrictEqual({});
  });
});

describe('judgeModule sentences', () => {
  const want = { arch: 'x86_64' as const, release: '6.1.0-56-amd64' };
  it.each([
    [moduleElf({ machine: X86_64, modinfo: [VERMAGIC] }), { ok: true, vermagic: '6.1.0-56-amd64 SMP mod_unload ', message: 'vermagic 6.1.0-56-amd64 SMP mod_unload ' }],
    [moduleElf({ machine: X86_64, modinfo: ['vermagic=6.1.0-56-amd64'] }), { ok: true, vermagic: '6.1.0-56-amd64', message: 'vermagic 6.1.0-56-amd64' }],
    [moduleElf({ machine: X86_64, modinfo: ['vermagic=6.1.0-56-amd64x SMP'] }), { ok: false, vermagic: '6.1.0-56-amd64x SMP', message: 'vermagic "6.1.0-56-amd64x SMP" is not for kernel 6.1.0-56-amd64' }],
    [moduleElf({ machine: X86_64, modinfo: ['vermagic=x 6.1.0-56-amd64 '] }), { ok: false, vermagic: 'x 6.1.0-56-amd64 ', message: 'vermagic "x 6.1.0-56-amd64 " is not for kernel 6.1.0-56-amd64' }],
    [moduleElf({ machine: X86_64, modinfo: ['license=GPL'] }), { ok: false, message: 'the .ko has no vermagic in its .modinfo section' }],
    [moduleElf({ machine: AARCH64, modinfo: [VERMAGIC] }), { ok: false, message: 'the .ko is for AArch64, not x86_64' }],
    [moduleElf({ machine: X86_64, type: 2, modinfo: [VERMAGIC] }), { ok: false, message: 'the .ko is ELF type 2, not a relocatable (1)' }],
    [Buffer.alloc(64), { ok: false, message: 'the .ko is not a readable ELF file: not an ELF file' }],
  ])('%#', (bytes, verdict) => {
    expect(judgeModule(bytes, want)).toStrictEqual(verdict);
  });
});
