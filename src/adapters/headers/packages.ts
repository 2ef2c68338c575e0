/**
 * Unpack kernel headers packages into a staging tree, without dpkg or rpm:
 *  - .deb: an `ar` archive (parsed here: a global header and 60-byte member headers) whose data.tar.{xz,zst,gz}
 *    holds the files; `control.tar.*` is read only for the Architecture field;
 *  - .rpm: a 96-byte lead, a signature header (padded to 8 bytes), the main header, then the payload: a cpio
 *    "newc" archive compressed with xz, zstd or gzip (parsed here: 110-byte ASCII headers, 4-byte alignment);
 *  - tarballs, compressed or not.
 * Payloads are decoded through adapters/compress (one sniff, one contract: memory-bounded codecs, decoder
 * children killed and reaped however the unpacking ends, a failure after the last byte reported). Every entry
 * goes through the staging tree's caps as it is read: a size is checked before its bytes are buffered, and
 * bodies above SMALL_FILE stream to disk.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { decompress, sniffCompression, type DecodeLimits } from '../compress/decompress.js';
import type { StagingTree } from './staging.js';

export { sniffCompression } from '../compress/decompress.js';

export type PackageKind = 'deb' | 'rpm' | 'tar';

export class PackageFormatError extends Error {}

async function* just(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/**
 * `use` reads the decoded bytes of `input`; the decoder's end status (a checksum failure after the last byte)
 * is part of that stream, and the decoder is stopped and reaped whatever `use` does.
 */
