// checkTree: each verdict's whole report, exact sentences, aliases and undeclared compilers.
import { describe, expect, it } from 'vitest';
import { checkTree } from '../../src/core/check-rules.js';
import { FileTree, type LayerEntry } from '../../src/core/filetree.js';
import { AARCH64, elfHeader, X86_64 } from '../support/elf.js';

const file = (path: string, machine = X86_64, mode = 0o755, type = 3): LayerEntry => ({ path, type: 'file', mode, size: 1000, uid: 0, gid: 0, head: elfHeader(machine, type) });
const link = (path: string, target: string): LayerEntry => ({ path, type: 'symlink', mode: 0o777, size: 0, uid: 0, gid: 0, linkname: target });
const other = (path: string): LayerEntry => ({ path, type: 'other', mode: 0o755, size: 0, uid: 0, gid: 0 });
const tree = (...entries: LayerEntry[]): FileTree => {
  const t = new FileTree();
  t.applyLayer(entries);
  return t;
};
const GCC = file('usr/bin/x86_64-linux-gnu-gcc-12');
const check = (t: FileTree, gccVersions: string[], arch: 'x86_64' | 'aarch64' = 'x86_64') => checkTree(t, { arch, gccVersions });

describe('checkTree reports', () => {
  it('a good image: the whole report', () => {
    const t = tree(GCC, link('usr/bin/gcc-12', 'x86_64-linux-gnu-gcc-12'), link('usr/bin/gcc-12.0.0', 'gcc-12'), link('usr/bin/gcc', 'gcc-12'), link('usr/bin/gcc-12.1', 'gcc-12'), link('usr/bin/gcc-x', 'gcc-12'));
    expect(check(t, ['12.0.0'])).toStrictEqual({
      arch: 'x86_64',
      platform: 'linux/amd64',
      gccs: [{ gcc: '12.0.0', path: '/usr/bin/gcc-12.0.0', chain: ['/usr/bin/gcc-12.0.0', 'gcc-12', 'x86_64-linux-gnu-gcc-12'], resolved: '/usr/bin/x86_64-linux-gnu-gcc-12', verdict: 'ok', aliases: ['/usr/bin/gcc-12', '/usr/bin/gcc-12.1'] }],
      extra: [],
      ok: true,
    });
  });

  it('an executable (type 2) and a file with any execute bit pass; a relocatable does not', () => {
    expect(check(tree(file('usr/bin/gcc-9.0.0', X86_64, 0o755, 2)), ['9.0.0']).ok).toBe(true);
    expect(check(tree(file('usr/bin/gcc-9.0.0', X86_64, 0o701)), ['9.0.0']).ok).toBe(true);
    expect(check(tree(file('usr/bin/gcc-9.0.0', X86_64, 0o610)), ['9.0.0']).ok).toBe(true);
    expect(check(tree(file('usr/bin/gcc-9.0.0', AARCH64)), ['9.0.0'], 'aarch64').ok).toBe(true);
    expect(check(tree(file('usr/bin/gcc-9.0.0', X86_64, 0o755, 1)), ['9.0.0']).gccs[0]!.message).toBe('/usr/bin/gcc-9.0.0 (from /usr/bin/gcc-9.0.0) is not an ELF executable: the link must lead to the gcc driver binary');
  });

  it.each<[string, LayerEntry[], string, string | undefined]>([
    ['no execute bit', [file('usr/bin/gcc-9.0.0', X86_64, 0o100644)], '/usr/bin/gcc-9.0.0 (from /usr/bin/gcc-9.0.0) has no execute bit (mode 644): chmod +x it in the Dockerfile', '/usr/bin/gcc-9.0.0'],
    ['a directory', [link('usr/bin/gcc-9.0.0', '/usr')], '/usr/bin/gcc-9.0.0 resolves to /usr, which is a directory, not a compiler', '/usr'],
    ['a special file', [other('usr/bin/gcc-9.0.0')], '/usr/bin/gcc-9.0.0 resolves to /usr/bin/gcc-9.0.0, which is a special file, not a compiler', '/usr/bin/gcc-9.0.0'],
    ['another machine', [file('usr/bin/gcc-9.0.0', AARCH64)], '/usr/bin/gcc-9.0.0 (from /usr/bin/gcc-9.0.0) is an AArch64 binary in a linux/amd64 image: install the linux/amd64 compiler (build the image with --platform linux/amd64)', '/usr/bin/gcc-9.0.0'],
    ['a loop', [link('usr/bin/gcc-9.0.0', 'gcc-9.0.0')], `/usr/bin/gcc-9.0.0 is a symlink loop (/usr/bin/gcc-9.0.0${' -> gcc-9.0.0'.repeat(40)}, more than 40 hops)`, undefined],
    ['not a directory', [file('usr/bin/f'), link('usr/bin/gcc-9.0.0', 'f/x')], '/usr/bin/gcc-9.0.0 cannot resolve: /usr/bin/f is not a directory (/usr/bin/gcc-9.0.0 -> f/x)', undefined],
    ['an escape', [link('usr/bin/gcc-9.0.0', '../../../x')], '/usr/bin/gcc-9.0.0 climbs out of the image root (/usr/bin/gcc-9.0.0 -> ../../../x): use a link that stays inside the image', undefined],
  ])('%s', (_what, entries, message, resolved) => {
    const report = check(tree(...entries), ['9.0.0']);
    expect(report.ok).toBe(false);
    const g = report.gccs[0]!;
    expect(g.message).toBe(message);
    expect(g.verdict).toBe('error');
    expect(g.aliases).toEqual([]);
    expect(g.resolved).toBe(resolved);
    expect(g.chain[0]).toBe('/usr/bin/gcc-9.0.0');
  });

  it.each([
    [[file('usr/bin/gcc-9')], 'gcc-9'],
    [[file('usr/bin/gcc-9.4')], 'gcc-9.4'],
    [[file('usr/bin/gcc9')], 'gcc9'],
    [[file('usr/bin/gcc-9.4'), file('usr/bin/gcc-9')], 'gcc-9'],
  ])('a missing link names the compiler to link to (%#)', (entries, candidate) => {
    expect(check(tree(...entries), ['9.0.0']).gccs[0]!.message).toBe(`/usr/bin/gcc-9.0.0 is missing: add \`RUN ln -s /usr/bin/${candidate} /usr/bin/gcc-9.0.0\` for linux/amd64`);
  });

  it('a missing link without any compiler of that major says to install it', () => {
    const report = check(tree(file('usr/bin/gcc-90'), file('usr/bin/gcc-19'), file('usr/bin/xgcc-9')), ['9.0.0'], 'aarch64');
    expect(report.gccs[0]!.message).toBe('/usr/bin/gcc-9.0.0 is missing and no gcc-9 is installed for linux/arm64: install GCC 9 and add `RUN ln -s /usr/bin/gcc-9 /usr/bin/gcc-9.0.0`');
    expect(report.platform).toBe('linux/arm64');
  });

  it('lists every undeclared full-version gcc, resolved or not, and only full versions', () => {
    const t = tree(GCC, link('usr/bin/gcc-12.0.0', 'x86_64-linux-gnu-gcc-12'), link('usr/bin/gcc-11.0.0', 'x86_64-linux-gnu-gcc-12'), link('usr/bin/gcc-10.0.0', 'nothing'), file('usr/bin/gcc-10.0'), file('usr/bin/gcc-01.0.0'), file('usr/bin/gcc-12345.0.0'));
    const report = check(t, ['12.0.0']);
    expect(report.ok).toBe(false);
    expect(report.gccs[0]!.verdict).toBe('ok');
    expect(report.extra).toStrictEqual([
      { path: '/usr/bin/gcc-10.0.0', resolved: undefined, message: '/usr/bin/gcc-10.0.0 is in the image but the name does not declare GCC 10.0.0: add _gcc10.0.0 to the Dockerfile name, or remove the link' },
      { path: '/usr/bin/gcc-11.0.0', resolved: '/usr/bin/x86_64-linux-gnu-gcc-12', message: '/usr/bin/gcc-11.0.0 is in the image but the name does not declare GCC 11.0.0: add _gcc11.0.0 to the Dockerfile name, or remove the link' },
    ]);
  });

  it('is not ok when one of several GCCs fails', () => {
    const t = tree(file('usr/bin/gcc-9.0.0'));
    const report = check(t, ['9.0.0', '8.0.0']);
    expect(report.gccs.map((g) => g.verdict)).toEqual(['ok', 'error']);
    expect(report.ok).toBe(false);
    expect(check(t, []).ok).toBe(false); // gcc-9.0.0 undeclared
    expect(check(tree(file('usr/bin/cc')), []).ok).toBe(true);
  });
});

describe('checkTree, a GCC name outside the gcc-X.Y.Z pattern', () => {
  it('has no aliases', () => {
    expect(check(tree(file('usr/bin/gcc-x')), ['x']).gccs[0]).toMatchObject({ verdict: 'ok', aliases: [] });
  });
});
