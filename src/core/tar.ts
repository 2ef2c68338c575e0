/**
 * A strict, streaming tar reader that reads an archive exactly as Go's `archive/tar` does (containerd, podman and
 * umoci unpack layers with it), within bounds. Pure: bytes are pushed in, entries come out through a sink.
 *
 * What Go does, and so this does: stop at the end-of-archive marker (two zero blocks); a zero block followed by a
 * non-zero one is an error; a header whose checksum does not match is an error; numeric fields are octal or
 * base-256 and any garbage in them is an error; link, device, directory and FIFO entries are header-only whatever
 * their size says (the next block is the next header); PAX (`x`) and GNU long name/link (`L`/`K`) meta entries
 * are capped at 1 MiB and apply to the next real entry, GNU names over PAX ones; a PAX sparse file takes its real
 * name and size from its GNU.sparse records; the end of the input at a header boundary or inside padding is a clean
 * end, anywhere else a truncation. What the runtimes then refuse (typeflags they do not unpack, such as `7` or
 * the old GNU sparse `S`) is refused here too; PAX global headers (`g`), which umoci
 * refuses (containerd and podman skip them), are refused too.
 * Names are kept as bytes (latin1 code units), as Go and Linux keep them.
 */

export const BLOCK = 512;
/** Go's maxSpecialFileSize: PAX records, GNU long names and sparse maps. */
export const MAX_SPECIAL_BYTES = 1024 * 1024;
/** Linux PATH_MAX, and the longest symlink target it stores (PATH_MAX - 1). */
export const MAX_PATH_BYTES = 4096;
export const MAX_LINK_BYTES = 4095;

/** The entry kinds the runtimes unpack; everything else is refused. */
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  name: string;
  linkname: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Logical size of a file's content (a sparse file's real size); 0 for header-only types. */
  size: number;
  /** Modification time as written: the header's seconds, or a PAX record's value (which may carry a fraction). */
  mtime: string;
}

export class TarFormatError extends Error {
  /** `invalid`: the runtimes refuse it too; `limit`: one of our bounds (path, link target, meta entry). */
  constructor(
    message: string,
    readonly kind: 'invalid' | 'limit' = 'invalid',
  ) {
    super(message);
    this.name = 'TarFormatError';
  }
}

export interface TarSink {
  /** A real entry; return how many leading content bytes to hand to `data` (0 for none). */
  entry(entry: TarEntry): number;
  /** Leading content bytes of the current entry (a sparse file's logical bytes, holes as zeros). */
  data(bytes: Uint8Array): void;
  /** The current entry's content has been read to its end. */
  entryEnd(): void;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
const META = new Set(['x', 'g', 'L', 'K']);

type State = 'header' | 'zero' | 'meta' | 'data' | 'pad' | 'done';

interface Sparse {
  /** 1.0 keeps its map at the start of the data; 0.x in PAX records. */
  mapInData: boolean;
  fragments?: [offset: number, length: number][];
  mapChunks: Buffer[];
  mapLength: number;
  mapNewlines: number;
  mapCount?: number;
}

export class TarReader {
  private state: State = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  /** Bytes left in the current entry's data (or meta content), then its padding. */
  private remaining = 0;
  private padding = 0;
  private consumed = 0;
  private entryOffset = 0;
  private metaType = '';
  private meta: Buffer[] = [];
  private metaFill = 0;
  private pax: Map<string, string> | undefined;
  private gnuLongName: string | undefined;
  private gnuLongLink: string | undefined;
  /** Content bytes the sink still wants, and the current sparse file (if any). */
  private want = 0;
  private sparse: Sparse | undefined;
  private sparseHead: Buffer | undefined;
  private physicalSeen = 0;
  /** The current sparse file's real (logical) size. */
  private sparseLogical = 0;

  constructor(private readonly sink: TarSink) {}

  /** The end-of-archive marker was read: what follows is not part of the archive. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Offset in the tar stream of the entry being read, for messages. */
  get position(): number {
    return this.entryOffset;
  }

  /** Bytes pushed so far: inside `sink.entry`, where the entry's content starts. */
  get offset(): number {
    return this.consumed;
  }