async function withDecoded<T>(input: AsyncIterable<Buffer>, head: Uint8Array, limits: DecodeLimits, use: (decoded: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
  const decoder = decompress(input, sniffCompression(head), limits);
  async function* bytes(): AsyncGenerator<Buffer> {
    yield* decoder.output;
    await decoder.finished();
  }
  try {
    return await use(bytes());
  } finally {
    await decoder.close();
  }
}

/** A tar stream's entries, each handed to `onEntry` in turn (the body must be consumed or resumed). */
async function eachTarEntry(input: AsyncIterable<Buffer>, onEntry: (header: tar.Header, body: Readable) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  const source = Readable.from(input, { objectMode: false });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    source.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    // Destroying the extract fails the entry being read too: that error is the extract's, reported once there.
    stream.on('error', () => {});
    onEntry(header, stream as unknown as Readable).then(
      () => next(),
      (err: Error) => {
        stream.resume();
        extract.destroy(err);
      },
    );
  });
  source.pipe(extract);
  try {
    await done;
  } finally {
    source.unpipe(extract);
    source.destroy();
    extract.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ar (.deb)

export interface ArMember {
  name: string;
  data: Buffer;
}

/** The members of an `ar` archive (GNU names ending in `/` are trimmed). */
export function readAr(bytes: Buffer, what: string): ArMember[] {
  if (bytes.subarray(0, 8).toString('latin1') !== '!<arch>\n') throw new PackageFormatError(`${what}: not an ar archive (a .deb starts with "!<arch>")`);
  const members: ArMember[] = [];
  let at = 8;
  while (at + 60 <= bytes.length) {
    const header = bytes.subarray(at, at + 60).toString('latin1');
    if (header.slice(58, 60) !== '`\n') throw new PackageFormatError(`${what}: broken ar member header at byte ${at}`);
    const name = header.slice(0, 16).trim().replace(/\/$/, '');
    const size = Number.parseInt(header.slice(48, 58).trim(), 10);
    if (!Number.isSafeInteger(size) || size < 0 || at + 60 + size > bytes.length) throw new PackageFormatError(`${what}: ar member ${name} claims ${header.slice(48, 58).trim()} bytes past the end`);
    members.push({ name, data: bytes.subarray(at + 60, at + 60 + size) });
    at += 60 + size + (size % 2);
  }
  return members;
}

const SMALL_FILE = 4 * 1024 * 1024;

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function untar(input: AsyncIterable<Buffer>, into: StagingTree): Promise<void> {
  return eachTarEntry(input, async (header, stream) => {
    const name = header.name;
    const mode = header.mode ?? 0o644;
    switch (header.type) {
      case 'directory':
        stream.resume();
        return into.dir(name, mode);
      case 'symlink':
        stream.resume();
        return into.symlink(name, header.linkname ?? '');
      case 'link':
        stream.resume();
        return into.hardlink(name, header.linkname ?? '');
      case 'file':
      case 'contiguous-file': {
        const size = header.size ?? 0;
        into.reserve(size, name);
        // Small files (nearly all of a headers tree) are written in one call; big ones stream.
        return size <= SMALL_FILE ? into.file(name, await collect(stream), mode) : into.file(name, stream, mode);
      }
      default:
        stream.resume(); // devices, fifos: nothing a header tree needs, but counted
        into.skip();
    }
  });
}

/** A control.tar may decode to anything: read its `control` file only, small, and few entries. */
const MAX_CONTROL_BYTES = 1024 * 1024;
const MAX_CONTROL_ENTRIES = 10_000;

/** The Architecture field of a .deb's control file (amd64, arm64, all). */
export async function debArchitecture(control: ArMember, what: string, limits: DecodeLimits = {}): Promise<string | undefined> {
  let arch: string | undefined;
  let entries = 0;
  await withDecoded(just(control.data), control.data, limits, (decoded) =>
    eachTarEntry(decoded, async (header, stream) => {
      if (++entries > MAX_CONTROL_ENTRIES) throw new PackageFormatError(`${what} ${control.name}: more than ${MAX_CONTROL_ENTRIES} entries`);
      if (!/(^|\/)control$/.test(header.name) || arch !== undefined) return void stream.resume();
      if ((header.size ?? 0) > MAX_CONTROL_BYTES) throw new PackageFormatError(`${what} ${control.name}: its control file is over ${MAX_CONTROL_BYTES} bytes`);
      arch = /^Architecture:\s*(\S+)/m.exec((await collect(stream)).toString('utf8'))?.[1];
    }),
  ).catch((err: Error) => {
    throw err instanceof PackageFormatError ? err : new PackageFormatError(`${what} ${control.name}: ${err.message}`);
  });
  return arch;
}

/** A decoder's own failure said with the member it decoded; staging's refusals pass as they are. */
function explain(what: string): (err: Error) => never {
  return (err) => {
    if (err.name === 'DecoderError' || err.name === 'ZstdWindowError') throw new PackageFormatError(`${what}: ${err.message}`, { cause: err });
    throw err;
  };
}

export async function unpackDeb(bytes: Buffer, into: StagingTree, what: string, limits: DecodeLimits = {}): Promise<{ arch?: string }> {
  const members = readAr(bytes, what);
  const data = members.find((m) => /^data\.tar(\.[a-z0-9]+)?$/.test(m.name));
  if (!data) throw new PackageFormatError(`${what}: no data.tar member (members: ${members.map((m) => m.name).join(', ')})`);
  const control = members.find((m) => /^control\.tar(\.[a-z0-9]+)?$/.test(m.name));
  await withDecoded(just(data.data), data.data, limits, (decoded) => untar(decoded, into)).catch(explain(`${what} ${data.name}`));
  return { arch: control ? await debArchitecture(control, what, limits) : undefined };
}

// ---------------------------------------------------------------------------------------------------------------
// rpm

const HEADER_MAGIC = 0x8eade801;

/** Offset just past an RPM header structure (magic, reserved, index count, store size, index, store). */
function headerEnd(bytes: Buffer, at: number, what: string, which: string): number {
  if (at + 16 > bytes.length || bytes.readUInt32BE(at) !== HEADER_MAGIC) throw new PackageFormatError(`${what}: no RPM ${which} header at byte ${at}`);
  const entries = bytes.readUInt32BE(at + 8);
  const store = bytes.readUInt32BE(at + 12);
  const end = at + 16 + entries * 16 + store;
  if (end > bytes.length) throw new PackageFormatError(`${what}: the RPM ${which} header runs past the end`);
  return end;
}

/** Where an RPM's compressed cpio payload starts. */
export function rpmPayloadOffset(bytes: Buffer, what: string): number {
  if (bytes.length < 96 || bytes.readUInt32BE(0) !== 0xedabeedb) throw new PackageFormatError(`${what}: not an RPM (no lead magic ed ab ee db)`);
  let at = headerEnd(bytes, 96, what, 'signature');
  at += (8 - (at % 8)) % 8;
  return headerEnd(bytes, at, what, 'main');
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Names and symlink targets longer than this are no headers package's (PATH_MAX). */
const MAX_CPIO_NAME = 4096;

/**
 * Bytes from an async source as a reader asks for them: whole small fields (headers, names), or a body of a
 * given length as a stream. Chunks are kept as a list and joined once per field, never re-concatenated.
 */
class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Pull until `n` bytes are held, or the source ends; whether they are. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length) {
        this.chunks.push(next.value);
        this.length += next.value.length;
      }
    }
    return this.length >= n;
  }

  /** `n` bytes held (after fill): joined once. */
  take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return all.subarray(0, n);
  }

  /** The next `n` bytes as they come, held or pulled; fails when the source ends first. */
  async *stream(n: number, truncated: () => Error): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.fill(1))) throw truncated();
      const chunk = this.chunks[0]!;
      const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
      if (piece === chunk) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(left);
      this.length -= piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  /** Skip `n` bytes (padding, a skipped body). */
  async skip(n: number, truncated: () => Error): Promise<void> {
    for await (const piece of this.stream(n, truncated)) void piece;
  }
}

