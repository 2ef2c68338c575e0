import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { uncpio } from '../../src/adapters/headers/packages.js';
import { StagingTree } from '../../src/adapters/headers/staging.js';
import { InitramfsError, normalizeEntryPath, writeInitramfs } from '../../src/core/initramfs.js';

/** newc headers of an archive: [name, mode, size, rdevmajor, rdevminor] in order. */
function headers(bytes: Buffer): [string, number, number, number, number][] {
  const out: [string, number, number, number, number][] = [];
  let at = 0;
  for (;;) {
    expect(bytes.toString('latin1', at, at + 6)).toBe('070701');
    const field = (i: number) => Number.parseInt(bytes.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
    const namesize = field(11);
    const size = field(6);
    const name = bytes.toString('utf8', at + 110, at + 110 + namesize - 1);
    expect(bytes[at + 110 + namesize - 1]).toBe(0);
    out.push([name, field(1), size, field(9), field(10)]);
    at += 110 + namesize;
    at += (4 - (at % 4)) % 4;
    at += size + ((4 - (size % 4)) % 4);
    if (name === 'TRAILER!!!') break;
  }
  expect(at).toBe(bytes.length);
  return out;
}

describe('initramfs (cpio newc)', () => {
  it('writes parents before children, modes and device numbers, and ends with the trailer', () => {
    const bytes = writeInitramfs([
      { kind: 'file', path: 'bin/busybox', data: Buffer.from('abcde'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'chardev', path: '/dev/console', major: 5, minor: 1 },
      { kind: 'file', path: './lib/modules/x/m.ko', data: Buffer.alloc(0) },
    ]);
    expect(headers(bytes)).toEqual([
      ['bin', 0o040755, 0, 0, 0],
      ['bin/busybox', 0o100755, 5, 0, 0],
      ['bin/sh', 0o120777, 7, 0, 0],
      ['dev', 0o040755, 0, 0, 0],
      ['dev/console', 0o020600, 0, 5, 1],
      ['lib', 0o040755, 0, 0, 0],
      ['lib/modules', 0o040755, 0, 0, 0],
      ['lib/modules/x', 0o040755, 0, 0, 0],
      ['lib/modules/x/m.ko', 0o100644, 0, 0, 0],
      ['TRAILER!!!', 0, 0, 0, 0],
    ]);
  });

  it("is read back by the headers adapter's cpio reader, byte for byte (the kernel reads it in test/integration/boot.test.ts)", async () => {
    const data = Buffer.from(Array.from({ length: 1001 }, (_, i) => i % 251));
    const bytes = writeInitramfs([
      { kind: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'file', path: 'a/b/data', data },
      { kind: 'symlink', path: 'a/link', target: 'b/data' },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'bi-initramfs-'));
    try {
      const tree = new StagingTree(join(dir, 'ours'), 'test');
      await uncpio(Readable.from([bytes]), tree, 'test');
      expect(await readFile(join(dir, 'ours/a/b/data'))).toEqual(data);
      expect(await readlink(join(dir, 'ours/a/link'))).toBe('b/data');
      expect((await stat(join(dir, 'ours/init'))).mode & 0o777).toBe(0o755);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses paths that would leave the root, empty names and duplicates', () => {
    expect(normalizeEntryPath('./a//b/')).toBe('a/b');
    expect(() => normalizeEntryPath('../etc/passwd')).toThrow(InitramfsError);
    expect(() => normalizeEntryPath('a/../../b')).toThrow(/"\.\."/);
    expect(() => normalizeEntryPath('/')).toThrow(/empty path/);
    expect(() => writeInitramfs([{ kind: 'dir', path: 'x' }, { kind: 'dir', path: './x/' }])).toThrow(/given twice/);
    expect(() => writeInitramfs([{ kind: 'chardev', path: 'c', major: -1, minor: 0 }])).toThrow(/does not fit/);
  });
});
