import { describe, expect, it } from 'vitest';
import { judgeModule, readModuleInfo } from '../../src/core/kernel-module.js';
import { AARCH64, X86_64, moduleElf } from '../support/elf.js';

const VERMAGIC = 'vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions ';

describe('readModuleInfo', () => {
  it.each([
    [64, 'little'],
    [64, 'big'],
    [32, 'little'],
    [32, 'big'],
  ] as const)('reads .modinfo of a %i-bit %s-endian object', (bits, endian) => {
    const info = readModuleInfo(moduleElf({ machine: X86_64, bits, endian, modinfo: ['license=GPL', VERMAGIC, 'name=bi_probe'] }));
    expect(info.elf.type).toBe(1);
    expect(info.modinfo).toEqual({ license: 'GPL', vermagic: '6.1.0-56-amd64 SMP preempt mod_unload modversions ', name: 'bi_probe' });
  });

  it('refuses what is not ELF, and a section table past the end', () => {
    expect(() => readModuleInfo(Buffer.from('hello world, not an elf file at all........................................'))).toThrow(/not an ELF/);
    const truncated = moduleElf({ machine: X86_64, modinfo: [VERMAGIC] }).subarray(0, 100);
    expect(() => readModuleInfo(truncated)).toThrow(/outside the file/);
  });
});

describe('judgeModule', () => {
  const want = { arch: 'x86_64' as const, release: '6.1.0-56-amd64' };
  it('passes a relocatable of the machine whose vermagic starts with the release', () => {
    const v = judgeModule(moduleElf({ machine: X86_64, modinfo: [VERMAGIC] }), want);
    expect(v).toMatchObject({ ok: true, vermagic: '6.1.0-56-amd64 SMP preempt mod_unload modversions ' });
  });
  it('fails another machine, another ELF type, no vermagic', () => {
    expect(judgeModule(moduleElf({ machine: AARCH64, modinfo: [VERMAGIC] }), want)).toMatchObject({ ok: false, message: expect.stringMatching(/AArch64, not x86_64/) });
    expect(judgeModule(moduleElf({ machine: X86_64, type: 3, modinfo: [VERMAGIC] }), want)).toMatchObject({ ok: false, message: expect.stringMatching(/not a relocatable/) });
    expect(judgeModule(moduleElf({ machine: X86_64, modinfo: ['license=GPL'] }), want)).toMatchObject({ ok: false, message: expect.stringMatching(/no vermagic/) });
    expect(judgeModule(moduleElf({ machine: X86_64 }), want)).toMatchObject({ ok: false });
  });
  it('fails a vermagic for another kernel, including one the release is only a prefix of', () => {
    // The Debian trap: kernel.release says 6.1.192, the module says 6.1.0-56-amd64.
    expect(judgeModule(moduleElf({ machine: X86_64, modinfo: [VERMAGIC] }), { arch: 'x86_64', release: '6.1.192' }).ok).toBe(false);
    expect(judgeModule(moduleElf({ machine: X86_64, modinfo: [VERMAGIC] }), { arch: 'x86_64', release: '6.1.0-5' }).ok).toBe(false);
    expect(judgeModule(moduleElf({ machine: AARCH64, modinfo: ['vermagic=6.1.0-56-arm64 SMP mod_unload aarch64'] }), { arch: 'aarch64', release: '6.1.0-56-arm64' }).ok).toBe(true);
  });
});
