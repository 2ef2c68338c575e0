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
