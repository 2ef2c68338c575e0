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
