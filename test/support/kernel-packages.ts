/**
 * Kernel headers packages made on the fly for tests: .deb (ar + control.tar.gz + data.tar.{gz,xz,zst}), .rpm
 * (lead, signature and main headers, a compressed cpio "newc" payload) and tarballs, from a list of entries.
 * The headers trees are tiny but shaped like the real ones (Debian's split, Red Hat's /usr/src/kernels).
 */
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';

export type Entry = { path: string; body?: string; mode?: number; symlink?: string; dir?: boolean };

/** Debian's three packages for one kernel: the arch tree, -common and kbuild, as entries per package. */
export function debianHeaders(abi: string, debArch: 'amd64' | 'arm64', upstream = '6.1.192'): { arch: Entry[]; common: Entry[]; kbuild: Entry[] } {
  const rel = `${abi}-${debArch}`;
  const tree = `./usr/src/linux-headers-${rel}`;
  return {
    arch: [
      { path: './usr/', dir: true },
      { path: './usr/src/', dir: true },
      { path: `${tree}/`, dir: true },
      { path: `${tree}/.config`, body: debArch === 'amd64' ? 'CONFIG_64BIT=y\nCONFIG_X86_64=y\n' : 'CONFIG_64BIT=y\nCONFIG_ARM64=y\n' },
      { path: `${tree}/Makefile`, body: `include /usr/src/linux-headers-${abi}-common/Makefile\n` },
      { path: `${tree}/include/config/kernel.release`, body: `${upstream}\n` },
      { path: `${tree}/include/generated/utsrelease.h`, body: `#define UTS_RELEASE "${rel}"\n` },
      { path: `${tree}/scripts`, symlink: '../../lib/linux-kbuild-6.1/scripts' },
      { path: `./lib/modules/${rel}/build`, symlink: `/usr/src/linux-headers-${rel}` },
    ],
    common: [
      { path: `./usr/src/linux-headers-${abi}-common/Makefile`, body: 'VERSION = 6\n' },
      { path: `./usr/src/linux-headers-${abi}-common/include/linux/module.h`, body: '/* module.h */\n' },
    ],
    kbuild: [{ path: './usr/lib/linux-kbuild-6.1/scripts/basic/fixdep', body: '\x7fELF fixdep', mode: 0o755 }],
  };
}

/** Red Hat's kernel-devel: one tree at /usr/src/kernels/<release>. */
export function redhatHeaders(release: string, arch: 'x86_64' | 'aarch64'): Entry[] {
  const tree = `./usr/src/kernels/${release}`;
  return [
    { path: './usr/src/kernels', dir: true },
    { path: tree, dir: true },
    { path: `${tree}/.config`, body: arch === 'x86_64' ? 'CONFIG_X86_64=y\n' : 'CONFIG_ARM64=y\n' },
    { path: `${tree}/Makefile`, body: 'VERSION = 5\n' },
    { path: `${tree}/include/config/kernel.release`, body: `${release}\n` },
    { path: `${tree}/scripts/basic/fixdep`, body: '\x7fELF fixdep', mode: 0o755 },
  ];
}

/**
 * Every entry's mtime, so a fixture is the same bytes on every run (tar-stream stamps the current time otherwise,
 * and a compressed frame's checksum then changes every second).
 */
export const FIXTURE_MTIME = new Date('2024-01-01T00:00:00Z');

export async function makeTar(entries: Entry[], mtime: Date = FIXTURE_MTIME): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    if (e.dir) pack.entry({ name: e.path, type: 'directory', mode: e.mode ?? 0o755, mtime });
    else if (e.symlink) pack.entry({ name: e.path, type: 'symlink', linkname: e.symlink, mtime });
    else pack.entry({ name: e.path, mode: e.mode ?? 0o644, mtime }, e.body ?? '');
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export type Compression = 'gz' | 'xz' | 'zst';

export async function compress(data: Buffer, how: Compression): Promise<Buffer> {
  if (how === 'gz') return gzipSync(data);
  // stripFinalNewline: false, or execa cuts a final 0x0a byte off binary output too (a zstd checksum ending in it).
  const r = await execa(how === 'xz' ? 'xz' : 'zstd', ['-c', '-q'], { input: data, encoding: 'buffer', stripFinalNewline: false, maxBuffer: 1 << 30 });
  return Buffer.from(r.stdout);
}

function arMember(name: string, data: Buffer): Buffer {
  const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), data, data.length % 2 ? Buffer.from('\n') : Buffer.alloc(0)]);
}

export async function makeDeb(entries: Entry[], arch: string, how: Compression = 'xz', mtime: Date = FIXTURE_MTIME): Promise<Buffer> {
  const control = gzipSync(await makeTar([{ path: './control', body: `Package: test\nVersion: 1\nArchitecture: ${arch}\n` }], mtime));
  const data = await compress(await makeTar(entries, mtime), how);
  return Buffer.concat([Buffer.from('!<arch>\n'), arMember('debian-binary', Buffer.from('2.0\n')), arMember('control.tar.gz', control), arMember(`data.tar.${how}`, data)]);
}

/** An RPM header structure with no entries and an `store`-byte store (enough for a reader that skips it). */
function rpmHeader(store: number): Buffer {
  const h = Buffer.alloc(16 + store);
  h.writeUInt32BE(0x8eade801, 0);
  h.writeUInt32BE(0, 8);
  h.writeUInt32BE(store, 12);
  return h;
}

function cpioEntry(name: string, mode: number, data: Buffer, ino: number, nlink = 1): Buffer {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
  const head = Buffer.from(`070701${fields.map(hex).join('')}`, 'latin1');
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([head, nameBytes, pad(110 + nameBytes.length), data, pad(data.length)]);
}

export async function makeRpm(entries: Entry[], how: Compression = 'xz', extra: Buffer[] = []): Promise<Buffer> {
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  const signature = rpmHeader(5); // 21 bytes: padded to 8 before the main header
  const parts = entries.map((e, i) => {
    if (e.dir) return cpioEntry(e.path, 0o040755, Buffer.alloc(0), i + 1);
    if (e.symlink) return cpioEntry(e.path, 0o120777, Buffer.from(e.symlink), i + 1);
    return cpioEntry(e.path, 0o100000 | (e.mode ?? 0o644), Buffer.from(e.body ?? ''), i + 1);
  });
  const cpio = Buffer.concat([...parts, ...extra, cpioEntry('TRAILER!!!', 0, Buffer.alloc(0), 0)]);
  return Buffer.concat([lead, signature, Buffer.alloc(3), rpmHeader(12), await compress(cpio, how)]);
}

export { cpioEntry };
