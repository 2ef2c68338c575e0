import { lstat, mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageHeaders } from '../../src/adapters/headers/stage.js';
import { cpioEntry, debianHeaders, makeDeb, makeRpm, makeTar, compress, redhatHeaders, type Entry } from '../support/kernel-packages.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bi-headers-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const stage = (paths: string[], cache = 'cache') => stageHeaders(paths.map((location) => ({ location })), { cwd: dir, cacheDir: join(dir, cache) });

describe('stageHeaders', () => {
  it('Debian: amd64 and arm64 packages become two kernels sharing -common, laid out at the distro paths', async () => {
    const amd = debianHeaders('6.1.0-56', 'amd64');
    const arm = debianHeaders('6.1.0-56', 'arm64');
    const paths = [
      await file('linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb', await makeDeb(amd.arch, 'amd64', 'xz')),
      await file('linux-headers-6.1.0-56-common_6.1.192-2_all.deb', await makeDeb(amd.common, 'all', 'zst')),
      await file('linux-kbuild-6.1_6.1.192-2_amd64.deb', await makeDeb(amd.kbuild, 'amd64', 'gz')),
      await file('linux-headers-6.1.0-56-arm64_6.1.192-2_arm64.deb', await makeDeb(arm.arch, 'arm64', 'xz')),
      await file('kbuild-arm64-renamed.deb', await makeDeb(arm.kbuild, 'arm64', 'xz')), // arch from its control file
    ];
    const staged = await stage(paths);
    expect(staged.kernels.map((k) => [k.release, k.arch, k.packaging, k.buildDir])).toEqual([
      ['6.1.0-56-amd64', 'x86_64', 'deb', '/usr/src/linux-headers-6.1.0-56-amd64'],
      ['6.1.0-56-arm64', 'aarch64', 'deb', '/usr/src/linux-headers-6.1.0-56-arm64'],
    ]);
    const amdKernel = staged.kernels[0]!;
    expect(amdKernel.releaseFrom).toMatch(/utsrelease\.h$/); // not kernel.release's 6.1.192
    expect(amdKernel.mounts.map((m) => m.target)).toEqual(['/usr/lib/linux-kbuild-6.1', '/usr/src/linux-headers-6.1.0-56-amd64', '/usr/src/linux-headers-6.1.0-56-common']);
    const kbuild = amdKernel.mounts.find((m) => m.target === '/usr/lib/linux-kbuild-6.1')!.source;
    expect((await stat(join(kbuild, 'scripts/basic/fixdep'))).mode & 0o777).toBe(0o755);
    const tree = amdKernel.mounts.find((m) => m.target.endsWith('-amd64'))!.source;
    expect(await readlink(join(tree, 'scripts'))).toBe('../../lib/linux-kbuild-6.1/scripts');
    // arm64 has its own kbuild tree; both arches mount the one -common tree, unpacked once.
    const armMounts = staged.kernels[1]!.mounts;
    expect(armMounts[0]!.source).not.toBe(kbuild);
    const common = (mounts: { source: string; target: string }[]) => mounts.find((m) => m.target.endsWith('-common'))!.source;
    expect(common(armMounts)).toBe(common(amdKernel.mounts));

    // A second run mounts the cached trees, unpacking nothing.
    const again = await stage(paths);
    expect(again.kernels[0]!.mounts).toEqual(amdKernel.mounts);
  });

  it('RPM kernel-devel (xz, zstd and gzip payloads): one tree under /usr/src/kernels, release from kernel.release', async () => {
    for (const how of ['xz', 'zst', 'gz'] as const) {
      const release = `5.14.0-427.el9.${how}.aarch64`;
      const path = await file(`kernel-devel-${release}.rpm`, await makeRpm(redhatHeaders(release, 'aarch64'), how));
      const [kernel] = (await stage([path])).kernels;
      expect(kernel).toMatchObject({ release, arch: 'aarch64', packaging: 'rpm', buildDir: `/usr/src/kernels/${release}`, releaseFrom: expect.stringMatching(/kernel\.release$/) });
      expect((await stat(join(kernel!.mounts[0]!.source, 'scripts/basic/fixdep'))).mode & 0o777).toBe(0o755);
    }
  });

  it('RPM hard links (newc: data on the last link) are all written', async () => {
    const release = '4.18.0-553.el8_10.x86_64';
    const links = [cpioEntry(`./usr/src/kernels/${release}/a.h`, 0o100644, Buffer.alloc(0), 99, 2), cpioEntry(`./usr/src/kernels/${release}/b.h`, 0o100644, Buffer.from('shared'), 99, 2)];
    const [kernel] = (await stage([await file('links.rpm', await makeRpm(redhatHeaders(release, 'x86_64'), 'gz', links))])).kernels;
    const a = await stat(join(kernel!.mounts[0]!.source, 'a.h'));
    expect(a.size).toBe(6);
    expect(a.nlink).toBe(2);
  });

  it('a tarball of a bare tree and a directory are kernels too', async () => {
    const entries: Entry[] = [
      { path: 'linux-6.6.1/.config', body: 'CONFIG_X86_64=y\n' },
      { path: 'linux-6.6.1/Makefile', body: 'VERSION = 6\n' },
      { path: 'linux-6.6.1/include/generated/utsrelease.h', body: '#define UTS_RELEASE "6.6.1-custom"\n' },
    ];
    const [fromTar] = (await stage([await file('linux-6.6.1.tar.xz', await compress(await makeTar(entries), 'xz'))])).kernels;
    expect(fromTar).toMatchObject({ release: '6.6.1-custom', arch: 'x86_64', packaging: 'other', buildDir: '/usr/src/linux-6.6.1' });

    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'include/config'), { recursive: true });
    await writeFile(join(tree, '.config'), 'CONFIG_ARM64=y\n');
    await writeFile(join(tree, 'Makefile'), '');
    await writeFile(join(tree, 'include/config/kernel.release'), '6.12.0-1-arm64\n');
    const [fromDir] = (await stage([tree])).kernels;
    expect(fromDir).toMatchObject({ release: '6.12.0-1-arm64', arch: 'aarch64', buildDir: '/usr/src/linux-headers', mounts: [{ source: tree, target: '/usr/src/linux-headers' }] });
  });

  it('refuses archives that write outside the tree or through their own symlinks, and says when no tree is there', async () => {
    const escape = await file('escape.tar', await makeTar([{ path: '../../evil', body: 'x' }]));
    await expect(stage([escape], 'c2')).rejects.toThrow(/outside the staging tree/);
    const through = await file('through.tar', await makeTar([{ path: 'usr/src/x', symlink: '/etc' }, { path: 'usr/src/x/passwd', body: 'x' }]));
    await expect(stage([through], 'c3')).rejects.toThrow(/goes through the symlink usr\/src\/x/);
    expect(await lstat('/etc/passwd').then((s) => s.size > 1)).toBe(true);
    const common = await file('only-common_1_all.deb', await makeDeb(debianHeaders('6.1.0-56', 'amd64').common, 'all', 'gz'));
    await expect(stage([common], 'c4')).rejects.toThrow(/no kernel build dir.*linux-headers-<release>-<arch>/);
    await expect(stage([join(dir, 'missing.deb')], 'c5')).rejects.toThrow(/no such file/);
  });

  it('checks a local file against its sha256', async () => {
    const path = await file('k.tar', await makeTar([{ path: '.config', body: 'CONFIG_X86_64=y\n' }, { path: 'Makefile', body: '' }, { path: 'include/config/kernel.release', body: '6.1.0\n' }]));
    await expect(stageHeaders([{ location: path, sha256: '0'.repeat(64) }], { cwd: dir, cacheDir: join(dir, 'c6') })).rejects.toThrow(/not the expected/);
  });
});

