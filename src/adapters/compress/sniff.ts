/** What compressed a stream, from its first bytes (names lie; magic numbers do not). Sniffed once, here. */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

/** The longest magic number sniffed: give at least this many head bytes. */
export const SNIFF_BYTES = 6;

export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}
