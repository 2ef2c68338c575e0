/**
 * Edge-case tar layers, written byte by byte (no tar library: the point is headers a library would not write),
 * for the differential test of `check` against a real unpacker (umoci, Go's archive/tar), and hostile layers
 * ("bombs") generated as streams so that a test never holds them in memory.
 *
 *   const layer = Buffer.concat([tarFile('usr/bin/gcc', elf), tarSymlink('usr/bin/gcc-12', 'gcc'), END]);
 */
import { Readable } from 'node:stream';
import { elfHeader, X86_64 } from './elf.js';

const BLOCK = 512;
export const ZERO_BLOCK = Buffer.alloc(BLOCK);
export const END = Buffer.alloc(2 * BLOCK);

export interface RawHeader {
  name: string;
  /** A one-character typeflag, or '\0'. */
  type?: string;
  mode?: number;
  /** Written in the size field (octal), unless `sizeField` gives the raw 12 bytes. */
  size?: number;
  sizeField?: Buffer;
  linkname?: string;
  prefix?: string;
  /** USTAR (default), GNU or V7 (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  mtimeField?: Buffer;
  /** Break the checksum on purpose. */
  badChecksum?: boolean;
}

function put(block: Buffer, text: string, offset: number, length: number): void {
  block.write(text.slice(0, length), offset, 'latin1');
}

