// The merged file tree entry by entry: node sharing, whiteouts, hard links, and every outcome of resolvePath.
import { describe, expect, it } from 'vitest';
import { FileTree, normalizePath, resolvePath, TreeError, type LayerEntry } from '../../src/core/filetree.js';

const file = (path: string, over: Partial<LayerEntry> = {}): LayerEntry => ({ path, type: 'file', mode: 0o644, size: 0, uid: 0, gid: 0, ...over });
const dir = (path: string): LayerEntry => file(path, { type: 'dir', mode: 0o755 });
const link = (path: string, linkname: string): LayerEntry => file(path, { type: 'symlink', mode: 0o777, linkname });
const hard = (path: string, linkname?: string): LayerEntry => (linkname === undefined ? file(path, { type: 'hardlink' }) : file(path, { type: 'hardlink', linkname }));
const tree = (...layers: LayerEntry[][]): FileTree => {
  const t = new FileTree();
  for (const l of layers) t.applyLayer(l);
  return t;
};
const errorOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('normalizePath', () => {
  it.each([
    ['', []],
    ['/', []],
    ['.', []],
    ['./a//b/./c', ['a', 'b', 'c']],
    ['a/../b', ['b']],
    ['../../a', ['a']],
    ['a/b/..', ['a']],
    ['..a/.b', ['..a', '.b']],
  ])('%j', (path, parts) => {
    expect(normalizePath(path)).toEqual(parts);
  });
});

