import { describe, expect, it } from 'vitest';
import { checkTree } from '../../src/core/check-rules.js';
import { FileTree, resolvePath, type LayerEntry } from '../../src/core/filetree.js';
import { AARCH64, elfHeader, X86_64 } from '../support/elf.js';

const file = (path: string, machine = X86_64, mode = 0o755): LayerEntry => ({ path, type: 'file', mode, size: 1000, uid: 0, gid: 0, head: elfHeader(machine) });
const link = (path: string, target: string): LayerEntry => ({ path, type: 'symlink', mode: 0o777, size: 0, uid: 0, gid: 0, linkname: target });
const hard = (path: string, target: string): LayerEntry => ({ path, type: 'hardlink', mode: 0o755, size: 0, uid: 0, gid: 0, linkname: target });
const dir = (path: string): LayerEntry => ({ path, type: 'dir', mode: 0o755, size: 0, uid: 0, gid: 0 });
const wh = (path: string): LayerEntry => ({ path, type: 'file', mode: 0o644, size: 0, uid: 0, gid: 0 });

function tree(...layers: LayerEntry[][]): FileTree {
  const t = new FileTree();
  for (const l of layers) t.applyLayer(l);
  return t;
}
const BASE = [dir('./usr/'), dir('./usr/bin/'), file('./usr/bin/x86_64-linux-gnu-gcc-12'), link('./usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12')];

describe('merged file tree', () => {
  it('normalises ./, // and .. and never leaves the root', () => {
    const t = tree([file('./usr//bin/../bin/./tool'), file('../../etc/passwd')]);
    expect(t.list('/usr/bin')).toEqual(['tool']);
    expect(t.list('/etc')).toEqual(['passwd']);
  });

  it('a whiteout removes a link and everything beneath a directory, in lower layers only', () => {
    const t = tree([...BASE, dir('opt/a/'), file('opt/a/b')], [wh('usr/bin/.wh.gcc-12'), wh('opt/.wh.a'), link('usr/bin/gcc-12.0.0', 'gcc-12')]);
    expect(t.list('/usr/bin')).toEqual(['gcc-12.0.0', 'x86_64-linux-gnu-gcc-12']);
    expect(t.list('/opt')).toEqual([]);
    expect(resolvePath(t, '/usr/bin/gcc-12.0.0')).toMatchObject({ ok: false, problem: 'dangling' });
  });

  it('an opaque directory hides lower children but keeps the ones its own layer adds, whatever the tar order', () => {
    const t = tree([dir('etc/'), file('etc/old')], [file('etc/new'), wh('etc/.wh..wh..opq')]);
    expect(t.list('/etc')).toEqual(['new']);
  });

  it('a non-directory hides lower entries beneath its path; a directory over a directory merges', () => {
    const t = tree([dir('a/'), file('a/x'), dir('b/'), file('b/y')], [file('a'), dir('b/'), file('b/z')]);
    expect(t.lookup(['a'])!.type).toBe('file');
    expect(t.list('/b')).toEqual(['y', 'z']);
  });

  it('a hard link takes its target content, even when the target is later removed', () => {
    const t = tree([dir('usr/bin/'), file('usr/bin/real-gcc', AARCH64), hard('usr/bin/gcc-13', 'usr/bin/real-gcc')], [wh('usr/bin/.wh.real-gcc')]);
    const r = resolvePath(t, '/usr/bin/gcc-13');
    expect(r).toMatchObject({ ok: true, path: '/usr/bin/gcc-13' });
    expect(r.ok && r.node.head?.[18]).toBe(AARCH64);
  });
});