  /**
   * Skip the rest of the current entry's content and padding without being handed the bytes (the content of
   * an entry whose sink wanted none): a reader of a seekable file moves its position by the returned count.
   */
  skipContent(): number {
    let skipped = 0;
    if (this.state === 'data' && this.want === 0 && !this.sparse) {
      skipped += this.remaining;
      this.consumed += this.remaining;
      this.remaining = 0;
      this.onDataEnd();
    }
    if (this.state === 'pad') {
      skipped += this.padding;
      this.consumed += this.padding;
      this.padding = 0;
      this.state = 'header';
    }
    return skipped;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.state !== 'done') {
      switch (this.state) {
        case 'header':
        case 'zero': {
          const take = Math.min(BLOCK - this.blockFill, chunk.length - at);
          this.block.set(chunk.subarray(at, at + take), this.blockFill);
          this.blockFill += take;
          at += take;
          this.consumed += take;
          if (this.blockFill === BLOCK) {
            this.blockFill = 0;
            this.onBlock();
          }
          break;
        }
        case 'meta': {
          const take = Math.min(this.remaining, chunk.length - at);
          this.meta.push(Buffer.from(chunk.subarray(at, at + take)));
          this.metaFill += take;
          this.remaining -= take;
          at += take;
          this.consumed += take;
          if (this.remaining === 0) this.onMetaEnd();
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - at);
          this.onData(chunk.subarray(at, at + take));
          this.remaining -= take;
          at += take;
          this.consumed += take;
          if (this.remaining === 0) this.onDataEnd();
          break;
        }
        case 'pad': {
          const take = Math.min(this.padding, chunk.length - at);
          this.padding -= take;
          at += take;
          this.consumed += take;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The input ended: fine at a header boundary, after one zero block or inside padding (as Go); else truncated. */
  end(): void {
    if (this.state === 'done' || this.state === 'pad') return;
    if ((this.state === 'header' || this.state === 'zero') && this.blockFill === 0) return;
    throw new TarFormatError(`the archive ends in the middle of ${this.state === 'header' || this.state === 'zero' ? 'a header' : `the entry at offset ${this.entryOffset}`} (truncated)`);
  }

  private onBlock(): void {
    const zero = isZero(this.block);
    if (this.state === 'zero') {
      if (zero) {
        this.state = 'done';
        return;
      }
      throw new TarFormatError(`a single zero block at offset ${this.consumed - 2 * BLOCK} is followed by more data (Go's archive/tar refuses this)`);
    }
    if (zero) {
      this.state = 'zero';
      return;
    }
    this.entryOffset = this.consumed - BLOCK;
    this.onHeader(parseHeader(this.block, this.entryOffset));
  }

  private onHeader(h: RawHeader): void {
    const headerOnly = HEADER_ONLY.has(h.typeflag);
    const physical = headerOnly ? 0 : h.size;
    if (physical < 0) throw new TarFormatError(`the entry at offset ${this.entryOffset} has a negative size`);
    if (META.has(h.typeflag)) {
      if (physical > MAX_SPECIAL_BYTES) {
        throw new TarFormatError(`a ${metaName(h.typeflag)} of ${physical} bytes at offset ${this.entryOffset} is above the ${MAX_SPECIAL_BYTES}-byte limit`, 'limit');
      }
      this.metaType = h.typeflag;
      this.meta = [];
      this.metaFill = 0;
      this.startContent(physical, 'meta');
      if (physical === 0) this.onMetaEnd();
      return;
    }
    this.onRealHeader(h);
  }

  private onRealHeader(h: RawHeader): void {
    let { name, linkname, size } = h;
    let typeflag = h.typeflag;
    const pax = this.pax;
    if (pax) {
      for (const [key, value] of pax) {
        if (value === '') continue; // Go keeps the header's value
        if (key === 'path') name = value;
        else if (key === 'linkpath') linkname = value;
        else if (key === 'size') size = paxInteger(value, key, this.entryOffset);
        else if (key === 'uid') h.uid = paxInteger(value, key, this.entryOffset);
        else if (key === 'gid') h.gid = paxInteger(value, key, this.entryOffset);
        else if (key === 'mtime' || key === 'atime' || key === 'ctime') {
          paxTime(value, key, this.entryOffset);
          if (key === 'mtime') h.mtime = value;
        }
      }
    }
    if (this.gnuLongName !== undefined && this.gnuLongName !== '') name = this.gnuLongName;
    if (this.gnuLongLink !== undefined && this.gnuLongLink !== '') linkname = this.gnuLongLink;
    this.pax = undefined;
    this.gnuLongName = undefined;
    this.gnuLongLink = undefined;
    if (typeflag === '\0') typeflag = name.endsWith('/') ? '5' : '0';
    const headerOnly = HEADER_ONLY.has(typeflag);
    const physical = headerOnly ? 0 : size;
    if (physical < 0) throw new TarFormatError(`the entry at offset ${this.entryOffset} has a negative size`);

    this.sparse = sparseOf(pax, this.entryOffset);
    if (this.sparse && headerOnly) {
      // Go reads the sparse headers of every entry, and refuses them on one that has no content.
      throw new TarFormatError(`the entry at offset ${this.entryOffset} has typeflag ${describeType(typeflag)} and a PAX sparse map, which Go's archive/tar refuses`);
    }
    let logical = physical;
    if (this.sparse && pax) {
      const realName = pax.get('GNU.sparse.name');
      if (realName) name = realName;
      const real = pax.get('GNU.sparse.size') || pax.get('GNU.sparse.realsize');
      if (real) logical = paxInteger(real, 'GNU.sparse.size', this.entryOffset);
      if (logical < 0) throw new TarFormatError(`the entry at offset ${this.entryOffset} has a negative size`);
    }
    const type = TYPES[typeflag];
    if (!type) {
      throw new TarFormatError(`the entry ${JSON.stringify(name)} at offset ${this.entryOffset} has typeflag ${describeType(typeflag)}, which container runtimes do not unpack`);
    }
    if (byteLength(name) > MAX_PATH_BYTES) {
      throw new TarFormatError(`an entry path of ${byteLength(name)} bytes at offset ${this.entryOffset} is above the ${MAX_PATH_BYTES}-byte limit (PATH_MAX)`, 'limit');
    }
    if ((type === 'symlink' || type === 'hardlink') && byteLength(linkname) > MAX_LINK_BYTES) {
      throw new TarFormatError(`the link target of ${JSON.stringify(name.slice(0, 200))} is ${byteLength(linkname)} bytes, above the ${MAX_LINK_BYTES}-byte limit`, 'limit');
    }
    const entry: TarEntry = { name, linkname, type, mode: h.mode, uid: h.uid, gid: h.gid, size: headerOnly ? 0 : logical, mtime: h.mtime };
    this.want = this.sink.entry(entry);
    this.physicalSeen = 0;
    if (this.sparse) {
      this.sparseHead = Buffer.alloc(0);
      this.sparseLogical = logical;
      if (!this.sparse.mapInData) this.checkSparseMap();
    }
    this.startContent(physical, 'data');
    if (physical === 0) this.onDataEnd();
  }

  private startContent(bytes: number, state: 'meta' | 'data'): void {
    this.remaining = bytes;
    this.padding = (BLOCK - (bytes % BLOCK)) % BLOCK;
    this.state = state;
  }

  private onMetaEnd(): void {
    const content = Buffer.concat(this.meta, this.metaFill);
    if (this.metaType === 'x' || this.metaType === 'g') {
      const records = parsePax(content, this.entryOffset);
      if (this.metaType === 'g') {
        // Go hands a global header out as an entry of its own: containerd and podman skip it, umoci refuses it.
        // An image that does not unpack everywhere is refused here.
        throw new TarFormatError(`the entry at offset ${this.entryOffset} is a PAX global header (typeflag 'g'), which umoci refuses to unpack (containerd and podman skip it)`);
      }
      this.pax = records;
    } else {
      const value = cString(content, 0, content.length);
      if (this.metaType === 'L') this.gnuLongName = value;
      else this.gnuLongLink = value;
    }
    this.state = 'pad'; // padding may be 0: the pad state then moves on without reading
  }

  private onData(bytes: Uint8Array): void {
    if (!this.sparse) {
      if (this.want > 0) {
        const part = bytes.subarray(0, this.want);
        this.want -= part.length;
        this.sink.data(part);
      }
      return;
    }
    this.onSparseData(bytes);
  }

  private onSparseData(bytes: Uint8Array): void {
    const sparse = this.sparse!;
    let at = 0;
    // GNU 1.0: the map is newline-separated decimals in whole blocks at the start of the data (Go reads it a
    // block at a time until it holds enough newlines).
    while (sparse.mapInData && !sparse.fragments && at < bytes.length) {
      const take = Math.min(BLOCK - (sparse.mapLength % BLOCK), bytes.length - at);
      const part = Buffer.from(bytes.subarray(at, at + take));
      at += take;
      sparse.mapChunks.push(part);
      sparse.mapLength += take;
      for (const b of part) if (b === 0x0a) sparse.mapNewlines++;
      if (sparse.mapLength > MAX_SPECIAL_BYTES) throw new TarFormatError(`the sparse map of the entry at offset ${this.entryOffset} is above the ${MAX_SPECIAL_BYTES}-byte limit`, 'limit');
      if (sparse.mapLength % BLOCK === 0) this.tryFinishSparseMap();
    }
    // What is left (nothing while the map is still being read) is stored data: keep its first 64 bytes.
    const rest = bytes.subarray(at);
    this.physicalSeen += rest.length;
    if (this.sparseHead!.length < 64) this.sparseHead = Buffer.concat([this.sparseHead!, rest.subarray(0, 64 - this.sparseHead!.length)]);
  }

  private tryFinishSparseMap(): void {
    const sparse = this.sparse!;
    if (sparse.mapNewlines < 1) return;
    const invalid = () => new TarFormatError(`the sparse map of the entry at offset ${this.entryOffset} is not valid`);
    if (sparse.mapCount === undefined) {
      const text = Buffer.concat(sparse.mapChunks);
      const count = decimal(text.toString('latin1', 0, text.indexOf(0x0a)));
      if (count === undefined || count < 0) throw invalid();
      sparse.mapCount = count;
    }
    if (sparse.mapNewlines < 1 + 2 * sparse.mapCount) return;
    const tokens = Buffer.concat(sparse.mapChunks).toString('latin1').split('\n');
    const fragments: [number, number][] = [];
    for (let i = 0; i < sparse.mapCount; i++) {
      const offset = decimal(tokens[1 + 2 * i]!);
      const length = decimal(tokens[2 + 2 * i]!);
      if (offset === undefined || length === undefined) throw invalid();
      fragments.push([offset, length]);
    }
    sparse.fragments = fragments;
    this.checkSparseMap();
  }

  /** Go's validateSparseEntries: regions in order, not overlapping, inside the file's real size. */
  private checkSparseMap(): void {
    const logical = this.sparseLogical;
    const fragments = this.sparse!.fragments!;
    let end = 0;
    for (const [offset, length] of fragments) {
      // (A negative offset is before the end of the previous region, which starts at 0.)
      if (length < 0 || offset + length > logical || offset < end) throw new TarFormatError(`the sparse map of the entry at offset ${this.entryOffset} has regions out of order or beyond its size`);
      end = offset + length;
    }
  }

  private onDataEnd(): void {
    if (this.sparse) this.finishSparse();
    this.sink.entryEnd();
    this.state = 'pad';
  }

  private finishSparse(): void {
    const sparse = this.sparse!;
    if (!sparse.fragments) throw new TarFormatError(`the sparse file at offset ${this.entryOffset} ends inside its sparse map`);
    const stored = sparse.fragments.reduce((n, [, length]) => n + length, 0);
    if (stored !== this.physicalSeen) throw new TarFormatError(`the sparse file at offset ${this.entryOffset} stores ${this.physicalSeen} bytes but its map describes ${stored}`);
    // The logical head the sink wants (none: an empty head): stored fragments at their offsets, holes as zeros.
    const head = Buffer.alloc(Math.min(this.want, this.sparseLogical));
    let from = 0;
    for (const [offset, length] of sparse.fragments) {
      // Past the head or past the 64 stored bytes kept: done (copy refuses a start beyond its buffers). At either
      // very end the copy copies nothing.
      // Stryker disable next-line EqualityOperator: at offset === head.length or from === 64 both stop and copy nothing
      if (offset >= head.length || from >= this.sparseHead!.length) break;
      this.sparseHead!.copy(head, offset, from, from + length);
      from += length;
    }
    if (head.length) this.sink.data(head);
  }
}

interface RawHeader {
  name: string;
  linkname: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: string;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Go's getFormat + readHeader: checksum (unsigned or signed), magic, then every numeric field must parse. */
function parseHeader(block: Buffer, at: number): RawHeader {
  const stored = octal(block, 148, 8);
  // Sum as unsigned and as signed bytes, the checksum field itself counted as spaces.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = block[i]!;
    unsigned += c;
    high += c >> 7;
  }
  // (A checksum field with a byte above 0x7f is not octal: its share of `high` never matters.)
  for (let i = 148; i < 156; i++) unsigned -= block[i]!;
  const signed = unsigned - 256 * high;
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`the header at offset ${at} is not a tar header (bad checksum)`);
  }
  const magic = block.toString('latin1', 257, 263);
  const version = block.toString('latin1', 263, 265);
  // Go's getFormat: the USTAR magic alone (any version), or the GNU magic with its version; else V7.
  const ustar = magic === 'ustar\0';
  const gnu = magic === 'ustar ' && version === ' \0';
  const star = ustar && block.toString('latin1', 508, 512) === 'tar\0';
  const field = (offset: number, length: number, what: string): number => {
    const value = numeric(block, offset, length);
    if (value === undefined) throw new TarFormatError(`the header at offset ${at} has an invalid ${what} field`);
    return value;
  };
  let name = cString(block, 0, 100);
  const header: RawHeader = {
    name,
    linkname: cString(block, 157, 100),
    typeflag: String.fromCharCode(block[156]!),
    mode: field(100, 8, 'mode'),
    uid: field(108, 8, 'uid'),
    gid: field(116, 8, 'gid'),
    size: field(124, 12, 'size'),
    mtime: String(field(136, 12, 'mtime')),
  };
  if (ustar || gnu) {
    field(329, 8, 'devmajor');
    field(337, 8, 'devminor');
  }
  let prefix = '';
  if (ustar) {
    prefix = cString(block, 345, star ? 131 : 155);
    if (star) {
      field(476, 12, 'atime');
      field(488, 12, 'ctime');
    }
  } else if (gnu) {
    // Go reads GNU atime and ctime skeptically: one that is set but not a number marks a file an old Go (before
    // 1.8) wrote with a USTAR prefix there, and an ASCII one is taken as the prefix.
    const garbled = (offset: number) => block[offset] !== 0 && numeric(block, offset, 12) === undefined;
    const old = cString(block, 345, 155);
    if ((garbled(345) || garbled(357)) && !/[\x80-\xff]/.test(old)) prefix = old;
  }
  if (prefix) name = `${prefix}/${name}`;
  header.name = name;
  return header;
}

/** Up to the first NUL, bytes as latin1 code units. */
function cString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul === -1 ? field.length : nul);
}

