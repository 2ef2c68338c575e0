// The ELF header reader, field by field: magic, class, endianness, type and machine at their offsets.
import { describe, expect, it } from 'vitest';
import { ARCH_MACHINE, ELF_HEAD_BYTES, isExecutableElf, readElfHeader } from '../../src/core/elf.js';

/** A header of `length` bytes: magic, class, data, then e_type at 16 and e_machine at 18 in the given byte order. */
function head(cls: number, data: number, type: number, machine: number, length = ELF_HEAD_BYTES): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, cls, data], 0);
  const view = new DataView(bytes.buffer);
  const little = data !== 2;
  if (length >= 18) view.setUint16(16, type, little);
  if (length >= 20) view.setUint16(18, machine, little);
  return bytes;
}

describe('readElfHeader', () => {
  it('reads a 64-bit little-endian x86-64 executable', () => {
    expect(readElfHeader(head(2, 1, 2, 62))).toStrictEqual({ class: 64, endian: 'little', type: 2, machine: 62, machineName: 'x86-64' });
  });

  it('reads a 32-bit big-endian header in big-endian order', () => {
    expect(readElfHeader(head(1, 2, 3, 20))).toStrictEqual({ class: 32, endian: 'big', type: 3, machine: 20, machineName: 'PowerPC' });
    // 0x0102 big-endian is 258; read little-endian it would be 513
    expect(readElfHeader(head(2, 2, 0x0102, 0x0304))).toMatchObject({ type: 0x0102, machine: 0x0304, machineName: 'machine 772' });
    expect(readElfHeader(head(2, 1, 0x0102, 0x0304))).toMatchObject({ type: 0x0102, machine: 0x0304 });
  });

  it.each([
    [3, 'x86 (i386)'],
    [8, 'MIPS'],
    [21, 'PowerPC64'],
    [22, 's390'],
    [40, 'ARM (32-bit)'],
    [183, 'AArch64'],
    [243, 'RISC-V'],
    [0, 'machine 0'],
    [999, 'machine 999'],
  ])('names machine %i %s', (machine, name) => {
    expect(readElfHeader(head(2, 1, 2, machine))!.machineName).toBe(name);
  });

  it('needs 20 bytes, exactly', () => {
    expect(readElfHeader(head(2, 1, 3, 183, 20))).toMatchObject({ type: 3, machine: 183 });
    expect(readElfHeader(head(2, 1, 3, 183, 19))).toBeNull();
    expect(readElfHeader(undefined)).toBeNull();
    expect(readElfHeader(new Uint8Array())).toBeNull();
  });

  it('reads a header inside a larger buffer at its own offset', () => {
    const big = new Uint8Array(100);
    big.set(head(2, 2, 2, 62), 10);
    expect(readElfHeader(big.subarray(10, 10 + ELF_HEAD_BYTES))).toMatchObject({ class: 64, endian: 'big', type: 2, machine: 62 });
  });

  it.each([0, 1, 2, 3])('refuses a bad magic byte %i', (i) => {
    const bytes = head(2, 1, 2, 62);
    bytes[i] = bytes[i]! ^ 0x20;
    expect(readElfHeader(bytes)).toBeNull();
  });

  it.each([
    [0, 1],
    [3, 1],
    [2, 0],
    [2, 3],
  ])('refuses class %i, data %i', (cls, data) => {
    expect(readElfHeader(head(cls, data, 2, 62))).toBeNull();
  });
});

describe('isExecutableElf', () => {
  it.each([
    [0, false],
    [1, false],
    [2, true],
    [3, true],
    [4, false],
  ])('type %i: %s', (type, expected) => {
    expect(isExecutableElf(readElfHeader(head(2, 1, type, 62))!)).toBe(expected);
  });

  it('maps builder arches to e_machine', () => {
    expect(ARCH_MACHINE).toEqual({ x86_64: 62, aarch64: 183 });
  });
});
