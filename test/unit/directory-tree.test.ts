import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTree } from '../../src/core/check-rules.js';
import { resolvePath } from '../../src/core/filetree.js';
import { DirectoryTree } from '../../src/adapters/rootfs/directory-tree.js';
import { judgeTree } from '../../src/app/check.js';
import { AARCH64, elfHeader, X86_64 } from '../support/elf.js';

/** A small image root on disk, as an engine's `image mount` shows it. */
const root = mkdtempSync(join(tmpdir(), 'bi-rootfs-'));
// Outside the image root: a host file a hostile link would like the check to read.
const hostSide = mkdtempSync(join(tmpdir(), 'bi-host-'));
afterAll(() => [root, hostSide].forEach((d) => rmSync(d, { recursive: true, force: true })));

function put(path: string, content: Buffer | string, mode = 0o755): void {
  const abs = join(root, path);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, content);
  chmodSync(abs, mode);
}
const link = (path: string, target: string) => symlinkSync(target, join(root, path));

put('usr/lib/gcc/x86_64-linux-gnu/12/gcc', Buffer.concat([elfHeader(X86_64), Buffer.alloc(200)]));
put('usr/bin/aarch64-linux-gnu-gcc-12', Buffer.concat([elfHeader(AARCH64), Buffer.alloc(200)]));
put('usr/bin/notes', 'text', 0o644);
link('usr/bin/gcc-12', '../lib/gcc/x86_64-linux-gnu/12/gcc');
link('usr/bin/gcc-12.0.0', '/usr/bin/gcc-12');
link('usr/bin/gcc-13.0.0', 'gcc-13'); // dangling
link('bin', 'usr/bin'); // merged /usr, as Debian has it
mkdirSync(join(hostSide, 'usr/bin'), { recursive: true });
writeFileSync(join(hostSide, 'usr/bin/gcc-14.0.0'), elfHeader(X86_64));
link('escape', hostSide); // a directory link out of the root, if the host followed it
put('usr/lib/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' + '#'.repeat(5000), 0o644);
mkdirSync(join(root, 'etc'));
link('etc/os-release', '../usr/lib/os-release');

describe('a mounted image root seen as a tree', () => {
  const tree = new DirectoryTree(root);

  it('lists directories and resolves link chains inside the image, absolute links against the image root', () => {
    expect(tree.list('/usr/bin')).toEqual(['aarch64-linux-gnu-gcc-12', 'gcc-12', 'gcc-12.0.0', 'gcc-13.0.0', 'notes']);
    expect(resolvePath(tree, '/bin/gcc-12.0.0')).toMatchObject({ ok: true, path: '/usr/lib/gcc/x86_64-linux-gnu/12/gcc', chain: ['/bin/gcc-12.0.0', 'usr/bin', '/usr/bin/gcc-12', '../lib/gcc/x86_64-linux-gnu/12/gcc'] });
    expect(resolvePath(tree, '/usr/bin/gcc-13.0.0')).toMatchObject({ ok: false, problem: 'dangling' });
  });

  it('never follows a link on the host: a path through a link is not an entry, and a link out of the root stays a link', () => {
    expect(tree.lookup(['escape', 'usr', 'bin', 'gcc-14.0.0'])).toBeUndefined();
    expect(tree.lookup(['bin', 'gcc-12'])).toBeUndefined();
    expect(tree.lookup(['escape'])).toMatchObject({ type: 'symlink', linkname: hostSide });
    // Resolved inside the image, the host path does not exist there.
    expect(resolvePath(tree, '/escape/usr/bin/gcc-14.0.0')).toMatchObject({ ok: false, problem: 'dangling' });
  });

  it('keeps the first bytes of executables only, for the ELF check', () => {
    expect(tree.lookup(['usr', 'lib', 'gcc', 'x86_64-linux-gnu', '12', 'gcc'])?.head?.length).toBe(64);
    expect(tree.lookup(['usr', 'bin', 'notes'])?.head).toBeUndefined();
  });

  it('keeps the first 4 KiB of os-release, so the contract names packages of the image\'s distro', () => {
    expect(tree.lookup(['usr', 'lib', 'os-release'])?.head?.length).toBe(4096);
    const report = judgeTree(tree, { os: 'linux', architecture: 'amd64' }, { gccVersions: ['12.0.0'], arch: 'x86_64', target: 'debian' }, { env: ['PATH=/usr/bin'] });
    expect(report.contract).toMatchObject({ osRelease: '/etc/os-release', distro: { id: 'debian', name: 'Debian GNU/Linux 12 (bookworm)' }, path: ['/usr/bin'] });
    expect(report.contract!.findings.find((f) => f.need === 'c++')).toMatchObject({ verdict: 'error', package: 'g++' });
  });

  it('gives the check rules the same verdicts as a tree merged from layers', () => {
    const report = checkTree(tree, { arch: 'x86_64', gccVersions: ['12.0.0'] });
    expect(report.gccs[0]).toMatchObject({ verdict: 'ok', resolved: '/usr/lib/gcc/x86_64-linux-gnu/12/gcc', aliases: ['/usr/bin/gcc-12'] });
    // gcc-13.0.0 is there (dangling) but undeclared: the name lies.
    expect(report.extra.map((e) => e.path)).toEqual(['/usr/bin/gcc-13.0.0']);
    expect(report.ok).toBe(false);
    const arm = judgeTree(tree, { os: 'linux', architecture: 'arm64' }, { gccVersions: ['12.0.0'], arch: 'x86_64' });
    expect(arm.extra.map((e) => e.message).join('\n')).toMatch(/the image is linux\/arm64 but its name says x86_64/);
  });
});