/** Go's parseNumeric: base-256 when the top bit is set (two's complement), else octal; undefined when invalid. */
function numeric(buf: Buffer, offset: number, length: number): number | undefined {
  const first = buf[offset]!;
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    let x = 0n;
    for (let i = 0; i < length; i++) {
      let c = buf[offset + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      x = (x << 8n) | BigInt(c);
    }
    if (x >> 63n > 0n) return undefined; // Go's uint64 overflow checks, both caught here (BigInt does not wrap)
    // Beyond 2^53 no layer can hold it: clamp, so that reading its content ends as a truncation, as in Go.
    return Math.min(Number.MAX_SAFE_INTEGER, Math.max(Number.MIN_SAFE_INTEGER, Number(inv ? -x - 1n : x)));
  }
  return octal(buf, offset, length);
}

/** Go's parseOctal: trim spaces and NULs at both ends, cut at a NUL, then only octal digits. */
function octal(buf: Buffer, offset: number, length: number): number | undefined {
  let start = offset;
  let end = offset + length;
  while (start < end && (buf[start] === 0x20 || buf[start] === 0)) start++;
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0)) end--;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === 0) break;
    if (c < 0x30 || c > 0x37) return undefined;
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** Go's parsePAX / parsePAXRecord: `<len> <key>=<value>\n` records, strictly. */
function parsePax(content: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>();
  const sparseMap: string[] = [];
  const bad = (why: string) => new TarFormatError(`the PAX header at offset ${at} is not valid (${why})`);
  let pos = 0;
  while (pos < content.length) {
    const space = content.indexOf(0x20, pos);
    if (space === -1) throw bad('a record has no length');
    const length = decimal(content.toString('latin1', pos, space));
    if (length === undefined || length < 5 || length > content.length - pos) throw bad('a record length is wrong');
    const end = pos + length;
    // (A record that ends inside its length has a digit or the space there.)
    if (content[end - 1] !== 0x0a) throw bad('a record does not end with a newline');
    const record = content.toString('latin1', space + 1, end - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw bad('a record has no key');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    const nulChecked = key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname' ? value : key;
    if (nulChecked.includes('\0')) throw bad(`record ${key} holds a NUL`);
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
      const expected = sparseMap.length % 2 === 0 ? 'GNU.sparse.offset' : 'GNU.sparse.numbytes';
      if (key !== expected || value.includes(',')) throw bad('sparse records out of order');
      sparseMap.push(value);
    } else {
      records.set(key, value);
    }
    pos = end;
  }
  if (sparseMap.length) records.set('GNU.sparse.map', sparseMap.join(','));
  return records;
}

