/**
 * Headers packages from an attacker: staging cannot be steered out of its tree, every entry goes through the
 * caps as it is read, and a decoder child never outlives the unpacking, however it ends.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debArchitecture, unpackDeb, unpackRpm, unpackTarFile, uncpio } from '../../src/adapters/headers/packages.js';
import { stageHeaders } from '../../src/adapters/headers/stage.js';
import { StagingTree } from '../../src/adapters/headers/staging.js';
import { compress, cpioEntry, makeDeb, makeRpm, makeTar } from '../support/kernel-packages.js';

let dir: string;
let outside: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bi-headers-hostile-'));
  outside = join(dir, 'outside');
  await mkdir(outside);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let trees = 0;
async function tree(limits = { maxBytes: 64 * 1024 ** 2, maxEntries: 10_000 }): Promise<StagingTree> {
  const root = join(dir, `tree-${++trees}`);
  await mkdir(root);
  return new StagingTree(root, 'test package', limits);
}

/** Our own child processes of a command (xz, zstd, bzip2) that are still there. */
function decoderChildren(): string[] {
  const out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((c) => /^(xz|zstd|bzip2)$/.test(c.trim()));
}

async function noDecoderLeft(): Promise<void> {
  // Reaped means gone: give the kernel a moment to report the exit, then none may remain.
  for (let i = 0; i < 20 && decoderChildren().length; i++) await new Promise((r) => setTimeout(r, 50));
  expect(decoderChildren()).toEqual([]);
}

type RawEntry = Partial<tar.Header> & { name: string; body?: Buffer };

/** A tar with entries tar-stream can pack (fifos, big files) that the Entry helper does not. */
async function rawTar(entries: Iterable<RawEntry>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const { body, ...header } of entries) pack.entry(header, body ?? Buffer.alloc(0));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** An ar .deb around an already compressed data.tar. */
function debOf(data: Buffer, ext: string): Buffer {
  const member = (name: string, bytes: Buffer) =>
    Buffer.concat([Buffer.from(`${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(bytes.length).padEnd(10)}\`\n`, 'latin1'), bytes, Buffer.alloc(bytes.length % 2)]);
  return Buffer.concat([Buffer.from('!<arch>\n'), member('debian-binary', Buffer.from('2.0\n')), member(`data.tar.${ext}`, data)]);
}

const ZEROS = Buffer.alloc(32 * 1024 * 1024);

describe('staging cannot be steered', () => {
  const steer = () => [
    { path: 'esc', symlink: outside },
    { path: 'esc', dir: true, mode: 0o777 },
  ];

  it.each(['deb', 'tar', 'rpm'] as const)('a directory member over a symlink the %s made is refused, the outside left alone', async (kind) => {
    await chmod(outside, 0o755);
    const into = await tree();
    const run =
      kind === 'deb'
        ? unpackDeb(await makeDeb(steer(), 'amd64', 'gz'), into, 'evil.deb')
        : kind === 'rpm'
          ? unpackRpm(await makeRpm(steer(), 'gz'), into, 'evil.rpm')
          : writeFile(join(dir, 'evil.tar'), await makeTar(steer())).then(() => unpackTarFile(join(dir, 'evil.tar'), into, 'evil.tar'));
    await expect(run).rejects.toThrow(/member "esc" would be written over the symlink the archive made there/);
    expect((await stat(outside)).mode & 0o777).toBe(0o755);
  });

  it('resolves every path against what staging wrote: no file turned into a directory, no link over a link', async () => {
    const fileThenDir = await tree();
    await fileThenDir.file('a', Buffer.from('x'));
    await expect(fileThenDir.dir('a')).rejects.toThrow(/member "a" is a dir, but the archive made a file there/);
    await expect(fileThenDir.file('a/b', Buffer.from('x'))).rejects.toThrow(/member "a\/b" goes through the file a/);
    const links = await tree();
    await links.symlink('l', outside);
    await expect(links.symlink('l', '/etc')).rejects.toThrow(/symlink "l" would replace the symlink/);
    await expect(links.hardlink('h', 'l')).rejects.toThrow(/names no file of the archive/);
    await links.file('f', Buffer.from('x'));
    await expect(links.hardlink('l', 'f')).rejects.toThrow(/hard link "l" would replace the symlink/);
    await links.hardlink('g', 'f');
    expect(links.files).toEqual(['l', 'f', 'g']);
  });
});

