/** A minimal ELF header: enough for the check to tell class, type and machine. */
export function elfHeader(machine: number, type = 3): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, 64-bit, little endian, version
  b.writeUInt16LE(type, 16);
  b.writeUInt16LE(machine, 18);
  return b;
}
export const X86_64 = 62;
export const AARCH64 = 183;

/**
 * A minimal ELF object with a section table: a null section, `.modinfo` (key=value pairs joined by NUL) and
 * `.shstrtab`, as a kernel module has. 32/64-bit, either byte order, any e_type and e_machine.
 */
export function moduleElf(options: { machine: number; type?: number; modinfo?: string[]; bits?: 32 | 64; endian?: 'little' | 'big' }): Buffer {
  const is64 = (options.bits ?? 64) === 64;
  const le = (options.endian ?? 'little') === 'little';
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const names = Buffer.from('\0.modinfo\0.shstrtab\0', 'latin1');
  const modinfo = Buffer.from(options.modinfo ? `${options.modinfo.join('\0')}\0` : '', 'utf8');
  const sections = [
    { name: 0, offset: 0, size: 0 },
    ...(options.modinfo ? [{ name: 1, offset: ehsize, size: modinfo.length }] : []),
    { name: 10, offset: ehsize + modinfo.length, size: names.length },
  ];
  const shoff = ehsize + modinfo.length + names.length;
  const out = Buffer.alloc(shoff + sections.length * shentsize);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  const u16 = (v: number, at: number) => (le ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  const word = (v: number, at: number) => (is64 ? (le ? out.writeBigUInt64LE(BigInt(v), at) : out.writeBigUInt64BE(BigInt(v), at)) : u32(v, at));
  u16(options.type ?? 1, 16);
  u16(options.machine, 18);
  word(shoff, is64 ? 0x28 : 0x20);
  u16(ehsize, is64 ? 0x34 : 0x28);
  u16(shentsize, is64 ? 0x3a : 0x2e);
  u16(sections.length, is64 ? 0x3c : 0x30);
  u16(sections.length - 1, is64 ? 0x3e : 0x32);
  modinfo.copy(out, ehsize);
  names.copy(out, ehsize + modinfo.length);
  sections.forEach((s, i) => {
    const base = shoff + i * shentsize;
    u32(s.name, base);
    word(s.offset, base + (is64 ? 0x18 : 0x10));
    word(s.size, base + (is64 ? 0x20 : 0x14));
  });
  return out;
}
