/** A Buffer view of bytes, without copying them (Buffer.from(Uint8Array) copies: twice the garbage per chunk). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
