/**
 * An initramfs as the kernel unpacks it (init/initramfs.c): a cpio "newc" archive (magic 070701, 110-byte ASCII
 * header of thirteen 8-digit hex fields, the NUL-terminated name padded to 4 bytes, the data padded to 4 bytes)
 * ending with the entry TRAILER!!!. The kernel creates nothing implied: a file's directory must come before it,
 * so the writer adds every missing parent directory, in order. Pure: the caller compresses (gzip) and writes it.
 */

export type InitramfsEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
/** The kernel reads names up to PATH_MAX. */
const MAX_NAME = 4095;
/** A newc size field holds 8 hex digits. */
const MAX_FIELD = 0xffffffff;

export class InitramfsError extends Error {}

/** `./a//b/` -> `a/b`; refuses absolute escapes, `..` and empty names (the kernel would write outside the root). */
export function normalizeEntryPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) throw new InitramfsError(`initramfs entry "${path}": empty path`);
  if (parts.some((p) => p === '..' || p.includes('\0'))) throw new InitramfsError(`initramfs entry "${path}": ".." or NUL in the path`);
  const name = parts.join('/');
  if (Buffer.byteLength(name) > MAX_NAME) throw new InitramfsError(`initramfs entry "${path}": name longer than ${MAX_NAME} bytes`);
  return name;
}

function hex8(n: number, what: string): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_FIELD) throw new InitramfsError(`initramfs: ${what} ${n} does not fit a newc field`);
  return n.toString(16).padStart(8, '0');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function record(name: string, mode: number, data: Uint8Array, ino: number, rdev: [number, number] = [0, 0]): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const head = Buffer.from(`070701${fields.map((f, i) => hex8(f, `field ${i} of ${name}`)).join('')}`, 'latin1');
  return Buffer.concat([head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)), data, Buffer.alloc(pad4(data.length))]);
}

/** The archive's bytes: entries in the order given, each after its parents; a path given twice is refused. */
export function writeInitramfs(entries: InitramfsEntry[]): Buffer {
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  let ino = 1;
  const dir = (name: string, mode = 0o755) => {
    parts.push(record(name, S_IFDIR | (mode & 0o7777), new Uint8Array(0), ino++));
    seen.add(name);
  };
  for (const entry of entries) {
    const name = normalizeEntryPath(entry.path);
    if (seen.has(name)) throw new InitramfsError(`initramfs entry "${entry.path}": given twice`);
    const segments = name.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (!seen.has(parent)) dir(parent);
    }
    switch (entry.kind) {
      case 'dir':
        dir(name, entry.mode);
        break;
      case 'file':
        parts.push(record(name, S_IFREG | ((entry.mode ?? 0o644) & 0o7777), entry.data, ino++));
        seen.add(name);
        break;
      case 'symlink':
        parts.push(record(name, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'), ino++));
        seen.add(name);
        break;
      case 'chardev':
        parts.push(record(name, S_IFCHR | ((entry.mode ?? 0o600) & 0o7777), new Uint8Array(0), ino++, [entry.major, entry.minor]));
        seen.add(name);
        break;
    }
  }
  parts.push(record('TRAILER!!!', 0, new Uint8Array(0), 0));
  return Buffer.concat(parts);
}