describe('stageHeaders: two runs at once on one cache', () => {
  it('the first tree placed stays in place (the other run uses it), so no run removes a tree another has mounted', async () => {
    const pkgs = debianHeaders('6.1.0-57', 'amd64');
    const paths = [
      await file('race-headers.deb', await makeDeb(pkgs.arch, 'amd64', 'gz')),
      await file('race-common.deb', await makeDeb(pkgs.common, 'all', 'gz')),
      await file('race-kbuild.deb', await makeDeb(pkgs.kbuild, 'amd64', 'gz')),
    ];
    for (let round = 0; round < 3; round++) {
      const cache = `race-${round}`;
      // Each run notes the tree's inode the moment it has it, as a container would mount it then.
      const run = () => stage(paths, cache).then(async (s) => ({ s, ino: (await stat(s.kernels[0]!.mounts[0]!.source)).ino }));
      const [{ s: a, ino: inodeA }, { s: b, ino: inodeB }] = await Promise.all([run(), run()]);
      const sourceA = a.kernels[0]!.mounts[0]!.source;
      expect(b.kernels[0]!.mounts[0]!.source).toBe(sourceA);
      const inode = (await stat(sourceA)).ino;
      expect([inodeA, inodeB]).toEqual([inode, inode]);
      // A third run while both still hold it: served from the cache, the same directory.
      const c = await stage(paths, cache);
      expect((await stat(c.kernels[0]!.mounts[0]!.source)).ino).toBe(inode);
      await Promise.all([a.cleanup(), b.cleanup(), c.cleanup()]);
      expect((await stat(sourceA)).ino).toBe(inode);
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(join(dir, cache, 'trees'))).filter((n) => /tmp-|stale-/.test(n))).toEqual([]);
    }
  });
});