/**
 * Read a cpio "newc" (070701/070702) stream into the staging tree, entry by entry: each size is checked against
 * the tree's caps before a byte of it is read, bodies above SMALL_FILE stream to disk, names and symlink targets
 * are bounded. Hard links carry their data on the last one.
 */
export async function uncpio(input: AsyncIterable<Buffer>, into: StagingTree, what: string): Promise<void> {
  const bytes = new ByteQueue(input);
  const pad4 = (n: number) => (4 - (n % 4)) % 4;
  const pendingLinks = new Map<string, string[]>();
  let consumed = 0;
  for (;;) {
    if (!(await bytes.fill(110))) throw new PackageFormatError(`${what}: the cpio payload ends without a TRAILER!!!`);
    const head = bytes.take(110).toString('latin1');
    const magic = head.slice(0, 6);
    if (magic !== '070701' && magic !== '070702') throw new PackageFormatError(`${what}: unsupported cpio header "${magic}" at payload byte ${consumed} (only newc)`);
    const field = (i: number) => {
      const text = head.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw new PackageFormatError(`${what}: a cpio header at payload byte ${consumed} has a field that is not hex ("${text}")`);
      return Number.parseInt(text, 16);
    };
    const [ino, mode, nlink, size, namesize] = [field(0), field(1), field(4), field(6), field(11)];
    if (namesize < 1 || namesize > MAX_CPIO_NAME) throw new PackageFormatError(`${what}: a cpio name of ${namesize} bytes at payload byte ${consumed}`);
    const nameBytes = namesize + pad4(110 + namesize);
    if (!(await bytes.fill(nameBytes))) throw new PackageFormatError(`${what}: truncated cpio name`);
    const name = bytes.take(nameBytes).subarray(0, namesize - 1).toString('utf8');
    consumed += 110 + nameBytes;
    if (name === 'TRAILER!!!') return;
    const truncated = () => new PackageFormatError(`${what}: truncated cpio data for ${name}`);
    const key = `${field(7)}:${field(8)}:${ino}`;
    const type = mode & S_IFMT;
    if (type === S_IFREG) into.reserve(size, name);
    else if (size > MAX_CPIO_NAME) throw new PackageFormatError(`${what}: cpio entry ${name} is no file but claims ${size} bytes`);
    const small = size <= SMALL_FILE;
    const body = small && (await bytes.fill(size)) ? bytes.take(size) : small ? undefined : bytes.stream(size, truncated);
    if (!body) throw truncated();
    switch (type) {
      case S_IFDIR:
        await into.dir(name, mode);
        break;
      case S_IFLNK:
        await into.symlink(name, (body as Buffer).toString('utf8'));
        break;
      case S_IFREG:
        if (nlink > 1 && size === 0) {
          pendingLinks.set(key, [...(pendingLinks.get(key) ?? []), name]);
          into.skip();
          break;
        }
        await into.file(name, small ? Buffer.from(body as Buffer) : Readable.from(body, { objectMode: false }), mode);
        for (const other of pendingLinks.get(key) ?? []) await into.hardlink(other, name);
        pendingLinks.delete(key);
        break;
      default:
        into.skip(); // devices, fifos
    }
    await bytes.skip(pad4(size), truncated);
    consumed += size + pad4(size);
  }
}

export async function unpackRpm(bytes: Buffer, into: StagingTree, what: string, limits: DecodeLimits = {}): Promise<void> {
  const payload = bytes.subarray(rpmPayloadOffset(bytes, what));
  await withDecoded(just(payload), payload, limits, (decoded) => uncpio(decoded, into, what)).catch(explain(`${what} payload`));
}

// ---------------------------------------------------------------------------------------------------------------
// tarballs and detection

export async function unpackTarFile(path: string, into: StagingTree, what: string, limits: DecodeLimits = {}): Promise<void> {
  const head = await readHead(path, 8);
  const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    await withDecoded(file, head, limits, (decoded) => untar(decoded, into)).catch(explain(what));
  } finally {
    file.destroy();
  }
}

export async function readHead(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** What a package file is, from its first bytes (names lie; magic does not). */
export function packageKind(head: Uint8Array): PackageKind {
  if (Buffer.from(head.subarray(0, 8)).toString('latin1') === '!<arch>\n') return 'deb';
  if (head[0] === 0xed && head[1] === 0xab && head[2] === 0xee && head[3] === 0xdb) return 'rpm';
  return 'tar';
}