describe('FileTree.add', () => {
  it('numbers layers from 0 and ignores the root itself', () => {
    const t = new FileTree();
    expect(t.beginLayer()).toBe(0);
    expect(t.beginLayer()).toBe(1);
    t.add(dir('./'));
    t.add(file('/'));
    expect(t.root).toMatchObject({ type: 'dir', layer: -1 });
    expect(t.list('/')).toEqual([]);
  });

  it('keeps only the permission bits and shares plain nodes per type, mode and layer', () => {
    const t = new FileTree();
    t.beginLayer();
    t.add(file('a', { mode: 0o100755 }));
    t.add(file('b', { mode: 0o755 }));
    t.add(file('c', { mode: 0o644 }));
    t.add(file('d', { type: 'other', mode: 0o755 }));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => t.lookup([n])!);
    expect(a).toStrictEqual({ type: 'file', mode: 0o755, layer: 0 });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(c!.mode).toBe(0o644);
    expect(d).toStrictEqual({ type: 'other', mode: 0o755, layer: 0 });
    t.beginLayer();
    t.add(file('e', { mode: 0o755 }));
    expect(t.lookup(['e'])).toStrictEqual({ type: 'file', mode: 0o755, layer: 1 });
    expect(t.lookup(['e'])).not.toBe(a);
  });

  it('keeps the head of a file and the target of a symlink only', () => {
    const head = new Uint8Array([0x7f]);
    const t = tree([file('x', { head, mode: 0o100755 }), file('y', { linkname: 'z' }), link('l', 'x'), file('h', { head })]);
    expect(t.lookup(['x'])).toStrictEqual({ type: 'file', mode: 0o755, layer: 0, head });
    expect(t.lookup(['y'])).toStrictEqual({ type: 'file', mode: 0o644, layer: 0 });
    expect(t.lookup(['l'])).toStrictEqual({ type: 'symlink', mode: 0o777, layer: 0, linkname: 'x' });
    expect(t.lookup(['h'])).not.toBe(t.lookup(['x']));
  });

  it('replaces a non-directory on the way with a directory of this layer, and a directory over a file gets no children', () => {
    const t = tree([file('a'), dir('d')], [file('a/b'), file('d')]);
    expect(t.lookup(['a'])).toMatchObject({ type: 'dir', layer: 1 });
    expect(t.list('/a')).toEqual(['b']);
    expect(t.lookup(['d'])).toStrictEqual({ type: 'file', mode: 0o644, layer: 1 });
    const u = tree([file('f')], [dir('f')]);
    expect(u.list('/f')).toEqual([]);
    expect(u.lookup(['f'])!.children!.size).toBe(0);
    const v = tree([file('p/q')], [dir('p')]);
    expect(v.list('/p')).toEqual(['q']);
    expect(v.lookup(['p'])!.layer).toBe(1);
  });

  it('applies whiteouts to lower layers only, and ignores whiteouts in missing or non-directory places', () => {
    const t = tree([file('d/a'), file('d/b'), file('f')], [file('d/c'), file('d/.wh.c'), file('d/.wh.a'), file('missing/.wh.x'), file('f/.wh.x'), file('d/.wh.nothing')]);
    expect(t.list('/d')).toEqual(['b', 'c']);
    expect(t.lookup(['f'])).toStrictEqual({ type: 'file', mode: 0o644, layer: 0 }); // f/.wh.x: f is no directory, stays
  });

  it('an opaque marker keeps this layer\'s children wherever it stands', () => {
    const t = tree([file('d/a'), file('d/b')], [file('d/c'), file('d/.wh..wh..opq'), file('d/e')]);
    expect(t.list('/d')).toEqual(['c', 'e']);
    const u = tree([file('d/a')], [file('x/.wh..wh..opq')]);
    expect(u.list('/d')).toEqual(['a']);
    expect(u.list('/x')).toEqual([]);
  });

  it('makes a hard link share its target node within a layer and copy it once into a later layer', () => {
    const head = new Uint8Array([1, 2]);
    const t = new FileTree();
    t.applyLayer([file('bin/x', { head, mode: 0o755 }), hard('bin/y', 'bin/x'), link('bin/s', 'x')]);
    expect(t.lookup(['bin', 'y'])).toBe(t.lookup(['bin', 'x']));
    t.applyLayer([hard('bin/z', './bin/x'), hard('bin/w', '/bin/x'), hard('bin/t', 'bin/s')]);
    const z = t.lookup(['bin', 'z'])!;
    expect(z).toStrictEqual({ type: 'file', mode: 0o755, layer: 1, head });
    expect(t.lookup(['bin', 'w'])).toBe(z);
    expect(t.lookup(['bin', 't'])).toStrictEqual({ type: 'symlink', mode: 0o777, layer: 1, linkname: 'x' });
    t.applyLayer([file('bin/.wh.x'), hard('bin/v', 'bin/z')]);
    expect(t.lookup(['bin', 'x'])).toBeUndefined();
    expect(t.lookup(['bin', 'v'])).toStrictEqual({ type: 'file', mode: 0o755, layer: 2, head });
    const plain = tree([file('p')], [hard('q', 'p')]);
    expect(Object.keys(plain.lookup(['q'])!)).toEqual(['type', 'mode', 'layer']);
  });

  it('refuses a hard link to nothing or to a directory, naming both', () => {
    const missing = errorOf(() => tree([hard('a', 'nowhere')]));
    expect(missing).toBeInstanceOf(TreeError);
    expect((missing as Error).name).toBe('TreeError');
    expect((missing as Error).message).toBe('the hard link a points to nowhere, which does not exist (a runtime cannot unpack it)');
    expect((errorOf(() => tree([dir('d'), hard('a', 'd')])) as Error).message).toBe('the hard link a points to d, which is a directory (a runtime cannot unpack it)');
    expect((errorOf(() => tree([hard('a')])) as Error).message).toBe('the hard link a points to , which is a directory (a runtime cannot unpack it)');
  });

  it('lists names sorted, and nothing for a file or a missing path', () => {
    const t = tree([file('d/b'), file('d/a'), file('d/c')]);
    expect(t.list('d')).toEqual(['a', 'b', 'c']);
    expect(t.list('/d/a')).toEqual([]);
    expect(t.list('/nope')).toEqual([]);
    expect(t.lookup(['d', 'a', 'x'])).toBeUndefined();
    expect(t.child(t.lookup(['d'])!, 'a')).toBe(t.lookup(['d', 'a']));
    expect(t.child(t.lookup(['d', 'a'])!, 'a')).toBeUndefined();
  });
});

