/**
 * build --reproduce with real buildah: the image's times come from the commit that last changed its inputs, so
 * two builds (the second without cache) give one digest; an image whose RUN writes random bytes and an apt log
 * is reported file by file, the log with its known cause.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { runCli } from '../support/cli.js';
import { git } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const COMMIT_DATE = '2021-03-04T05:06:07Z';
const EPOCH = Date.parse(COMMIT_DATE) / 1000;

function commitAt(root: string, message: string): void {
  git(root, 'add', '-A');
  execFileSync('git', ['commit', '-qm', message], { cwd: root, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_COMMITTER_DATE: COMMIT_DATE, GIT_AUTHOR_DATE: COMMIT_DATE } });
}

interface Reproduced {
  digest: string;
  output: string;
  reproduce: { reproducible: boolean; secondDigest: string; config: string[]; layers: number[]; files: { layer: number; path: string; differs: string[]; cause?: string }[] };
}

describe('build --reproduce (buildah)', () => {
  let reg: TestRegistry;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    for (const c of cleanups) c();
    await reg?.stop();
  });

  it('gives one digest for two builds of the same tree, with created and file times from the commit', async () => {
    const r = makeBuilderRepo(`${reg.host}/builders`);
    cleanups.push(r.cleanup);
    writeFileSync(join(r.root, 'images/builder-any-x86_64_gcc12.0.0.Dockerfile'), 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH}/ /usr/bin/\n# dated\n');
    commitAt(r.root, 'dated');
    const out = await runCli(['build', '--reproduce', '--json', '--engine', 'buildah', 'builder-any-x86_64_gcc12.0.0.Dockerfile'], r.root);
    expect(out.code, out.stderr).toBe(0);
    const [image] = JSON.parse(out.stdout) as Reproduced[];
    expect(image!.reproduce).toMatchObject({ reproducible: true, secondDigest: image!.digest, files: [] });
    const index = JSON.parse(readFileSync(join(image!.output, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const blob = (d: string) => JSON.parse(readFileSync(join(image!.output, 'blobs/sha256', d.slice(7)), 'utf8')) as Record<string, unknown>;
    const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
    const config = blob(manifest.config.digest) as { created: string; config: { Labels: Record<string, string> } };
    expect(Date.parse(config.created) / 1000).toBe(EPOCH);
    expect(config.config.Labels['org.opencontainers.image.created']).toBe(new Date(EPOCH * 1000).toISOString());

    // push --reproduce: the same comparison first, then the push.
    const pushed = await runCli(['push', '--reproduce', '--engine', 'buildah', 'builder-any-x86_64_gcc12.0.0.Dockerfile'], r.root);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toMatch(/reproduce: images\/builder-any-x86_64_gcc12\.0\.0\.Dockerfile \(linux\/amd64\): one digest sha256:/);
    expect(pushed.stdout).toMatch(/1 built and pushed/);
  });

  it('lists the files that differ, with the known causes', async () => {
    // A base with a shell (busybox), pushed to the local registry.
    const client = new RegistryClient();
    const rootfs = mkdtempSync(join(tmpdir(), 'bi-busybox-'));
    cleanups.push(() => rmSync(rootfs, { recursive: true, force: true }));
    mkdirSync(join(rootfs, 'bin'));
    copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
    for (const tool of ['sh', 'mkdir', 'head', 'od', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', tool));
    const storage = ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs'];
    const ctr = execFileSync('buildah', [...storage, 'from', '--quiet', 'scratch'], { encoding: 'utf8' }).trim();
    execFileSync('buildah', [...storage, 'copy', ctr, rootfs, '/']);
    execFileSync('buildah', [...storage, 'commit', '--quiet', ctr, 'localhost/bi-test-busybox:1']);
    execFileSync('buildah', [...storage, 'rm', ctr]);
    execFileSync('buildah', [...storage, 'push', '--quiet', '--tls-verify=false', 'localhost/bi-test-busybox:1', `docker://${reg.host}/busybox:1`]);
    execFileSync('buildah', [...storage, 'rmi', 'localhost/bi-test-busybox:1']);
    const { digest } = await client.headManifest(parseReference(`${reg.host}/busybox:1`));

    const r = makeBuilderRepo(`${reg.host}/builders`);
    cleanups.push(r.cleanup);
    writeFileSync(
      join(r.root, 'images/builder-noisy-x86_64_gcc12.0.0.Dockerfile'),
      `ARG BASE_IMAGE=${reg.host}/busybox:1@${digest}\nFROM \${BASE_IMAGE}\nRUN mkdir -p /var/log/apt /data && head -c 16 /dev/urandom | od -x > /data/stamp && echo same > /data/same && head -c 8 /dev/urandom > /var/log/apt/history.log\n`,
    );
    commitAt(r.root, 'noisy');
    const out = await runCli(['build', '--reproduce', '--no-check', '--json', '--engine', 'buildah', 'builder-noisy-x86_64_gcc12.0.0.Dockerfile'], r.root);
    expect(out.code).toBe(1);
    const [image] = JSON.parse(out.stdout) as Reproduced[];
    expect(image!.reproduce.reproducible).toBe(false);
    expect(image!.reproduce.secondDigest).not.toBe(image!.digest);
    expect(image!.reproduce.layers).toEqual([2]);
    expect(image!.reproduce.files).toEqual([
      { layer: 2, path: '/data/stamp', differs: ['content'] },
      { layer: 2, path: '/var/log/apt/history.log', differs: ['content'], cause: expect.stringMatching(/remove \/var\/log\/apt/) },
    ]);
    const text = await runCli(['build', '--reproduce', '--no-check', '--engine', 'buildah', 'builder-noisy-x86_64_gcc12.0.0.Dockerfile'], r.root);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/NOT reproducible/);
    expect(text.stdout).toMatch(/\/data\/stamp\s+content\s+unknown/);

    // push --reproduce refuses to publish it.
    const push = await runCli(['push', '--reproduce', '--engine', 'buildah', 'builder-noisy-x86_64_gcc12.0.0.Dockerfile'], r.root);
    expect(push.code).toBe(1);
    expect(push.stdout).toMatch(/did not build reproducibly .* nothing was pushed/);
    expect((await client.listTags({ registry: reg.host, repository: 'builders' }).catch(() => [])).filter((t) => t.startsWith('noisy'))).toEqual([]);
  });
});
