/**
 * The tar reader's corners, byte by byte, as Go's archive/tar reads them (the runtime differential in
 * test/integration/tar-differential.test.ts checks the same corners against umoci): header fields and formats,
 * checksums, numbers, meta entries (PAX, GNU long names), PAX sparse files, the end marker, the caps, the
 * streaming interface (chunks, skipContent, offsets) and the exact messages.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK, MAX_LINK_BYTES, MAX_PATH_BYTES, MAX_SPECIAL_BYTES, TarFormatError, TarReader, type TarEntry } from '../../src/core/tar.js';
import { END, ZERO_BLOCK, header, paxRecords, tarDir, tarFile, tarGnuLong, tarPax, tarSymlink, type RawHeader } from '../support/tar-corpus.js';

type Read = { entries: (TarEntry & { data?: string; ends: number })[]; error?: string; kind?: string; done: boolean };

/** Read `tar` in chunks of `chunk` bytes (whole by default), handing `want` content bytes of each file. */
function read(tar: Buffer, { chunk = tar.length, want = 1 << 20 }: { chunk?: number; want?: number } = {}): Read {
  const entries: Read['entries'] = [];
  const reader = new TarReader({
    entry: (e) => {
      entries.push({ ...e, ends: 0 });
      return e.type === 'file' ? want : 0;
    },
    data: (b) => {
      const last = entries[entries.length - 1]!;
      last.data = (last.data ?? '') + Buffer.from(b).toString('latin1');
    },
    entryEnd: () => {
      entries[entries.length - 1]!.ends++;
    },
  });
  try {
    for (let at = 0; at < tar.length; at += Math.max(chunk, 1)) reader.push(tar.subarray(at, at + Math.max(chunk, 1)));
    reader.end();
    return { entries, done: reader.done };
  } catch (err) {
    if (!(err instanceof TarFormatError)) throw err;
    return { entries, error: err.message, kind: err.kind, done: reader.done };
  }
}
const errorOf = (tar: Buffer) => read(tar).error;

