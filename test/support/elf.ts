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

/**
 * A whole static x86-64 Linux program (no libc): it writes `output` to stdout and exits with `exitCode`, whatever
 * its arguments. Stands in for a compiler that `check --exec` runs (`gcc-X.Y.Z -dumpfullversion`).
 */
export function tinyProgram(output: string, exitCode = 0): Buffer {
  const base = 0x400000;
  const headers = 64 + 56;
  const message = Buffer.from(output);
  const code = Buffer.concat([
    Buffer.from([0xb8, 1, 0, 0, 0]), // mov eax, 1 (write)
    Buffer.from([0xbf, 1, 0, 0, 0]), // mov edi, 1 (stdout)
    Buffer.from([0x48, 0x8d, 0x35, 19, 0, 0, 0]), // lea rsi, [rip + 19] (the message after the code)
    Buffer.from([0xba, ...u32(message.length)]), // mov edx, length
    Buffer.from([0x0f, 0x05]), // syscall
    Buffer.from([0xb8, 60, 0, 0, 0]), // mov eax, 60 (exit)
    Buffer.from([0xbf, ...u32(exitCode)]), // mov edi, exit code
    Buffer.from([0x0f, 0x05]), // syscall
  ]);
  const total = headers + code.length + message.length;
  const b = Buffer.alloc(headers);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(X86_64, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(base + headers), 24); // entry
  b.writeBigUInt64LE(64n, 32); // program headers
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt32LE(1, 64); // PT_LOAD
  b.writeUInt32LE(5, 68); // R + X
  b.writeBigUInt64LE(BigInt(base), 80);
  b.writeBigUInt64LE(BigInt(base), 88);
  b.writeBigUInt64LE(BigInt(total), 96);
  b.writeBigUInt64LE(BigInt(total), 104);
  b.writeBigUInt64LE(0x1000n, 112);
  return Buffer.concat([b, code, message]);
}

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}