describe('entries go through the caps as they are read', () => {
  it('counts the entries it skips (fifos): a .deb of many fifos stops at the entry cap', async () => {
    const fifos = function* (): Generator<RawEntry> {
      for (let i = 0; i < 3000; i++) yield { name: `f${i}`, type: 'fifo' };
    };
    const into = await tree({ maxBytes: 1024 ** 2, maxEntries: 1000 });
    await expect(unpackDeb(debOf(await compress(await rawTar(fifos()), 'xz'), 'xz'), into, 'fifos.deb')).rejects.toThrow(/fifos.deb.*more than 1000 entries|test package: more than 1000 entries/);
    await noDecoderLeft();
  });

  it('refuses a cpio size field beyond the cap before reading its bytes', async () => {
    const head = cpioEntry('big', 0o100644, Buffer.alloc(0), 1);
    // The size field (the 7th) says 0xffffffff; the body is not there at all.
    head.write('ffffffff', 6 + 6 * 8, 'latin1');
    const into = await tree({ maxBytes: 1024 ** 2, maxEntries: 100 });
    await expect(uncpio(Readable.from([head]), into, 'big.rpm')).rejects.toThrow(/member "big" claims 4294967295 bytes, which would unpack to more than 1048576 bytes/);
    const name = cpioEntry('x', 0o100644, Buffer.alloc(0), 1);
    name.write('ffffffff', 6 + 11 * 8, 'latin1'); // a 4 GiB name
    await expect(uncpio(Readable.from([name]), await tree(), 'name.rpm')).rejects.toThrow(/a cpio name of 4294967295 bytes/);
  });

  it('streams a big cpio entry to disk in pieces instead of buffering it', async () => {
    const bodies: string[] = [];
    const recorder = {
      reserve: () => undefined,
      skip: () => undefined,
      file: async (name: string, body: Readable | Uint8Array) => {
        let bytes = 0;
        if (body instanceof Uint8Array) bytes = body.length;
        else for await (const c of body) bytes += (c as Buffer).length;
        bodies.push(`${name} ${body instanceof Uint8Array ? 'buffer' : 'stream'} ${bytes}`);
      },
    } as unknown as StagingTree;
    const cpio = Buffer.concat([cpioEntry('small', 0o100644, Buffer.from('hi'), 1), cpioEntry('big', 0o100644, ZEROS, 2), cpioEntry('TRAILER!!!', 0, Buffer.alloc(0), 0)]);
    // Fed in 64 KiB chunks, as a decoder's pipe gives them.
    const chunks = function* () {
      for (let i = 0; i < cpio.length; i += 65536) yield cpio.subarray(i, i + 65536);
    };
    await uncpio(Readable.from(chunks()), recorder, 'big.rpm');
    expect(bodies).toEqual(['small buffer 2', `big stream ${ZEROS.length}`]);
  });

  it('counts the staging tree\'s bytes across an rpm and stops at its cap', async () => {
    const into = await tree({ maxBytes: 1024 ** 2, maxEntries: 100 });
    await expect(unpackRpm(await makeRpm([{ path: 'usr/src/zeros', body: ZEROS.toString('latin1') }], 'xz'), into, 'zeros.rpm')).rejects.toThrow(/more than 1048576 bytes/);
    await noDecoderLeft();
  });
});