describe('resolvePath', () => {
  it('follows relative and absolute links and directory links, showing the chain', () => {
    const t = tree([dir('usr/bin/'), dir('usr/lib/gcc/'), file('usr/lib/gcc/cc'), link('bin', 'usr/bin'), link('usr/bin/gcc-9', '/usr/lib/gcc/cc'), link('usr/bin/gcc-9.0.0', '../../bin/gcc-9')]);
    expect(resolvePath(t, '/usr/bin/gcc-9.0.0')).toMatchObject({ ok: true, path: '/usr/lib/gcc/cc', chain: ['/usr/bin/gcc-9.0.0', '../../bin/gcc-9', 'usr/bin', '/usr/lib/gcc/cc'] });
  });
  it('stops loops at 40 hops and reports escapes', () => {
    const t = tree([dir('usr/bin/'), link('usr/bin/a', 'b'), link('usr/bin/b', 'a'), link('usr/bin/up', '../../../etc/x')]);
    expect(resolvePath(t, '/usr/bin/a')).toMatchObject({ ok: false, problem: 'loop' });
    expect((resolvePath(t, '/usr/bin/a') as { chain: string[] }).chain.length).toBe(41);
    expect(resolvePath(t, '/usr/bin/up')).toMatchObject({ ok: false, problem: 'escape' });
  });
});

describe('checkTree', () => {
  it('passes a good image and lists shorter aliases', () => {
    const t = tree(BASE, [link('usr/bin/gcc-12.0.0', '/usr/bin/gcc-12'), link('usr/bin/gcc12', 'gcc-12')]);
    const report = checkTree(t, { arch: 'x86_64', gccVersions: ['12.0.0'] });
    expect(report.ok).toBe(true);
    expect(report.gccs[0]).toMatchObject({ verdict: 'ok', resolved: '/usr/bin/x86_64-linux-gnu-gcc-12', aliases: ['/usr/bin/gcc-12', '/usr/bin/gcc12'] });
  });

  it('says which link to add when one is missing', () => {
    const report = checkTree(tree(BASE), { arch: 'aarch64', gccVersions: ['12.0.0'] });
    expect(report.ok).toBe(false);
    expect(report.gccs[0]!.message).toBe('/usr/bin/gcc-12.0.0 is missing: add `RUN ln -s /usr/bin/gcc-12 /usr/bin/gcc-12.0.0` for linux/arm64');
  });

  it('rejects a wrong-arch compiler, a non-executable, a non-ELF and a link to a directory', () => {
    const t = tree(BASE, [
      link('usr/bin/gcc-12.0.0', 'gcc-12'),
      file('usr/bin/gcc-11.0.0', X86_64, 0o644),
      { ...file('usr/bin/gcc-10.0.0'), head: Buffer.from('#!/bin/sh\necho hi\n') },
      link('usr/bin/gcc-9.0.0', '/usr'),
    ]);
    const report = checkTree(t, { arch: 'aarch64', gccVersions: ['12.0.0', '11.0.0', '10.0.0', '9.0.0'] });
    expect(report.gccs.map((g) => g.message)).toEqual([
      expect.stringContaining('is an x86-64 binary in a linux/arm64 image'),
      expect.stringContaining('has no execute bit'),
      expect.stringContaining('is not an ELF executable'),
      expect.stringContaining('is a directory'),
    ]);
  });

  it('shows the chain of a dangling or escaping link', () => {
    const t = tree([dir('usr/bin/'), link('usr/bin/gcc-8.0.0', 'gcc-8'), link('usr/bin/gcc-7.0.0', '../../../../gcc')]);
    const report = checkTree(t, { arch: 'x86_64', gccVersions: ['8.0.0', '7.0.0'] });
    expect(report.gccs[0]!.message).toBe('/usr/bin/gcc-8.0.0 is a dangling link (/usr/bin/gcc-8.0.0 -> gcc-8): /usr/bin/gcc-8 does not exist in the linux/amd64 image');
    expect(report.gccs[1]!.message).toContain('climbs out of the image root (/usr/bin/gcc-7.0.0 -> ../../../../gcc)');
  });

  it('an undeclared full-version gcc link is an error: the name lies', () => {
    const t = tree(BASE, [link('usr/bin/gcc-12.0.0', 'gcc-12'), link('usr/bin/gcc-11.0.0', 'gcc-12')]);
    const report = checkTree(t, { arch: 'x86_64', gccVersions: ['12.0.0'] });
    expect(report.ok).toBe(false);
    expect(report.extra[0]!.message).toContain('does not declare GCC 11.0.0: add _gcc11.0.0 to the Dockerfile name');
  });
});