describe('resolvePath outcomes', () => {
  const t = tree([
    file('usr/bin/gcc', { mode: 0o755 }),
    link('usr/bin/cc', 'gcc'),
    link('usr/bin/abs', '/usr/bin/gcc'),
    link('usr/bin/up', '../bin/./gcc'),
    link('usr/bin/dang', 'nothing'),
    link('usr/bin/out', '../../../x'),
    link('usr/bin/empty', ''),
    link('usr/bin/self', 'self'),
    link('lib', 'usr/bin'),
  ]);

  it.each([
    ['/usr/bin/gcc', { ok: true, path: '/usr/bin/gcc', chain: ['/usr/bin/gcc'] }],
    ['usr//bin/./gcc', { ok: true, path: '/usr/bin/gcc', chain: ['usr//bin/./gcc'] }],
    ['/usr/bin/../bin/gcc', { ok: true, path: '/usr/bin/gcc' }],
    ['/usr/bin/cc', { ok: true, path: '/usr/bin/gcc', chain: ['/usr/bin/cc', 'gcc'] }],
    ['/usr/bin/abs', { ok: true, path: '/usr/bin/gcc', chain: ['/usr/bin/abs', '/usr/bin/gcc'] }],
    ['/usr/bin/up', { ok: true, path: '/usr/bin/gcc' }],
    ['/lib/cc', { ok: true, path: '/usr/bin/gcc', chain: ['/lib/cc', 'usr/bin', 'gcc'] }],
    ['/usr/bin/empty', { ok: true, path: '/usr/bin', chain: ['/usr/bin/empty', ''] }],
    ['/', { ok: true, path: '/', chain: ['/'] }],
    ['/usr/nope', { ok: false, problem: 'missing', at: '/usr/nope' }],
    ['/usr/bin/dang', { ok: false, problem: 'dangling', at: '/usr/bin/nothing' }],
    ['/usr/bin/out', { ok: false, problem: 'escape', at: '/' }],
    ['/..', { ok: false, problem: 'escape', at: '/', chain: ['/..'] }],
    ['/usr/bin/gcc/x', { ok: false, problem: 'not-a-directory', at: '/usr/bin/gcc' }],
    ['/usr/bin/cc/', { ok: true, path: '/usr/bin/gcc' }],
    ['/usr/bin/self', { ok: false, problem: 'loop', at: '/usr/bin/self' }],
  ])('%s', (path, expected) => {
    expect(resolvePath(t, path)).toMatchObject(expected);
  });

  it('follows exactly 40 links and stops at the 41st', () => {
    const chain = (n: number) => {
      const entries: LayerEntry[] = [file('end')];
      for (let i = 0; i < n; i++) entries.push(link(`l${i}`, i === n - 1 ? 'end' : `l${i + 1}`));
      return tree(entries);
    };
    expect(resolvePath(chain(40), '/l0')).toMatchObject({ ok: true, path: '/end' });
    expect(resolvePath(chain(41), '/l0')).toMatchObject({ ok: false, problem: 'loop', at: '/l40' });
  });

  it('gives the node it found', () => {
    const r = resolvePath(t, '/usr/bin/cc');
    expect(r.ok && r.node).toBe(t.lookup(['usr', 'bin', 'gcc']));
  });
});

describe('entries without a link target', () => {
  it('keeps a link target only on symlinks, and a symlink without one resolves to its own directory', () => {
    const head = new Uint8Array([0x7f]);
    const t = tree([file('f', { head, linkname: 'x' }), { ...dir('d'), linkname: 'x' }, file('d/l', { type: 'symlink', mode: 0o777 })]);
    expect(t.lookup(['f'])).toStrictEqual({ type: 'file', mode: 0o644, layer: 0, head });
    expect(Object.keys(t.lookup(['d'])!)).toEqual(['type', 'mode', 'layer', 'children']);
    expect(t.lookup(['d', 'l'])).toStrictEqual({ type: 'symlink', mode: 0o777, layer: 0 });
    expect(resolvePath(t, '/d/l')).toMatchObject({ ok: true, path: '/d', chain: ['/d/l', ''] });
  });

  it('finds nothing below a missing directory', () => {
    const t = tree([file('a')]);
    expect(t.lookup(['x', 'y', 'z'])).toBeUndefined();
  });
});
