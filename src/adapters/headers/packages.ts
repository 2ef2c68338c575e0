/**
 * Unpack kernel headers packages into a staging tree, without dpkg or rpm:
 *  - .deb: an `ar` archive (parsed here: a global header and 60-byte member headers) whose data.tar.{xz,zst,gz}
 *    holds the files; `control.tar.*` is read only for the Architecture field;
 *  - .rpm: a 96-byte lead, a signature header (padded to 8 bytes), the main header, then the payload: a cpio
 *    "newc" archive compressed with xz, zstd or gzip (parsed here: 110-byte ASCII headers, 4-byte alignment);
 *  - tarballs, compressed or not.
 * xz goes through the `xz` binary (Node has no xz decoder; it is on every distro); gzip through zlib and zstd
 * as layers go (the `zstd` binary or fzstd, frame windows bounded).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { execa } from 'execa';
import tar from 'tar-stream';
import { createGunzip } from 'node:zlib';
import { zstdDecompress, type Decompression } from '../layers/zstd.js';
import type { StagingTree } from './staging.js';

export type PackageKind = 'deb' | 'rpm' | 'tar';

export class PackageFormatError extends Error {}

type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  return 'none';
}

/** Every byte a decompression gives, then its end status (a failed decoder throws there). */
async function* drained(d: Decompression): AsyncGenerator<Buffer> {
  yield* d.output;
  await d.finished();
}

/** A decompressed stream of `input`. */
function decompressed(input: Readable, kind: Compression, what: string): Readable {
  if (kind === 'none') return input;
  if (kind === 'gzip') return input.pipe(createGunzip({ chunkSize: 256 * 1024 }));
  if (kind === 'zstd') return Readable.from(drained(zstdDecompress(input)));
  const tool = kind === 'xz' ? 'xz' : 'bzip2';
  const child = execa(tool, ['-dc'], { input, buffer: false, stderr: 'pipe' });
  const out = new PassThrough();
  child.stdout.pipe(out);
  child.catch((err: { stderr?: string; shortMessage?: string }) => out.destroy(new PackageFormatError(`${what}: ${tool} -dc failed: ${String(err.stderr || err.shortMessage)}`)));
  return out;
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

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function untar(input: Readable, into: StagingTree): Promise<void> {
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    input.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const name = header.name;
    const mode = header.mode ?? 0o644;
    const write = async () => {
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
        case 'contiguous-file':
          // Small files (nearly all of a headers tree) are written in one call; big ones stream.
          return (header.size ?? 0) <= SMALL_FILE ? into.file(name, await collect(stream as unknown as Readable), mode) : into.file(name, stream as unknown as Readable, mode);
        default:
          stream.resume(); // devices, fifos: nothing a header tree needs
      }
    };
    write().then(() => next(), (err: Error) => {
      stream.resume();
      extract.destroy(err);
    });
  });
  input.pipe(extract);
  await done;
}

/** The Architecture field of a .deb's control file (amd64, arm64, all). */
export async function debArchitecture(control: ArMember, what: string): Promise<string | undefined> {
  const extract = tar.extract();
  let arch: string | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (/(^|\/)control$/.test(header.name)) arch = /^Architecture:\s*(\S+)/m.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  decompressed(Readable.from([control.data]), sniffCompression(control.data), `${what} ${control.name}`).pipe(extract);
  await finished;
  return arch;
}

export async function unpackDeb(bytes: Buffer, into: StagingTree, what: string): Promise<{ arch?: string }> {
  const members = readAr(bytes, what);
  const data = members.find((m) => /^data\.tar(\.[a-z0-9]+)?$/.test(m.name));
  if (!data) throw new PackageFormatError(`${what}: no data.tar member (members: ${members.map((m) => m.name).join(', ')})`);
  const control = members.find((m) => /^control\.tar(\.[a-z0-9]+)?$/.test(m.name));
  await untar(decompressed(Readable.from([data.data]), sniffCompression(data.data), `${what} ${data.name}`), into);
  return { arch: control ? await debArchitecture(control, what) : undefined };
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

/** Read a cpio "newc" (070701/070702) stream into the staging tree. Hard links carry their data on the last one. */
export async function uncpio(input: Readable, into: StagingTree, what: string): Promise<void> {
  let buffered = Buffer.alloc(0);
  let ended = false;
  const iterator = input[Symbol.asyncIterator]();
  const fill = async (n: number): Promise<boolean> => {
    while (buffered.length < n && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else buffered = Buffer.concat([buffered, next.value as Buffer]);
    }
    return buffered.length >= n;
  };
  const take = (n: number): Buffer => {
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
  const pad4 = (n: number) => (4 - (n % 4)) % 4;
  const pendingLinks = new Map<string, string[]>();
  let consumed = 0;
  for (;;) {
    if (!(await fill(110))) throw new PackageFormatError(`${what}: the cpio payload ends without a TRAILER!!!`);
    const head = take(110).toString('latin1');
    const magic = head.slice(0, 6);
    if (magic !== '070701' && magic !== '070702') throw new PackageFormatError(`${what}: unsupported cpio header "${magic}" at payload byte ${consumed} (only newc)`);
    const field = (i: number) => Number.parseInt(head.slice(6 + i * 8, 14 + i * 8), 16);
    const [ino, mode, nlink, size, namesize] = [field(0), field(1), field(4), field(6), field(11)];
    const nameBytes = namesize + pad4(110 + namesize);
    if (!(await fill(nameBytes))) throw new PackageFormatError(`${what}: truncated cpio name`);
    const name = take(nameBytes).subarray(0, namesize - 1).toString('utf8');
    consumed += 110 + nameBytes;
    if (name === 'TRAILER!!!') return;
    const dataBytes = size + pad4(size);
    if (!(await fill(dataBytes))) throw new PackageFormatError(`${what}: truncated cpio data for ${name}`);
    const data = Buffer.from(take(dataBytes).subarray(0, size));
    consumed += dataBytes;
    const key = `${field(7)}:${field(8)}:${ino}`;
    switch (mode & S_IFMT) {
      case S_IFDIR:
        await into.dir(name, mode);
        break;
      case S_IFLNK:
        await into.symlink(name, data.toString('utf8'));
        break;
      case S_IFREG:
        if (nlink > 1 && size === 0) {
          pendingLinks.set(key, [...(pendingLinks.get(key) ?? []), name]);
          break;
        }
        await into.file(name, data, mode);
        for (const other of pendingLinks.get(key) ?? []) await into.hardlink(other, name);
        pendingLinks.delete(key);
        break;
      default:
        break; // devices, fifos
    }
  }
}

export async function unpackRpm(bytes: Buffer, into: StagingTree, what: string): Promise<void> {
  const payload = bytes.subarray(rpmPayloadOffset(bytes, what));
  await uncpio(decompressed(Readable.from([payload]), sniffCompression(payload), `${what} payload`), into, what);
}

// ---------------------------------------------------------------------------------------------------------------
// tarballs and detection

export async function unpackTarFile(path: string, into: StagingTree, what: string): Promise<void> {
  const head = await readHead(path, 8);
  await untar(decompressed(createReadStream(path), sniffCompression(head), what), into);
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
