/**
 * An image in buildah's storage, as push uses it with a daemonless engine: inspected, its root mounted both ways
 * (podman image mount, buildah from + mount) and checked there, then pushed by the engine with our credentials.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectLocalImage, mountLocalImage, pushLocalImage } from '../../src/adapters/engines/local-image.js';
import { DirectoryTree } from '../../src/adapters/rootfs/directory-tree.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { judgeTree } from '../../src/app/check.js';
import { DEFAULT_CONTRACT } from '../../src/core/driver-contract.js';
import { parseReference } from '../../src/core/reference.js';
import { elfHeader, X86_64 } from '../support/elf.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const bah = (...args: string[]) => execFileSync('buildah', ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs', ...args], { encoding: 'utf8' }).trim();
const IMAGE = 'localhost/bi-local-image-test:1';

describe('local images in buildah storage', () => {
  let reg: TestRegistry;
  let dir: string;

  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd' });
    dir = mkdtempSync(join(tmpdir(), 'bi-local-'));
    writeFileSync(join(dir, 'gcc'), Buffer.concat([elfHeader(X86_64), Buffer.alloc(100)]), { mode: 0o755 });
    writeFileSync(join(dir, 'gone'), 'removed by the second layer');
    // Layer 1: a compiler, its links and a file; layer 2 deletes the file (a whiteout the engine applies).
    const first = bah('from', '--quiet', 'scratch');
    bah('copy', first, join(dir, 'gcc'), '/usr/lib/gcc/x86_64-linux-gnu/12/gcc');
    bah('copy', first, join(dir, 'gone'), '/usr/bin/gone');
    const mnt = bah('mount', first);
    execFileSync('ln', ['-s', '../lib/gcc/x86_64-linux-gnu/12/gcc', join(mnt, 'usr/bin/gcc-12')]);
    execFileSync('ln', ['-s', 'gcc-12', join(mnt, 'usr/bin/gcc-12.0.0')]);
    bah('config', '--arch', 'amd64', '--os', 'linux', first);
    bah('commit', '--quiet', first, 'localhost/bi-local-image-test:base');
    bah('rm', first);
    const second = bah('from', '--quiet', '--pull=never', 'localhost/bi-local-image-test:base');
    rmSync(join(bah('mount', second), 'usr/bin/gone'));
    bah('commit', '--quiet', second, IMAGE);
    bah('rm', second);
  });
  afterAll(async () => {
    bah('rmi', '-f', IMAGE, 'localhost/bi-local-image-test:base');
    rmSync(dir, { recursive: true, force: true });
    await reg?.stop();
  });

  it('inspects platform and config digest', async () => {
    const info = await inspectLocalImage('buildah', IMAGE);
    expect(info.platform).toMatchObject({ os: 'linux', architecture: 'amd64' });
    expect(info.configDigest).toBe(`sha256:${bah('inspect', '--type', 'image', '--format', '{{.FromImageID}}', IMAGE)}`);
  });

  for (const via of ['podman', 'buildah'] as const) {
    it(`mounts the merged root through ${via} (whiteouts applied), checks it there, and releases it`, async () => {
      const root = await mountLocalImage('buildah', IMAGE, process.env, via);
      try {
        expect(root.how).toBe(`${via} ${via === 'podman' ? 'image mount' : 'mount'}`);
        const tree = new DirectoryTree(root.dir);
        expect(tree.list('/usr/bin')).toEqual(['gcc-12', 'gcc-12.0.0']);
        const report = judgeTree(tree, { os: 'linux', architecture: 'amd64' }, { gccVersions: ['12.0.0'], arch: 'x86_64', contract: { ...DEFAULT_CONTRACT, contract: 'none' } });
        expect(report.gccs[0]).toMatchObject({ verdict: 'ok', resolved: '/usr/lib/gcc/x86_64-linux-gnu/12/gcc' });
        expect(report.ok).toBe(true);
      } finally {
        await root.release();
      }
      // No working container of this image left behind (other test files build in the same storage meanwhile).
      expect(bah('containers', '--format', '{{.ImageName}}').split('\n')).not.toContain(IMAGE);
    });
  }

  it('pushes with the engine using the credentials given, in a private auth file; a wrong one fails without showing it', async () => {
    const destination = `${reg.host}/pushed:1`;
    const wrong = `wrong-${reg.password}`;
    const denied = pushLocalImage('buildah', IMAGE, destination, { plainHttp: true, credential: { username: reg.username, password: wrong } });
    await expect(denied).rejects.toThrow(/buildah could not push localhost\/bi-local-image-test:1 to 127\.0\.0\.1:\d+\/pushed:1/);
    await expect(denied.catch((e: Error) => e.message)).resolves.not.toContain(wrong);

    const digest = await pushLocalImage('buildah', IMAGE, destination, { plainHttp: true, credential: { username: reg.username, password: reg.password } });
    const client = new RegistryClient({ credentials: { explicit: { [reg.host]: { username: reg.username, password: reg.password } } } });
    const pushed = await client.getImage(parseReference(destination));
    expect(pushed.digest).toBe(digest);
    expect(pushed.manifest.config.digest).toBe((await inspectLocalImage('buildah', IMAGE)).configDigest);
    expect(pushed.manifest.layers).toHaveLength(2);
  });
});