/** The PAX sparse format of an entry (Go's readGNUSparsePAXHeaders), or undefined when it is not sparse. */
function sparseOf(pax: Map<string, string> | undefined, at: number): Sparse | undefined {
  if (!pax) return undefined;
  const major = pax.get('GNU.sparse.major') ?? '';
  const minor = pax.get('GNU.sparse.minor') ?? '';
  let is1x0: boolean;
  if (major === '0' && (minor === '0' || minor === '1')) is1x0 = false;
  else if (major === '1' && minor === '0') is1x0 = true;
  else if (major !== '' || minor !== '') return undefined; // an unknown version: Go reads it as a plain file
  else if (pax.get('GNU.sparse.map')) is1x0 = false;
  else return undefined;
  const sparse: Sparse = { mapInData: is1x0, mapChunks: [], mapLength: 0, mapNewlines: 0 };
  if (!is1x0) {
    const count = decimal(pax.get('GNU.sparse.numblocks') ?? '') ?? -1; // invalid: no map has -2 numbers
    const map = pax.get('GNU.sparse.map') ?? '';
    const numbers = map === '' ? [] : map.split(',');
    if (numbers.length !== 2 * count) throw new TarFormatError(`the sparse map of the entry at offset ${at} is not valid`);
    const fragments: [number, number][] = [];
    for (let i = 0; i < count; i++) {
      const offset = decimal(numbers[2 * i]!);
      const length = decimal(numbers[2 * i + 1]!);
      if (offset === undefined || length === undefined) throw new TarFormatError(`the sparse map of the entry at offset ${at} is not valid`);
      fragments.push([offset, length]);
    }
    sparse.fragments = fragments;
  }
  return sparse;
}