/** Recompute the checksum of a header block edited in place (as unsigned bytes, or as Go's signed sum). */
function sum(block: Buffer, signed = false): Buffer {
  block.fill(0x20, 148, 156);
  let s = 0;
  for (const b of block) s += signed && b >= 0x80 ? b - 256 : b;
  block.write(`${(s < 0 ? s + 0 : s).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}
/** A header with raw bytes written at offsets, checksum fixed. */
function patched(h: RawHeader, patches: [offset: number, bytes: Buffer | string][]): Buffer {
  const block = header(h);
  for (const [offset, bytes] of patches) (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')).copy(block, offset);
  return sum(block);
}
/** A base-256 field of `length` bytes (two's complement, top bit set). */
function b256(value: bigint, length: number): Buffer {
  const field = Buffer.alloc(length);
  let v = value < 0n ? (1n << BigInt(8 * length)) + value : value;
  for (let i = length - 1; i >= 0; i--) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  field[0] = (field[0]! & 0x7f) | 0x80 | (value < 0n ? 0x40 : 0);
  return field;
}
const pad = (content: Buffer) => Buffer.concat([content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK)]);
const file = (name: string, content: string, extra: Partial<RawHeader> = {}) => tarFile(name, content, 0o644, extra);
const entry = (e: Partial<TarEntry>): TarEntry => ({ name: '', linkname: '', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: '1700000000', ...e });

describe('headers', () => {
  it('read name, link, mode, uid, gid and size; every type the runtimes unpack', () => {
    const types = { 0: 'file', 1: 'hardlink', 2: 'symlink', 3: 'char', 4: 'block', 5: 'dir', 6: 'fifo' } as const;
    const tar = Buffer.concat([
      ...Object.keys(types).map((t) =>
        t === '0' ? file('f', 'abc', { linkname: 'ignored' }) : patched({ name: `t${t}`, type: t, linkname: 'target', mode: 0o750 }, [[108, '0001750\0'], [116, '0000012\0']]),
      ),
      END,
    ]);
    const r = read(tar);
    expect(r.error).toBeUndefined();
    expect(r.done).toBe(true);
    expect(r.entries.map((e) => e.type)).toEqual(Object.values(types));
    expect(r.entries[0]).toEqual({ ...entry({ name: 'f', linkname: 'ignored', size: 3 }), data: 'abc', ends: 1 });
    expect(r.entries[2]).toEqual({ ...entry({ name: 't2', linkname: 'target', type: 'symlink', mode: 0o750, uid: 1000, gid: 10 }), ends: 1 });
  });

  it('header-only types have no content whatever their size says: the next block is the next header', () => {
    for (const type of ['1', '2', '3', '4', '5', '6']) {
      const r = read(Buffer.concat([header({ name: 'x', type, linkname: 't', size: 3 * BLOCK }), file('next', 'n'), END]));
      expect(r.entries.map((e) => [e.name, e.size]), type).toEqual([
        ['x', 0],
        ['next', 1],
      ]);
    }
  });

  it("a '\\0' typeflag is a directory with a trailing slash, a file without", () => {
    const r = read(Buffer.concat([header({ name: 'd/', type: '\0', size: 0 }), header({ name: 'f', type: '\0', size: 2 }), pad(Buffer.from('hi')), END]));
    expect(r.entries.map((e) => [e.name, e.type, e.size, e.data])).toEqual([
      ['d/', 'dir', 0, undefined],
      ['f', 'file', 2, 'hi'],
    ]);
  });

  it('names are cut at the first NUL, or take the whole field; bytes are latin1 code units', () => {
    const full = 'n'.repeat(100);
    const r = read(Buffer.concat([patched({ name: 'x' }, [[0, full], [157, 'l'.repeat(100)]]), patched({ name: 'a\0b' }, [[0, 'caf\xe9\0zz']]), END]));
    expect(r.entries.map((e) => [e.name, e.linkname])).toEqual([
      [full, 'l'.repeat(100)],
      ['caf\xe9', ''],
    ]);
  });

  it('a USTAR prefix is joined; a GNU or V7 header has no prefix; a star header has a 131-byte one', () => {
    const prefix: [number, string][] = [[345, 'usr/bin']];
    expect(read(Buffer.concat([patched({ name: 'gcc' }, prefix), END])).entries[0]!.name).toBe('usr/bin/gcc');
    expect(read(Buffer.concat([patched({ name: 'gcc', format: 'gnu' }, [[345, '00000000000\0']]), END])).entries[0]!.name).toBe('gcc');
    expect(read(Buffer.concat([patched({ name: 'gcc', format: 'v7' }, prefix), END])).entries[0]!.name).toBe('gcc');
    // USTAR magic with any version is USTAR.
    expect(read(Buffer.concat([patched({ name: 'gcc' }, [...prefix, [263, 'xy']]), END])).entries[0]!.name).toBe('usr/bin/gcc');
    // star: the prefix stops at 476, where atime (then ctime) start; both must be numbers.
    const star: [number, string][] = [[345, 'p'.repeat(131)], [476, '00000000000\0'], [488, '00000000000\0'], [508, 'tar\0']];
    expect(read(Buffer.concat([patched({ name: 'gcc' }, star), END])).entries[0]!.name).toBe(`${'p'.repeat(131)}/gcc`);
    expect(errorOf(Buffer.concat([patched({ name: 'gcc' }, [...star, [476, 'x']]), END]))).toBe('the header at offset 0 has an invalid atime field');
    expect(errorOf(Buffer.concat([patched({ name: 'gcc' }, [...star, [488, 'x']]), END]))).toBe('the header at offset 0 has an invalid ctime field');
    // Without the star trailer the same bytes are a 155-byte prefix and no times.
    expect(read(Buffer.concat([patched({ name: 'gcc' }, [[345, 'p'.repeat(131)], [476, 'qq']]), END])).entries[0]!.name).toBe(`${'p'.repeat(131)}qq/gcc`);
  });

  it('a GNU header whose atime or ctime is garbled has the USTAR prefix an old Go wrote there, if ASCII', () => {
    const gnu = (patches: [number, string][]) => read(Buffer.concat([patched({ name: 'gcc', format: 'gnu' }, patches), END]));
    expect(gnu([[345, 'usr/bin']])).toMatchObject({ entries: [{ name: 'usr/bin/gcc' }] });
    expect(gnu([[345, '00000000000\0'], [357, 'x']])).toMatchObject({ entries: [{ name: '00000000000/gcc' }] });
    expect(gnu([[345, '00000000000\0'], [357, '00000000000\0']])).toMatchObject({ entries: [{ name: 'gcc' }] });
    expect(gnu([[345, '\0\0\0\0\0\0\0\0\0\0\0\0'], [357, '00000000000\0']])).toMatchObject({ entries: [{ name: 'gcc' }] });
    expect(gnu([[345, '00000000000\0'], [357, '\0x']])).toMatchObject({ entries: [{ name: 'gcc' }] });
    expect(gnu([[345, 'caf\xe9']])).toMatchObject({ entries: [{ name: 'gcc' }] });
    expect(gnu([[345, 'caf\x7f']])).toMatchObject({ entries: [{ name: 'caf\x7f/gcc' }] });
  });

  it('device numbers are checked in USTAR and GNU headers, not in V7 ones (GNU needs its version too)', () => {
    const bad = (format: RawHeader['format'], offset: number, version?: string) =>
      errorOf(Buffer.concat([patched({ name: 'n', format }, [[offset, 'zz'], ...(version ? [[263, version] as [number, string]] : [])]), END]));
    expect(bad('ustar', 329)).toBe('the header at offset 0 has an invalid devmajor field');
    expect(bad('ustar', 337)).toBe('the header at offset 0 has an invalid devminor field');
    expect(bad('gnu', 329)).toBe('the header at offset 0 has an invalid devmajor field');
    expect(bad('v7', 329)).toBeUndefined();
    expect(bad('gnu', 329, '00')).toBeUndefined();
    expect(bad('v7', 329, ' \0')).toBeUndefined();
  });

  it('every numeric field must be a number', () => {
    const fields: [string, number][] = [
      ['mode', 100],
      ['uid', 108],
      ['gid', 116],
      ['size', 124],
      ['mtime', 136],
    ];
    for (const [what, offset] of fields) {
      expect(errorOf(Buffer.concat([tarDir('x/'), patched({ name: 'n' }, [[offset, '12x']]), END]))).toBe(`the header at offset 512 has an invalid ${what} field`);
    }
  });
});

describe('checksums', () => {
  it('are the unsigned or the signed byte sum with the field as spaces; anything else is not a header', () => {
    const high = (signed: boolean) => {
      const block = header({ name: 'x' });
      block.write('\xe9\xe9', 0, 'latin1');
      return sum(block, signed);
    };
    expect(read(Buffer.concat([high(false), END])).entries[0]!.name).toBe('\xe9\xe9');
    expect(read(Buffer.concat([high(true), END])).entries[0]!.name).toBe('\xe9\xe9');
    expect(errorOf(Buffer.concat([tarDir('a/'), header({ name: 'x', badChecksum: true }), END]))).toBe('the header at offset 512 is not a tar header (bad checksum)');
    const block = header({ name: 'x' });
    block.write('0000000\0', 148, 'latin1');
    expect(errorOf(Buffer.concat([block, END]))).toBe('the header at offset 0 is not a tar header (bad checksum)');
    block.write('garbage\0', 148, 'latin1');
    expect(errorOf(Buffer.concat([block, END]))).toBe('the header at offset 0 is not a tar header (bad checksum)');
    // One byte off at the very end of the block is a bad checksum too (the whole block is summed).
    const last = header({ name: 'x' });
    last[511] = 1;
    expect(errorOf(Buffer.concat([last, END]))).toMatch(/bad checksum/);
  });
});

describe('numbers', () => {
  it('octal: spaces and NULs around, cut at a NUL inside; only octal digits', () => {
    const size = (field: string) => read(Buffer.concat([header({ name: 'a', sizeField: Buffer.from(field, 'latin1') }), Buffer.alloc(2 * BLOCK), END]));
    expect(size('\0  0000012 \0').entries[0]!.size).toBe(10);
    expect(size('12\0x34567890').entries[0]!.size).toBe(10);
    expect(size('            ').entries[0]!.size).toBe(0);
    expect(size('777\0        ').entries[0]!.size).toBe(511);
    expect(size('8\0          ').error).toBe('the header at offset 0 has an invalid size field');
    expect(size('/\0          ').error).toBe('the header at offset 0 has an invalid size field');
  });

  it('base-256: two\'s complement, at most 63 bits, beyond 2^53 clamped', () => {
    const uid = (value: bigint, field = b256(value, 8)) => {
      const r = read(Buffer.concat([patched({ name: 'n', type: '5' }, [[108, field]]), END]));
      return r.error ?? r.entries[0]!.uid;
    };
    expect(uid(0n)).toBe(0);
    expect(uid(1000n)).toBe(1000);
    expect(uid(-1n)).toBe(-1);
    expect(uid(-1000n)).toBe(-1000);
    expect(uid(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(uid(2n ** 53n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(uid(-(2n ** 53n) + 1n)).toBe(Number.MIN_SAFE_INTEGER);
    expect(uid(-(2n ** 53n))).toBe(Number.MIN_SAFE_INTEGER);
    const size = (field: Buffer) => read(Buffer.concat([patched({ name: 'n', type: '5' }, [[124, field]]), END]));
    expect(size(b256(2n ** 63n - 1n, 12)).entries[0]).toMatchObject({ size: 0 });
    expect(size(Buffer.from([0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0])).error).toBe('the header at offset 0 has an invalid size field');
    expect(size(Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])).error).toBe('the header at offset 0 has an invalid size field');
    expect(size(Buffer.from([0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).error).toBeUndefined();
    expect(size(Buffer.from([0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).error).toBe('the header at offset 0 has an invalid size field');
    // A negative size is refused even for an entry that has no content.
    expect(read(Buffer.concat([file('a', 'x'), header({ name: 'n', sizeField: b256(-1n, 12) }), END])).error).toBe('the entry at offset 1024 has a negative size');
    expect(read(Buffer.concat([patched({ name: 'n', type: '2' }, [[124, b256(-1n, 12)]]), END])).error).toBeUndefined();
    expect(read(Buffer.concat([header({ name: 'n', sizeField: b256(5n, 12) }), pad(Buffer.from('hello')), END])).entries[0]).toMatchObject({ size: 5, data: 'hello' });
  });
});

describe('the end', () => {
  it('two zero blocks end the archive; nothing after them is read', () => {
    const r = read(Buffer.concat([file('a', 'x'), END, Buffer.from('junk')]));
    expect(r).toMatchObject({ done: true, entries: [{ name: 'a' }] });
    expect(r.error).toBeUndefined();
  });

  it('one zero block then data is refused, one then the end of input is not', () => {
    expect(errorOf(Buffer.concat([file('a', 'x'), ZERO_BLOCK, file('b', 'y')]))).toBe(
      "a single zero block at offset 1024 is followed by more data (Go's archive/tar refuses this)",
    );
    expect(read(Buffer.concat([file('a', 'x'), ZERO_BLOCK]))).toMatchObject({ done: false, entries: [{ name: 'a' }] });
    expect(read(Buffer.concat([file('a', 'x'), ZERO_BLOCK])).error).toBeUndefined();
  });

  it('the end of input at a header boundary or in padding is clean; in a header or content it is a truncation', () => {
    const tar = file('a', 'xyz');
    expect(read(tar).error).toBeUndefined();
    expect(read(tar.subarray(0, 600)).error).toBeUndefined();
    expect(read(tar.subarray(0, 515)).error).toBeUndefined();
    expect(read(tar.subarray(0, 514)).error).toBe('the archive ends in the middle of the entry at offset 0 (truncated)');
    expect(read(Buffer.concat([tar, tar.subarray(0, 100)])).error).toBe('the archive ends in the middle of a header (truncated)');
    expect(read(Buffer.concat([tar, ZERO_BLOCK, ZERO_BLOCK.subarray(0, 10)])).error).toBe('the archive ends in the middle of a header (truncated)');
    expect(read(Buffer.concat([tar, tarPax({ path: 'p' }).subarray(0, 520)])).error).toBe('the archive ends in the middle of the entry at offset 1024 (truncated)');
    expect(read(Buffer.alloc(0))).toMatchObject({ entries: [], done: false });
    // An entry with no content, or an empty PAX header, as the last bytes: a clean end.
    expect(read(header({ name: 'f', size: 0 }))).toEqual({ entries: [{ ...entry({ name: 'f' }), ends: 1 }], done: false });
    expect(read(Buffer.concat([file('f', 'x'), tarPax(Buffer.alloc(0))]))).toMatchObject({ entries: [{ name: 'f' }] });
    expect(read(Buffer.concat([file('f', 'x'), tarPax(Buffer.alloc(0))])).error).toBeUndefined();
  });
});

describe('unknown typeflags', () => {
  it('are refused with the entry, its offset and the flag (printable or in hex)', () => {
    const flag = (type: string) => errorOf(Buffer.concat([file('a', 'x'), header({ name: 'odd', type }), END]));
    expect(flag('7')).toBe(`the entry "odd" at offset 1024 has typeflag '7', which container runtimes do not unpack`);
    expect(flag('S')).toMatch(/typeflag 'S',/);
    expect(flag('!')).toMatch(/typeflag '!',/);
    expect(flag('~')).toMatch(/typeflag '~',/);
    expect(flag(' ')).toMatch(/typeflag 0x20,/);
    expect(flag('\x7f')).toMatch(/typeflag 0x7f,/);
    expect(flag('\x01')).toMatch(/typeflag 0x01,/);
    expect(flag('\xff')).toMatch(/typeflag 0xff,/);
  });
});

describe('PAX headers', () => {
  it('set path, linkpath, size, uid and gid of the next entry only; empty values keep the header', () => {
    const r = read(
      Buffer.concat([
        tarPax({ path: 'long/name', uid: '1001', gid: '1002', size: '4', comment: 'x', mtime: '1700000000.5' }),
        file('short', 'abcdefgh'),
        file('next', 'n'),
        tarPax({ linkpath: 'there', path: '', size: '' }),
        tarSymlink('link', 'here'),
        END,
      ]),
    );
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.name, e.linkname, e.size, e.uid, e.gid, e.data])).toEqual([
      ['long/name', '', 4, 1001, 1002, 'abcd'],
      ['next', '', 1, 0, 0, 'n'],
      ['link', 'there', 0, 0, 0, undefined],
    ]);
    // The PAX mtime (with its fraction) for its entry, the header's seconds for the others.
    expect(r.entries.map((e) => e.mtime)).toEqual(['1700000000.5', '1700000000', '1700000000']);
  });

  it('a PAX size wins over the header size, the content read accordingly', () => {
    const r = read(Buffer.concat([tarPax({ size: '600' }), header({ name: 'f', size: 0 }), pad(Buffer.alloc(600, 0x61)), file('b', 'b'), END]));
    expect(r.entries.map((e) => [e.name, e.size, e.data?.length])).toEqual([
      ['f', 600, 600],
      ['b', 1, 1],
    ]);
  });

  it('bad numbers and times are refused', () => {
    const bad = (records: Record<string, string>) => errorOf(Buffer.concat([tarPax(records), file('f', ''), END]));
    expect(bad({ size: 'x1' })).toBe('the PAX record size=x1 of the entry at offset 1024 is not a number');
    expect(bad({ uid: '1.5' })).toBe('the PAX record uid=1.5 of the entry at offset 1024 is not a number');
    expect(bad({ gid: '0x10' })).toBe('the PAX record gid=0x10 of the entry at offset 1024 is not a number');
    expect(bad({ uid: '9'.repeat(100) })).toBe(`the PAX record uid=${'9'.repeat(40)} of the entry at offset 1024 is not a number`);
    expect(bad({ size: '-5' })).toBe('the entry at offset 1024 has a negative size');
    expect(bad({ uid: '+5', gid: '-5', size: '0' })).toBeUndefined();
    for (const key of ['mtime', 'atime', 'ctime']) {
      for (const ok of ['0', '1700000000', '1700000000.123456789', '-1.5', '+3', '5.', '0001']) expect(bad({ [key]: ok }), `${key}=${ok}`).toBeUndefined();
      for (const wrong of ['.', '.5', '+', '-', '+.5', 'x', '1e5', '1.2.3', '1.x', ' 1', '1 ', '99999999999999999999']) {
        expect(bad({ [key]: wrong }), `${key}=${wrong}`).toBe(`the PAX record ${key}=${wrong} of the entry at offset 1024 is not a time`);
      }
    }
    expect(bad({ mtime: `1.${'x'.repeat(60)}` })).toBe(`the PAX record mtime=1.${'x'.repeat(38)} of the entry at offset 1024 is not a time`);
    // int64 seconds are fine.
    expect(bad({ mtime: '9223372036854775807' })).toBeUndefined();
    expect(bad({ mtime: '-9223372036854775808' })).toBeUndefined();
    expect(bad({ mtime: '9223372036854775808' })).toMatch(/is not a time/);
    expect(bad({ mtime: '-9223372036854775809' })).toMatch(/is not a time/);
    expect(bad({ mtime: `${'0'.repeat(30)}1.5` })).toBeUndefined();
  });

  it('records are strict', () => {
    const bad = (content: string) => errorOf(Buffer.concat([tarPax(Buffer.from(content, 'latin1')), file('f', ''), END]));
    const why = (reason: string) => `the PAX header at offset 0 is not valid (${reason})`;
    expect(bad('')).toBeUndefined();
    expect(bad('11 path=ab\n')).toBeUndefined();
    expect(bad('11path=ab\n')).toBe(why('a record has no length'));
    expect(bad('x1 path=ab\n')).toBe(why('a record length is wrong'));
    expect(bad('4 a\n')).toBe(why('a record length is wrong'));
    expect(bad('5 a=\n')).toBeUndefined();
    expect(bad('12 path=ab\n')).toBe(why('a record length is wrong'));
    expect(bad('10 path=ab\n')).toBe(why('a record does not end with a newline'));
    expect(bad('5    \n')).toBe(why('a record does not end with a newline'));
    expect(bad('6 ab=x\n')).toBe(why('a record does not end with a newline'));
    expect(bad('8 =abcd\n')).toBe(why('a record has no key'));
    expect(bad('8 abcde\n')).toBe(why('a record has no key'));
    expect(bad('12 path=a\0b\n')).toBe(why('record path holds a NUL'));
    expect(bad('16 linkpath=a\0b\n')).toBe(why('record linkpath holds a NUL'));
    expect(bad('13 uname=a\0b\n')).toBe(why('record uname holds a NUL'));
    expect(bad('13 gname=a\0b\n')).toBe(why('record gname holds a NUL'));
    expect(bad('15 comment=a\0b\n')).toBeUndefined();
    expect(bad('14 comm\0nt=ab\n')).toBe(why('record comm\0nt holds a NUL'));
    expect(bad('11 path=ab\n12 path=ab\n')).toBe(why('a record length is wrong'));
  });

  it('a global header is refused, after its records are checked', () => {
    expect(errorOf(Buffer.concat([file('a', ''), tarPax({ comment: 'x' }, 'g'), END]))).toBe(
      "the entry at offset 512 is a PAX global header (typeflag 'g'), which umoci refuses to unpack (containerd and podman skip it)",
    );
    expect(errorOf(Buffer.concat([tarPax(Buffer.from('x'), 'g'), END]))).toBe('the PAX header at offset 0 is not valid (a record has no length)');
    expect(errorOf(Buffer.concat([tarPax(Buffer.alloc(0), 'g'), END]))).toMatch(/PAX global header/);
  });

  it('an empty PAX header changes nothing', () => {
    expect(read(Buffer.concat([tarPax(Buffer.alloc(0)), file('f', 'x'), END])).entries).toMatchObject([{ name: 'f', data: 'x' }]);
  });

  it('a second PAX header replaces the first', () => {
    expect(read(Buffer.concat([tarPax({ path: 'one', uid: '5' }), tarPax({ path: 'two' }), file('f', ''), END])).entries).toMatchObject([{ name: 'two', uid: 0 }]);
  });
});

describe('GNU long names', () => {
  it('set the name and link of the next entry only, over PAX ones; empty ones keep the header', () => {
    const r = read(
      Buffer.concat([
        tarPax({ path: 'pax/name', linkpath: 'pax/link' }),
        tarGnuLong('gnu/name'),
        tarGnuLong('gnu/link', 'K'),
        tarSymlink('short', 'target'),
        tarSymlink('plain', 'target'),
        tarGnuLong(''),
        tarGnuLong('', 'K'),
        tarSymlink('kept', 'kept-target'),
        END,
      ]),
    );
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.name, e.linkname])).toEqual([
      ['gnu/name', 'gnu/link'],
      ['plain', 'target'],
      ['kept', 'kept-target'],
    ]);
  });

  it('are cut at their NUL, or whole without one', () => {
    const whole = Buffer.from('whole', 'latin1');
    const noNul = Buffer.concat([header({ name: '././@LongLink', type: 'L', size: whole.length, format: 'gnu' }), pad(whole)]);
    expect(read(Buffer.concat([noNul, file('f', ''), END])).entries[0]!.name).toBe('whole');
    const content = Buffer.from('long\0rest', 'latin1');
    const meta = Buffer.concat([header({ name: '././@LongLink', type: 'L', size: content.length, format: 'gnu' }), pad(content)]);
    expect(read(Buffer.concat([meta, file('f', ''), END])).entries[0]!.name).toBe('long');
    const empty = header({ name: '././@LongLink', type: 'L', size: 0, format: 'gnu' });
    expect(read(Buffer.concat([empty, file('f', 'x'), END])).entries).toMatchObject([{ name: 'f', data: 'x' }]);
  });
});

describe('caps', () => {
  it('a path of 4096 bytes, a link target of 4095', () => {
    expect([MAX_PATH_BYTES, MAX_LINK_BYTES, MAX_SPECIAL_BYTES]).toEqual([4096, 4095, 1048576]);
    const named = (name: string) => read(Buffer.concat([tarPax({ path: name }), file('f', ''), END]));
    expect(named('p'.repeat(4096)).entries[0]!.name).toHaveLength(4096);
    expect(named('p'.repeat(4097))).toMatchObject({ error: 'an entry path of 4097 bytes at offset 5120 is above the 4096-byte limit (PATH_MAX)', kind: 'limit' });
    expect(named('\xe9'.repeat(4097)).error).toMatch(/an entry path of 4097 bytes/);
    const linked = (type: string, target: string, name = 'l') => read(Buffer.concat([tarPax({ linkpath: target, path: name }), header({ name: 'x', type }), END]));
    for (const type of ['1', '2']) {
      expect(linked(type, 't'.repeat(4095)).entries[0]!.linkname).toHaveLength(4095);
      expect(linked(type, 't'.repeat(4096))).toMatchObject({ error: 'the link target of "l" is 4096 bytes, above the 4095-byte limit', kind: 'limit' });
    }
    expect(linked('2', 't'.repeat(4096), 'n'.repeat(300)).error).toBe(`the link target of "${'n'.repeat(200)}" is 4096 bytes, above the 4095-byte limit`);
    // Only links have targets that count.
    expect(linked('0', 't'.repeat(5000)).error).toBeUndefined();
    expect(linked('5', 't'.repeat(5000)).error).toBeUndefined();
  });

  it('meta entries of 1 MiB', () => {
    const record = (n: number) => {
      const body = ` comment=${'c'.repeat(n)}\n`;
      let len = body.length + 1;
      while (`${len}${body}`.length !== len) len++;
      return Buffer.from(`${len}${body}`);
    };
    let content = record(MAX_SPECIAL_BYTES - 20);
    content = record(MAX_SPECIAL_BYTES - 20 + (MAX_SPECIAL_BYTES - content.length));
    expect(content.length).toBe(MAX_SPECIAL_BYTES);
    expect(read(Buffer.concat([tarPax(content), file('f', 'x'), END])).entries).toMatchObject([{ name: 'f' }]);
    const over = (type: string) => read(Buffer.concat([file('a', ''), header({ name: 'm', type, size: MAX_SPECIAL_BYTES + 1 }), END]));
    expect(over('x')).toMatchObject({ error: 'a PAX header of 1048577 bytes at offset 512 is above the 1048576-byte limit', kind: 'limit' });
    expect(over('g').error).toBe('a PAX header of 1048577 bytes at offset 512 is above the 1048576-byte limit');
    expect(over('L').error).toBe('a GNU long name of 1048577 bytes at offset 512 is above the 1048576-byte limit');
    expect(over('K').error).toBe('a GNU long link name of 1048577 bytes at offset 512 is above the 1048576-byte limit');
    expect(read(Buffer.concat([header({ name: 'm', type: 'x', sizeField: b256(-1n, 12) }), END])).error).toBe('the entry at offset 0 has a negative size');
  });

  it('format errors are of kind invalid', () => {
    expect(read(Buffer.concat([header({ name: 'x', badChecksum: true })])).kind).toBe('invalid');
    expect(new TarFormatError('m')).toMatchObject({ name: 'TarFormatError', kind: 'invalid', message: 'm' });
  });
});

describe('PAX sparse files', () => {
  const sparse01 = (records: Record<string, string>, physical: Buffer, name = 'GNUSparseFile.0/tool') =>
    Buffer.concat([tarPax(records), header({ name, mode: 0o755, size: physical.length }), pad(physical), file('after', 'a'), END]);
  const v01 = { 'GNU.sparse.major': '0', 'GNU.sparse.minor': '1', 'GNU.sparse.name': 'bin/tool', 'GNU.sparse.size': '100' };

  it('0.1: the real name and size, the logical head (holes as zeros)', () => {
    const r = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '2', 'GNU.sparse.map': '2,3,10,2' }, Buffer.from('abcde')));
    expect(r.error).toBeUndefined();
    expect(r.entries[0]).toMatchObject({ name: 'bin/tool', size: 100, data: '\0\0abc\0\0\0\0\0de' + '\0'.repeat(88), ends: 1 });
    expect(r.entries[1]).toMatchObject({ name: 'after', data: 'a' });
  });

  it('hands over only the head the sink wants', () => {
    const r = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '2', 'GNU.sparse.map': '2,3,10,2' }, Buffer.from('abcde')), { want: 11 });
    expect(r.entries[0]!.data).toBe('\0\0abc\0\0\0\0\0d');
    const few = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '50,5' }, Buffer.from('abcde')), { want: 52 });
    expect(few.entries[0]!.data).toBe(`${'\0'.repeat(50)}ab`);
    const none = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,5' }, Buffer.from('abcde')), { want: 0 });
    expect(none.entries[0]).toMatchObject({ size: 100, ends: 1 });
    expect(none.entries[0]!.data).toBeUndefined();
    // At most 64 stored bytes are kept for the head.
    const long = read(sparse01({ ...v01, 'GNU.sparse.size': '200', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,100' }, Buffer.alloc(100, 0x62)));
    expect(long.entries[0]!.data).toBe('b'.repeat(64) + '\0'.repeat(136));
    expect(read(sparse01({ ...v01, 'GNU.sparse.size': '200', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,100' }, Buffer.alloc(100, 0x62)), { chunk: 10 })).toEqual(long);
    // Stored bytes past the first 64 are not kept: a later fragment shows as zeros (this was a RangeError).
    const later = read(sparse01({ ...v01, 'GNU.sparse.size': '200', 'GNU.sparse.numblocks': '2', 'GNU.sparse.map': '0,100,150,10' }, Buffer.alloc(110, 0x62)));
    expect(later.error).toBeUndefined();
    expect(later.entries[0]!.data).toBe('b'.repeat(64) + '\0'.repeat(136));
    // A fragment past the head the sink wants is left out.
    const past = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '2', 'GNU.sparse.map': '2,3,10,2' }, Buffer.from('abcde')), { want: 5 });
    expect(past.entries[0]!.data).toBe('\0\0abc');
    const small = read(sparse01({ ...v01, 'GNU.sparse.size': '3', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,3' }, Buffer.from('xyz')));
    expect(small.entries[0]).toMatchObject({ size: 3, data: 'xyz' });
    const empty = read(sparse01({ ...v01, 'GNU.sparse.size': '0', 'GNU.sparse.numblocks': '0', 'GNU.sparse.map': '' }, Buffer.alloc(0)));
    expect(empty.entries[0]).toMatchObject({ size: 0, ends: 1 });
    expect(empty.entries[0]!.data).toBeUndefined();
  });

  it('0.0: offset and numbytes records; no version records, found by the map', () => {
    const records = Buffer.concat([
      paxRecords({ 'GNU.sparse.name': 'bin/old', 'GNU.sparse.size': '10', 'GNU.sparse.numblocks': '2' }),
      paxRecords({ 'GNU.sparse.offset': '0' }),
      paxRecords({ 'GNU.sparse.numbytes': '1' }),
      paxRecords({ 'GNU.sparse.offset': '5' }),
      paxRecords({ 'GNU.sparse.numbytes': '2' }),
    ]);
    const r = read(Buffer.concat([tarPax(records), header({ name: 'x', size: 3 }), pad(Buffer.from('abc')), END]));
    expect(r.entries[0]).toMatchObject({ name: 'bin/old', size: 10, data: 'a\0\0\0\0bc\0\0\0' });
    const disorder = Buffer.concat([paxRecords({ 'GNU.sparse.numbytes': '1' }), paxRecords({ 'GNU.sparse.offset': '0' })]);
    expect(errorOf(Buffer.concat([tarPax(disorder), header({ name: 'x' }), END]))).toBe('the PAX header at offset 0 is not valid (sparse records out of order)');
    const twice = Buffer.concat([paxRecords({ 'GNU.sparse.offset': '0' }), paxRecords({ 'GNU.sparse.offset': '1' })]);
    expect(errorOf(Buffer.concat([tarPax(twice), header({ name: 'x' }), END]))).toBe('the PAX header at offset 0 is not valid (sparse records out of order)');
    const comma = paxRecords({ 'GNU.sparse.offset': '0,1' });
    expect(errorOf(Buffer.concat([tarPax(comma), header({ name: 'x' }), END]))).toBe('the PAX header at offset 0 is not valid (sparse records out of order)');
    const numbytesComma = Buffer.concat([paxRecords({ 'GNU.sparse.offset': '0' }), paxRecords({ 'GNU.sparse.numbytes': '1,2' })]);
    expect(errorOf(Buffer.concat([tarPax(numbytesComma), header({ name: 'x' }), END]))).toMatch(/sparse records out of order/);
  });

  it('0.0 with its version records; 0.1 without a map has no regions', () => {
    const r = read(sparse01({ ...v01, 'GNU.sparse.minor': '0', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '1,2' }, Buffer.from('ab')));
    expect(r.entries[0]).toMatchObject({ name: 'bin/tool', size: 100, data: `\0ab${'\0'.repeat(97)}` });
    const noMap = read(sparse01({ ...v01, 'GNU.sparse.numblocks': '0' }, Buffer.alloc(0)));
    expect(noMap.error).toBeUndefined();
    expect(noMap.entries[0]).toMatchObject({ name: 'bin/tool', size: 100, data: '\0'.repeat(100) });
    expect(read(sparse01(v01, Buffer.alloc(0))).error).toBe('the sparse map of the entry at offset 1024 is not valid');
  });

  it('an unknown version, or no version and no map, is a plain file', () => {
    for (const [major, minor] of [
      ['2', '0'],
      ['0', '2'],
      ['1', '1'],
      ['', '0'],
      ['1', ''],
    ] as const) {
      const records: Record<string, string> = { 'GNU.sparse.name': 'bin/tool', 'GNU.sparse.size': '100', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,1' };
      if (major) records['GNU.sparse.major'] = major;
      if (minor) records['GNU.sparse.minor'] = minor;
      const r = read(Buffer.concat([tarPax(records), header({ name: 'plain', size: 1 }), pad(Buffer.from('z')), END]));
      expect(r.entries[0], `${major}.${minor}`).toMatchObject({ name: 'plain', size: 1, data: 'z' });
    }
    const noMap = read(Buffer.concat([tarPax({ 'GNU.sparse.name': 'bin/tool', 'GNU.sparse.size': '100', 'GNU.sparse.map': '' }), header({ name: 'plain', size: 1 }), pad(Buffer.from('z')), END]));
    expect(noMap.entries[0]).toMatchObject({ name: 'plain', size: 1, data: 'z' });
    // 0.0 (found by its map) takes the real size from GNU.sparse.size, else GNU.sparse.realsize.
    const real = read(
      Buffer.concat([tarPax({ 'GNU.sparse.realsize': '7', 'GNU.sparse.size': '', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,1' }), header({ name: 'plain', size: 1 }), pad(Buffer.from('z')), END]),
    );
    expect(real.entries[0]).toMatchObject({ name: 'plain', size: 7, data: 'z\0\0\0\0\0\0' });
    const noSize = read(Buffer.concat([tarPax({ 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': '0,1', 'GNU.sparse.name': '' }), header({ name: 'plain', size: 1 }), pad(Buffer.from('z')), END]));
    expect(noSize.entries[0]).toMatchObject({ name: 'plain', size: 1, data: 'z' });
  });

  it('maps must be well formed, in order, inside the real size, and match the stored bytes', () => {
    const invalid = 'the sparse map of the entry at offset 1024 is not valid';
    const order = 'the sparse map of the entry at offset 1024 has regions out of order or beyond its size';
    const map = (numblocks: string, m: string, stored = 'abcde', size = '100') =>
      read(sparse01({ ...v01, 'GNU.sparse.size': size, 'GNU.sparse.numblocks': numblocks, 'GNU.sparse.map': m }, Buffer.from(stored))).error;
    expect(map('1', '0,5')).toBeUndefined();
    expect(map('2', '0,5')).toBe(invalid);
    expect(map('0', '0,5')).toBe(invalid);
    expect(map('x', '0,5')).toBe(invalid);
    expect(map('-1', '')).toBe(invalid);
    expect(map('1', '0,x')).toBe(invalid);
    expect(map('1', 'x,5')).toBe(invalid);
    expect(map('1', '0,5,')).toBe(invalid);
    expect(map('2', '0,2,2,3')).toBeUndefined();
    expect(map('2', '0,3,2,2')).toBe(order);
    expect(map('2', '5,1,0,4')).toBe(order);
    expect(map('1', '96,5')).toBe(order);
    expect(map('1', '95,5')).toBeUndefined();
    expect(map('1', '-1,5')).toBe(order);
    expect(map('1', '0,-5', '')).toBe(order);
    expect(map('2', '0,0,0,5')).toBeUndefined();
    expect(map('1', '0,4')).toBe('the sparse file at offset 1024 stores 5 bytes but its map describes 4');
    expect(map('1', '0,6')).toBe('the sparse file at offset 1024 stores 5 bytes but its map describes 6');
    expect(map('1', '0,5', 'abcde', 'x')).toBe('the PAX record GNU.sparse.size=x of the entry at offset 1024 is not a number');
    expect(map('0', '', '', '-1')).toBe('the entry at offset 1024 has a negative size');
  });

  it('a header-only entry cannot be sparse', () => {
    const r = read(Buffer.concat([tarPax({ ...v01, 'GNU.sparse.numblocks': '0', 'GNU.sparse.map': '' }), tarSymlink('l', 't'), END]));
    expect(r.error).toBe("the entry at offset 1024 has typeflag '2' and a PAX sparse map, which Go's archive/tar refuses");
  });

  const map10 = (text: string) => pad(Buffer.from(text, 'latin1'));
  const sparse10 = (map: Buffer, stored: Buffer, size = '4096') =>
    Buffer.concat([
      tarPax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'bin/tool', 'GNU.sparse.realsize': size }),
      header({ name: 'GNUSparseFile.0/tool', mode: 0o755, size: map.length + stored.length }),
      pad(Buffer.concat([map, stored])),
      file('after', 'a'),
      END,
    ]);

  it('1.0: the map in whole blocks at the start of the data', () => {
    const r = read(sparse10(map10('2\n1\n2\n10\n3\n'), Buffer.from('xyzuv')), { want: 16 });
    expect(r.error).toBeUndefined();
    expect(r.entries[0]).toMatchObject({ name: 'bin/tool', size: 4096, data: '\0xy\0\0\0\0\0\0\0zuv\0\0\0', ends: 1 });
    expect(r.entries[1]).toMatchObject({ name: 'after', data: 'a' });
    for (const chunk of [1, 7, 511, 512, 513]) expect(read(sparse10(map10('2\n1\n2\n10\n3\n'), Buffer.from('xyzuv')), { chunk, want: 16 }), `chunk ${chunk}`).toEqual(r);
  });

  it('1.0: a map over several blocks', () => {
    const numbers = Array.from({ length: 200 }, (_, i) => `${i * 10}\n2\n`).join('');
    const map = map10(`200\n${numbers}`);
    expect(map.length).toBeGreaterThan(BLOCK);
    const r = read(sparse10(map, Buffer.alloc(400, 0x71)), { want: 13 });
    expect(r.error).toBeUndefined();
    expect(r.entries[0]!.data).toBe('qq\0\0\0\0\0\0\0\0qq\0');
    for (const chunk of [100, 513, 700, 1500]) expect(read(sparse10(map, Buffer.alloc(400, 0x71)), { want: 13, chunk }), `chunk ${chunk}`).toEqual(r);
    // A first block without a newline waits for the next one.
    expect(read(sparse10(Buffer.alloc(BLOCK, 0x30), Buffer.alloc(0))).error).toBe('the sparse file at offset 1024 ends inside its sparse map');
  });

  it('1.0: bad maps', () => {
    const invalid = 'the sparse map of the entry at offset 1024 is not valid';
    expect(read(sparse10(map10('x\n'), Buffer.alloc(0))).error).toBe(invalid);
    expect(read(sparse10(map10('-1\n'), Buffer.alloc(0))).error).toBe(invalid);
    expect(read(sparse10(map10('1\nx\n3\n'), Buffer.from('abc'))).error).toBe(invalid);
    expect(read(sparse10(map10('1\n0\nx\n'), Buffer.from('abc'))).error).toBe(invalid);
    expect(read(sparse10(map10('1\n5000\n3\n'), Buffer.from('abc'))).error).toBe('the sparse map of the entry at offset 1024 has regions out of order or beyond its size');
    expect(read(sparse10(map10('0\n'), Buffer.alloc(0), '10')).error).toBeUndefined();
    expect(read(sparse10(map10('0\n'), Buffer.alloc(0), '10'))).toMatchObject({ entries: [{ name: 'bin/tool', size: 10, data: '\0'.repeat(10) }, { name: 'after' }] });
    // The data ends before the map does.
    expect(read(sparse10(Buffer.from('2\n1\n'), Buffer.alloc(0))).error).toBe('the sparse file at offset 1024 ends inside its sparse map');
    expect(read(sparse10(map10('2\n1\n2\n'), Buffer.alloc(0))).error).toBe('the sparse file at offset 1024 ends inside its sparse map');
    // Stored bytes must match the map.
    expect(read(sparse10(map10('1\n0\n3\n'), Buffer.from('abcd'))).error).toBe('the sparse file at offset 1024 stores 4 bytes but its map describes 3');
  });

  it('1.0: a map above 1 MiB is refused', () => {
    const blocks = MAX_SPECIAL_BYTES / BLOCK;
    const exact = Buffer.concat([Buffer.alloc(MAX_SPECIAL_BYTES - 4, 0x30), Buffer.from('0\n\n\n')]);
    expect(read(sparse10(exact, Buffer.alloc(0), '1')).entries[0]).toMatchObject({ size: 1 });
    const over = Buffer.alloc((blocks + 1) * BLOCK, 0x30);
    expect(read(sparse10(over, Buffer.alloc(0)))).toMatchObject({ error: 'the sparse map of the entry at offset 1024 is above the 1048576-byte limit', kind: 'limit' });
  });
});

describe('streaming', () => {
  const archive = Buffer.concat([
    tarPax({ path: 'pax/name', mtime: '1' }),
    file('a', 'x'.repeat(700)),
    tarGnuLong('gnu/name'),
    tarSymlink('s', 't'),
    file('exact', 'y'.repeat(BLOCK)),
    header({ name: 'empty', size: 0 }),
    file('b', 'bb'),
    END,
  ]);

  it('reads the same whatever the chunks', () => {
    const whole = read(archive);
    expect(whole.error).toBeUndefined();
    expect(whole.entries.map((e) => [e.name, e.size, e.data?.length ?? 0, e.ends])).toEqual([
      ['pax/name', 700, 700, 1],
      ['gnu/name', 0, 0, 1],
      ['exact', 512, 512, 1],
      ['empty', 0, 0, 1],
      ['b', 2, 2, 1],
    ]);
    for (const chunk of [1, 3, 100, 511, 512, 513, 1000]) expect(read(archive, { chunk }), `chunk ${chunk}`).toEqual(whole);
  });

  it('hands over only the bytes the sink wants, in order', () => {
    const r = read(Buffer.concat([file('a', 'abcdefgh'), END]), { want: 3, chunk: 514 });
    expect(r.entries[0]!.data).toBe('abc');
    const split = read(Buffer.concat([file('a', 'abcdefgh'), END]), { want: 5, chunk: 515 });
    expect(split.entries[0]!.data).toBe('abcde');
  });

  it('offset and position: where the content of an entry starts, and where its header is', () => {
    const seen: [string, number, number][] = [];
    const reader = new TarReader({
      entry: (e) => {
        seen.push([e.name, reader.offset, reader.position]);
        return 0;
      },
      data: () => {},
      entryEnd: () => {},
    });
    reader.push(archive);
    expect(seen).toEqual([
      ['pax/name', 1536, 1024],
      ['gnu/name', 4096, 3584],
      ['exact', 4608, 4096],
      ['empty', 5632, 5120],
      ['b', 6144, 5632],
    ]);
    expect(reader.done).toBe(true);
    expect(reader.offset).toBe(archive.length);
  });

  it('skipContent jumps over content nobody wants, and its padding', () => {
    const ends: string[] = [];
    let want = 0;
    const reader = new TarReader({
      entry: (e) => {
        ends.push(`entry ${e.name}`);
        return want;
      },
      data: (b) => ends.push(`data ${b.length}`),
      entryEnd: () => ends.push('end'),
    });
    const a = file('a', 'x'.repeat(700));
    reader.push(a.subarray(0, BLOCK));
    expect(reader.skipContent()).toBe(1024);
    expect(reader.offset).toBe(1536);
    expect(ends).toEqual(['entry a', 'end']);
    expect(reader.skipContent()).toBe(0);
    // Only the padding is left.
    const b = file('b', 'y'.repeat(10));
    reader.push(b.subarray(0, BLOCK + 10));
    expect(reader.skipContent()).toBe(502);
    expect(reader.offset).toBe(1536 + 1024);
    // No padding after a whole block.
    reader.push(file('c', 'z'.repeat(BLOCK)).subarray(0, BLOCK));
    expect(reader.skipContent()).toBe(BLOCK);
    // A sink that wants the content gets it: nothing is skipped.
    want = 4;
    reader.push(file('d', 'wxyz').subarray(0, BLOCK));
    expect(reader.skipContent()).toBe(0);
    reader.push(Buffer.concat([pad(Buffer.from('wxyz')), END]));
    expect(reader.done).toBe(true);
    expect(ends).toEqual(['entry a', 'end', 'entry b', 'end', 'entry c', 'end', 'entry d', 'data 4', 'end']);
  });

  it('skipContent between the two zero blocks of the end marker changes nothing', () => {
    const reader = new TarReader({ entry: () => 0, data: () => {}, entryEnd: () => {} });
    reader.push(Buffer.concat([file('a', ''), ZERO_BLOCK]));
    expect(reader.skipContent()).toBe(0);
    reader.push(ZERO_BLOCK);
    expect(reader.done).toBe(true);
  });

  it('two sparse files in a row', () => {
    const one = (name: string, stored: string) =>
      Buffer.concat([tarPax({ 'GNU.sparse.major': '0', 'GNU.sparse.minor': '1', 'GNU.sparse.name': name, 'GNU.sparse.size': '8', 'GNU.sparse.numblocks': '1', 'GNU.sparse.map': `4,${stored.length}` }), header({ name: 'x', size: stored.length }), pad(Buffer.from(stored))]);
    const r = read(Buffer.concat([one('a', 'abcd'), one('b', 'xy'), file('c', 'c'), END]));
    expect(r.entries.map((e) => [e.name, e.size, e.data])).toEqual([
      ['a', 8, '\0\0\0\0abcd'],
      ['b', 8, '\0\0\0\0xy\0\0'],
      ['c', 1, 'c'],
    ]);
  });

  it('skipContent does not skip a sparse file (its map is in the data)', () => {
    const reader = new TarReader({ entry: () => 0, data: () => {}, entryEnd: () => {} });
    const tar = Buffer.concat([
      tarPax({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '10' }),
      header({ name: 'x', size: BLOCK + 3 }),
      pad(Buffer.concat([pad(Buffer.from('1\n0\n3\n')), Buffer.from('abc')])),
      END,
    ]);
    reader.push(tar.subarray(0, 3 * BLOCK));
    expect(reader.skipContent()).toBe(0);
    reader.push(tar.subarray(3 * BLOCK));
    reader.end();
    expect(reader.done).toBe(true);
  });

  it('pushing after the end marker reads nothing', () => {
    const names: string[] = [];
    const reader = new TarReader({ entry: (e) => (names.push(e.name), 0), data: () => {}, entryEnd: () => {} });
    reader.push(Buffer.concat([file('a', ''), END]));
    reader.push(file('b', ''));
    reader.end();
    expect(names).toEqual(['a']);
    expect(reader.offset).toBe(3 * BLOCK);
  });
});