describe('decoder children are killed and reaped on any error', () => {
  // A staging error early, then 32 MiB more to decode: the decoder would block on a full pipe nobody reads.
  const hostile = () => rawTar([{ name: '../../evil', body: Buffer.from('x') }, { name: 'zeros', body: ZEROS }]);

  it.each(['xz', 'zst'] as const)('a staging error inside a %s payload ends the decoder', async (how) => {
    const deb = debOf(await compress(await hostile(), how), how);
    await expect(unpackDeb(deb, await tree(), 'evil.deb')).rejects.toThrow(/outside the staging tree/);
    await noDecoderLeft();
  });

  it('the byte cap inside an xz tarball ends the decoder', async () => {
    const path = join(dir, 'zeros.tar.xz');
    await writeFile(path, await compress(await rawTar([{ name: 'a', body: ZEROS }, { name: 'b', body: ZEROS }]), 'xz'));
    await expect(unpackTarFile(path, await tree({ maxBytes: 8 * 1024 ** 2, maxEntries: 100 }), 'zeros.tar.xz')).rejects.toThrow(/member "a" claims 33554432 bytes/);
    await noDecoderLeft();
  });

  it('reports an xz checksum failure found after the last byte', async () => {
    const tarball = await makeTar([{ path: 'Makefile', body: 'all:\n' }]);
    const xz = Buffer.from((await execa('xz', ['-c', '--check=crc32'], { input: tarball, encoding: 'buffer' })).stdout);
    // The footer's backward size gives the index's start; the block's CRC32 is the 4 bytes before it.
    const indexSize = (xz.readUInt32LE(xz.length - 8) + 1) * 4;
    const corrupt = Buffer.from(xz);
    corrupt[xz.length - 12 - indexSize - 1]! ^= 0xff;
    const path = join(dir, 'crc.tar.xz');
    await writeFile(path, corrupt);
    // The whole tar comes out before xz checks it: the error must not be lost for that.
    await expect(unpackTarFile(path, await tree(), 'crc.tar.xz')).rejects.toThrow(/crc\.tar\.xz: xz failed: .*(corrupt|check)/i);
  });

  it('runs xz under a memory limit: a dictionary above it is refused before it is allocated', async () => {
    const tarball = await makeTar([{ path: 'Makefile', body: 'all:\n' }]);
    const xz = Buffer.from((await execa('xz', ['-c', '--lzma2=dict=64MiB'], { input: tarball, encoding: 'buffer' })).stdout);
    await expect(unpackDeb(debOf(xz, 'xz'), await tree(), 'dict.deb', { xzMemory: 16 * 1024 ** 2 })).rejects.toThrow(/dict\.deb data\.tar\.xz: xz failed: .*Memory usage limit/);
    await noDecoderLeft();
    // The default limit lets a normal dictionary through.
    const into = await tree();
    await unpackDeb(debOf(xz, 'xz'), into, 'dict.deb');
    expect(into.files).toEqual(['Makefile']);
  });

  it('reads the Architecture of a control.tar without buffering its other members', async () => {
    const control = await compress(await rawTar([{ name: 'zeros', body: ZEROS }, { name: './control', body: Buffer.from('Package: x\nArchitecture: arm64\n') }]), 'xz');
    expect(await debArchitecture({ name: 'control.tar.xz', data: control }, 'x.deb')).toBe('arm64');
    const huge = await compress(await rawTar([{ name: './control', body: Buffer.alloc(2 * 1024 ** 2) }]), 'gz');
    await expect(debArchitecture({ name: 'control.tar.gz', data: huge }, 'x.deb')).rejects.toThrow(/its control file is over 1048576 bytes/);
    await noDecoderLeft();
  });
});

describe('stageHeaders over hostile packages', () => {
  it('refuses the symlinked directory and leaves no tree and no decoder', async () => {
    await chmod(outside, 0o755);
    const path = join(dir, 'linux-headers-evil_1_amd64.deb');
    await writeFile(path, await makeDeb([{ path: 'esc', symlink: outside }, { path: 'esc', dir: true, mode: 0o777 }], 'amd64', 'xz'));
    await expect(stageHeaders([{ location: path }], { cwd: dir, cacheDir: join(dir, 'cache') })).rejects.toThrow(/over the symlink/);
    expect((await stat(outside)).mode & 0o777).toBe(0o755);
    await noDecoderLeft();
  });
});