/** strconv.ParseInt(s, 10, 64): optional sign, decimal digits only. */
function decimal(text: string): number | undefined {
  if (!/^[+-]?\d{1,19}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

function paxInteger(value: string, key: string, at: number): number {
  const n = decimal(value);
  if (n === undefined) throw new TarFormatError(`the PAX record ${key}=${value.slice(0, 40)} of the entry at offset ${at} is not a number`);
  return n;
}

/** Go's parsePAXTime: seconds as strconv.ParseInt(s, 10, 64), then optionally a dot and only digits. */
function paxTime(value: string, key: string, at: number): void {
  const m = /^([+-]?)0*(\d{1,19})(\.\d*)?$/.exec(value);
  const seconds = m ? BigInt(`${m[1]}${m[2]}`) : undefined;
  if (seconds === undefined || seconds < -(2n ** 63n) || seconds >= 2n ** 63n) throw new TarFormatError(`the PAX record ${key}=${value.slice(0, 40)} of the entry at offset ${at} is not a time`);
}

function byteLength(latin1: string): number {
  return latin1.length; // one code unit per byte
}

function metaName(typeflag: string): string {
  return typeflag === 'L' ? 'GNU long name' : typeflag === 'K' ? 'GNU long link name' : 'PAX header';
}

function describeType(typeflag: string): string {
  const code = typeflag.charCodeAt(0);
  return code >= 0x21 && code < 0x7f ? `'${typeflag}'` : `0x${code.toString(16).padStart(2, '0')}`;
}