function octalField(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** One 512-byte header with a correct (or deliberately wrong) checksum. */
export function header(h: RawHeader): Buffer {
  const block = Buffer.alloc(BLOCK);
  put(block, h.name, 0, 100);
  put(block, octalField(h.mode ?? 0o644, 8), 100, 8);
  put(block, octalField(0, 8), 108, 8);
  put(block, octalField(0, 8), 116, 8);
  if (h.sizeField) h.sizeField.copy(block, 124, 0, 12);
  else put(block, octalField(h.size ?? 0, 12), 124, 12);
  if (h.mtimeField) h.mtimeField.copy(block, 136, 0, 12);
  else put(block, octalField(1_700_000_000, 12), 136, 12);
  block[156] = (h.type ?? '0').charCodeAt(0);
  put(block, h.linkname ?? '', 157, 100);
  const format = h.format ?? 'ustar';
  if (format === 'ustar') {
    put(block, 'ustar\0', 257, 6);
    put(block, '00', 263, 2);
  } else if (format === 'gnu') {
    put(block, 'ustar ', 257, 6);
    put(block, ' \0', 263, 2);
  }
  if (format !== 'v7') {
    put(block, octalField(0, 8), 329, 8);
    put(block, octalField(0, 8), 337, 8);
  }
  if (h.prefix) put(block, h.prefix, 345, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  if (h.badChecksum) sum += 1;
  put(block, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

function padded(content: Buffer): Buffer {
  const pad = (BLOCK - (content.length % BLOCK)) % BLOCK;
  return Buffer.concat([content, Buffer.alloc(pad)]);
}

export function tarFile(name: string, content: Buffer | string, mode = 0o755, extra: Partial<RawHeader> = {}): Buffer {
  const bytes = Buffer.from(content);
  return Buffer.concat([header({ name, mode, size: bytes.length, ...extra }), padded(bytes)]);
}
export const tarDir = (name: string, extra: Partial<RawHeader> = {}) => header({ name, type: '5', mode: 0o755, ...extra });
export const tarSymlink = (name: string, target: string, extra: Partial<RawHeader> = {}) => header({ name, type: '2', linkname: target, mode: 0o777, ...extra });
export const tarHardlink = (name: string, target: string, extra: Partial<RawHeader> = {}) => header({ name, type: '1', linkname: target, mode: 0o755, ...extra });

/** `<len> key=value\n` records, the length counting itself. */
export function paxRecords(records: Record<string, string>): Buffer {
  const parts = Object.entries(records).map(([k, v]) => {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    while (`${len}${body}`.length !== len) len++;
    return `${len}${body}`;
  });
  return Buffer.from(parts.join(''), 'latin1');
}
export function tarPax(records: Record<string, string> | Buffer, type: 'x' | 'g' = 'x'): Buffer {
  const content = Buffer.isBuffer(records) ? records : paxRecords(records);
  return Buffer.concat([header({ name: 'PaxHeaders/x', type, size: content.length }), padded(content)]);
}
export function tarGnuLong(value: string, type: 'L' | 'K' = 'L'): Buffer {
  const content = Buffer.from(`${value}\0`, 'latin1');
  return Buffer.concat([header({ name: '././@LongLink', type, size: content.length, format: 'gnu' }), padded(content)]);
}

/** A base-256 numeric field of 12 bytes (two's complement, top bit set). */
export function base256(value: bigint): Buffer {
  const field = Buffer.alloc(12);
  let v = value < 0n ? (1n << 95n) + value : value;
  for (let i = 11; i >= 0; i--) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  field[0] = (field[0]! & 0x7f) | 0x80 | (value < 0n ? 0x40 : 0);
  return field;
}

export const ELF_X86 = Buffer.concat([elfHeader(X86_64), Buffer.alloc(1024, 0x90)]);
const COMPILER = 'usr/bin/x86_64-linux-gnu-gcc-12';

/** A layer with the compiler and its gcc-12 link, the usual base of a case. */
export function baseLayer(...more: Buffer[]): Buffer {
  return Buffer.concat([tarDir('usr/'), tarDir('usr/bin/'), tarFile(COMPILER, ELF_X86), tarSymlink('usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12'), ...more]);
}

export interface CorpusCase {
  name: string;
  /** Raw tar bytes of each layer, bottom first. */
  layers: Buffer[];
  /** What Go's archive/tar and the runtimes do with it: unpack it, or refuse it. */
  expect: 'ok' | 'refused';
  /** For refused cases: what our message must say. */
  message?: RegExp;
}

const LINK = tarSymlink('usr/bin/gcc-12.0.0', 'gcc-12');
const WHITEOUT_LINK = tarFile('usr/bin/.wh.gcc-12.0.0', '', 0o644);

/** The differential corpus: each case one image, checked by us and unpacked by a runtime's tar reader. */
export function corpus(): CorpusCase[] {
  const sparseElf = ELF_X86.subarray(0, 512);
  const sparseMap10 = Buffer.alloc(BLOCK);
  sparseMap10.write('1\n0\n512\n');
  return [
    { name: 'plain', layers: [baseLayer(LINK, END)], expect: 'ok' },
    { name: 'entries after the end-of-archive marker are not read', layers: [baseLayer(END, LINK, END)], expect: 'ok' },
    { name: 'no end-of-archive marker at all', layers: [baseLayer(LINK)], expect: 'ok' },
    { name: 'one zero block, then the end of input', layers: [baseLayer(LINK, ZERO_BLOCK)], expect: 'ok' },
    { name: 'a single zero block mid-archive', layers: [baseLayer(ZERO_BLOCK, LINK, END)], expect: 'refused', message: /single zero block/ },
    {
      name: 'a symlink with a size hides nothing: its "data" is the next header (a whiteout)',
      layers: [baseLayer(LINK, END), Buffer.concat([tarSymlink('usr/bin/other', 'gcc-12', { size: BLOCK }), WHITEOUT_LINK, END])],
      expect: 'ok',
    },
    {
      name: 'a hard link with a size: its "data" is the next header',
      layers: [baseLayer(END), Buffer.concat([tarHardlink('usr/bin/cc', 'usr/bin/x86_64-linux-gnu-gcc-12', { size: BLOCK }), LINK, END])],
      expect: 'ok',
    },
    { name: 'a directory with a size: its "data" is the next header', layers: [baseLayer(tarDir('usr/lib/', { size: BLOCK }), LINK, END)], expect: 'ok' },
    { name: "an unknown typeflag 'Z'", layers: [baseLayer(header({ name: 'usr/bin/gcc-12.0.0', type: 'Z', size: 0 }), END)], expect: 'refused', message: /typeflag 'Z'/ },
    { name: "a contiguous file '7'", layers: [baseLayer(LINK, header({ name: 'usr/bin/c', type: '7', size: 0 }), END)], expect: 'refused', message: /typeflag '7'/ },
    { name: 'a bad header checksum', layers: [baseLayer(header({ name: 'usr/bin/gcc-12.0.0', type: '2', linkname: 'gcc-12', badChecksum: true }), END)], expect: 'refused', message: /checksum/ },
    { name: 'garbage in the mtime field', layers: [baseLayer(header({ name: 'usr/bin/gcc-12.0.0', type: '2', linkname: 'gcc-12', mtimeField: Buffer.from('12x45678901\0') }), END)], expect: 'refused', message: /mtime/ },
    { name: 'a base-256 size that fits', layers: [baseLayer(Buffer.concat([header({ name: 'usr/bin/tool', sizeField: base256(5n) }), padded(Buffer.from('hello'))]), LINK, END)], expect: 'ok' },
    { name: 'a base-256 size beyond the layer (truncated)', layers: [baseLayer(LINK, header({ name: 'usr/bin/big', sizeField: base256(1n << 62n) }), END)], expect: 'refused', message: /truncated/ },
    { name: 'a negative base-256 size', layers: [baseLayer(LINK, header({ name: 'usr/bin/neg', sizeField: base256(-512n) }), END)], expect: 'refused', message: /negative size/ },
    { name: 'a truncated file', layers: [baseLayer(LINK, header({ name: 'usr/bin/cut', size: 4096 }), Buffer.alloc(1024, 1))], expect: 'refused', message: /truncated/ },
    { name: 'a PAX path', layers: [baseLayer(tarPax({ path: 'usr/bin/gcc-12.0.0' }), tarSymlink('usr/bin/decoy', 'gcc-12'), END)], expect: 'ok' },
    { name: 'a PAX linkpath', layers: [baseLayer(tarPax({ linkpath: 'gcc-12' }), tarSymlink('usr/bin/gcc-12.0.0', 'nowhere'), END)], expect: 'ok' },
    { name: 'a GNU long name overrides the PAX path', layers: [baseLayer(tarPax({ path: 'usr/bin/pax-name' }), tarGnuLong('usr/bin/gcc-12.0.0'), tarSymlink('usr/bin/short', 'gcc-12', { format: 'gnu' }), END)], expect: 'ok' },
    { name: 'a PAX global header (umoci refuses it)', layers: [baseLayer(tarPax({ comment: 'x' }, 'g'), LINK, END)], expect: 'refused', message: /global header/ },
    { name: 'a bad PAX record', layers: [baseLayer(tarPax(Buffer.from('99 path=usr/bin/x\n')), LINK, END)], expect: 'refused', message: /PAX header/ },
    { name: 'a USTAR prefix', layers: [baseLayer(tarSymlink('gcc-12.0.0', 'gcc-12', { prefix: 'usr/bin' }), END)], expect: 'ok' },
    { name: "a '\\0' typeflag with a trailing slash is a directory", layers: [baseLayer(header({ name: 'usr/bin/newdir/', type: '\0' }), LINK, END)], expect: 'ok' },
    { name: 'a V7 header (no magic)', layers: [baseLayer(tarSymlink('usr/bin/gcc-12.0.0', 'gcc-12', { format: 'v7' }), END)], expect: 'ok' },
    {
      name: 'a PAX 1.0 sparse file takes its real name',
      layers: [
        baseLayer(
          tarPax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'usr/bin/x86_64-linux-gnu-gcc-13', 'GNU.sparse.realsize': '4096' }),
          header({ name: 'usr/bin/GNUSparseFile.0/x86_64-linux-gnu-gcc-13', mode: 0o755, size: 1024 }),
          sparseMap10,
          sparseElf,
          tarSymlink('usr/bin/gcc-13.0.0', 'x86_64-linux-gnu-gcc-13'),
          LINK,
          END,
        ),
      ],
      expect: 'ok',
    },
    {
      name: 'a PAX 0.1 sparse file takes its real name',
      layers: [
        baseLayer(
          tarPax({ 'GNU.sparse.major': '0', 'GNU.sparse.minor': '1', 'GNU.sparse.name': 'usr/bin/sparse-tool', 'GNU.sparse.size': '2048', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '1024,512' }),
          header({ name: 'usr/bin/GNUSparseFile.0/sparse-tool', mode: 0o644, size: 512 }),
          Buffer.alloc(512, 0x41),
          LINK,
          END,
        ),
      ],
      expect: 'ok',
    },
    { name: 'a hard link to a path that does not exist', layers: [baseLayer(LINK, tarHardlink('usr/bin/cc', 'usr/bin/nothing'), END)], expect: 'refused', message: /does not exist/ },
    { name: 'a hard link to a directory', layers: [baseLayer(LINK, tarHardlink('usr/bin/cc', 'usr/'), END)], expect: 'refused', message: /is a directory/ },
    { name: 'a hard link to a file of a lower layer', layers: [baseLayer(END), Buffer.concat([tarHardlink('usr/bin/gcc-12.0.0', 'usr/bin/x86_64-linux-gnu-gcc-12'), END])], expect: 'ok' },
    { name: "an old GNU sparse file 'S'", layers: [baseLayer(LINK, header({ name: 'usr/bin/oldsparse', type: 'S', size: 0, format: 'gnu' }), END)], expect: 'refused', message: /typeflag 'S'/ },
  ];
}

/**
 * A layer streamed from a generator of parts, never held whole: `streamTar(function* () { yield header(...) })`.
 * Parts are gathered into chunks of about 1 MiB.
 */
export function streamTar(parts: () => Iterable<Buffer>): Readable {
  return Readable.from(
    (function* () {
      let pending: Buffer[] = [];
      let size = 0;
      for (const part of parts()) {
        pending.push(part);
        size += part.length;
        if (size >= 1 << 20) {
          yield Buffer.concat(pending);
          pending = [];
          size = 0;
        }
      }
      if (size) yield Buffer.concat(pending);
    })(),
    { objectMode: false },
  );
}
