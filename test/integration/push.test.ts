import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type ImageIndex } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { git } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describe('push: real buildah builds into the real registry', () => {
  let reg: TestRegistry;
  let mirror: TestRegistry;
  let locked: TestRegistry;
  let root: string;
  let cleanup: () => void;
  const client = new RegistryClient();

  beforeAll(async () => {
    [reg, mirror, locked] = await Promise.all([startRegistry(), startRegistry(), startRegistry({ auth: 'htpasswd' })]);
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`, {
      // An aarch64 image whose Dockerfile forgets the versioned link: check must stop it.
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': 'FROM scratch\nCOPY bin/arm64/aarch64-linux-gnu-gcc-12 /usr/bin/\n',
    }));
  });
  afterAll(async () => {
    cleanup?.();
    await Promise.all([reg?.stop(), mirror?.stop(), locked?.stop()]);
  });

  it('dry run plans and touches nothing', async () => {
    const out = await runCli(['push', '--dry-run'], root);
    expect(out.stdout).toMatch(/plan: 3 to build, 0 up to date, 2 index\(es\) to push/);
    expect(await client.listTags({ registry: reg.host, repository: 'builders' }).catch(() => [])).toEqual([]);
  });

  it('builds, checks and pushes per arch, assembles the index, copies to a mirror, and blocks a failing check', async () => {
    const out = await runCli(['push', '--repo', `${reg.host}/builders`, '--repo', `${mirror.host}/copy`], root);
    expect(out.code).toBe(1); // the broken image failed
    expect(out.stdout).toMatch(/broken-aarch64_gcc12\.0\.0-\S+\s+aarch64\s+failed\s+-\s+check failed, nothing published: \/usr\/bin\/gcc-12\.0\.0 is missing/);
    expect(out.stdout).toMatch(/2 built and pushed, 0 skipped \(up to date\), 1 failed, 2 index\(es\) pushed/);

    const tags = await client.listTags({ registry: reg.host, repository: 'builders' });
    expect(tags.filter((t) => t.startsWith('broken'))).toEqual([]);
    expect(tags).toContain('any-x86_64_gcc12.0.0-latest');
    expect(tags).toContain('any-aarch64_gcc12.0.0-latest');
    const index = await client.getManifest(parseReference(`${reg.host}/builders:any_gcc12.0.0-latest`));
    expect(index.mediaType).toBe(MediaType.OciIndex);
    const platforms = (index.manifest as ImageIndex).manifests.map((m) => `${m.platform!.os}/${m.platform!.architecture}`).sort();
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64']);

    // Labels readable from the config blob alone.
    const arm = await client.getImage(parseReference(`${reg.host}/builders:any-aarch64_gcc12.0.0-latest`));
    const config = await client.getConfig({ registry: reg.host, repository: 'builders' }, arm.manifest);
    expect(config.architecture).toBe('arm64');
    expect(config.config?.Labels).toMatchObject({
      'io.builder-images.target': 'any',
      'io.builder-images.arch': 'aarch64',
      'io.builder-images.gcc-versions': '12.0.0',
      'org.opencontainers.image.revision': git(root, 'rev-parse', 'HEAD').trim(),
    });

    // The mirror got the same digests by copy.
    const mirrored = await client.headManifest(parseReference(`${mirror.host}/copy:any_gcc12.0.0-latest`));
    expect(mirrored.digest).toBe(index.digest);
  });

  it('re-running builds nothing, changes no digest and drops no index entry', async () => {
    const before = await client.headManifest(parseReference(`${reg.host}/builders:any_gcc12.0.0-latest`));
    const out = await runCli(['push', '--json', 'builder-any-x86_64_gcc12.0.0.Dockerfile', 'builder-any-aarch64_gcc12.0.0.Dockerfile'], root);
    const result = JSON.parse(out.stdout);
    expect(result.images.map((i: { status: string }) => i.status)).toEqual(['skipped', 'skipped']);
    expect(result.indexes.map((i: { status: string }) => i.status)).toEqual(['unchanged', 'unchanged']);
    expect((await client.headManifest(parseReference(`${reg.host}/builders:any_gcc12.0.0-latest`))).digest).toBe(before.digest);
  });

  it('refuses a dirty image unless allowed on a loopback registry', async () => {
    writeFileSync(join(root, 'images/bin/amd64/x86_64-linux-gnu-gcc-12'), 'dirty');
    const out = await runCli(['push', '--json', 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout).images[0].message).toMatch(/refusing to push a dirty image .*images\/bin\/amd64\/x86_64-linux-gnu-gcc-12.*commit or stash/);
    git(root, 'checkout', '--', 'images/bin/amd64/x86_64-linux-gnu-gcc-12');
  });

  it('an auth error is never read as "absent": nothing is built or pushed', async () => {
    const out = await runCli(['push', '--json', '--repo', `${locked.host}/builders`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
    expect(out.code).toBe(1);
    const image = JSON.parse(out.stdout).images[0];
    expect(image.status).toBe('failed');
    expect(image.message).toMatch(/requires authentication|denied/);
    expect(out.stderr).not.toContain('building');
  });

  it('pushes to a registry with auth: the engine gets the credentials our client resolved, never on a command line', async () => {
    const dockerConfig = join(root, '.cache/docker-config');
    mkdirSync(dockerConfig, { recursive: true });
    const auth = Buffer.from(`${locked.username}:${locked.password}`).toString('base64');
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth } } }));
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dockerConfig;
    try {
      const out = await runCli(['push', '--json', '--repo', `${locked.host}/builders`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout).images[0]).toMatchObject({ status: 'pushed' });
      expect(`${out.stdout}${out.stderr}`).not.toContain(locked.password);
      const authed = new RegistryClient({ credentials: { env: { DOCKER_CONFIG: dockerConfig } } });
      const tags = await authed.listTags({ registry: locked.host, repository: 'builders' });
      expect(tags.filter((t) => t.startsWith('any-x86_64_gcc12.0.0-')).length).toBe(2); // content tag and latest
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });

  it('podman builds, checks in its own storage and pushes the same way', async () => {
    const out = await runCli(['push', '--json', '--engine', 'podman', '--repo', `${reg.host}/podman`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/pushed sha256:\S+ as [^(]+\(by podman; config sha256:\S+ as checked through podman image mount\)/);
    const image = await client.getImage(parseReference(`${reg.host}/podman:any-x86_64_gcc12.0.0-latest`));
    expect(image.digest).toBe(JSON.parse(out.stdout).images[0].digest);
    const config = await client.getConfig({ registry: reg.host, repository: 'podman' }, image.manifest);
    expect(config.config?.Labels).toMatchObject({ 'io.builder-images.arch': 'x86_64', 'io.builder-images.gcc-versions': '12.0.0' });
  });

  it('plan lists what needs building as a matrix; per-arch jobs then --manifests-only assemble the index', async () => {
    writeFileSync(join(root, 'images/bin/amd64/extra-tool'), 'x');
    writeFileSync(join(root, 'images/bin/arm64/extra-tool'), 'x');
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'change both arches');
    const matrix = JSON.parse((await runCli(['plan', '--format', 'github-matrix'], root)).stdout);
    const any = matrix.include.filter((m: { image: string }) => m.image.startsWith('builder-any'));
    expect(any.map((m: { arch: string; platform: string; runner: string }) => [m.arch, m.platform, m.runner]).sort()).toEqual([
      ['aarch64', 'linux/arm64', 'ubuntu-24.04-arm'],
      ['x86_64', 'linux/amd64', 'ubuntu-24.04'],
    ]);
    const job = async (dockerfile: string) => JSON.parse((await runCli(['push', '--json', dockerfile], root)).stdout);
    const first = await job('builder-any-x86_64_gcc12.0.0.Dockerfile');
    expect(first.indexes[0]).toMatchObject({ status: 'skipped', message: expect.stringContaining('waits for every arch') });
    const second = await job('builder-any-aarch64_gcc12.0.0.Dockerfile');
    expect(second.indexes.map((i: { status: string }) => i.status)).toEqual(['pushed', 'pushed']);
    const manifests = JSON.parse((await runCli(['push', '--json', '--manifests-only'], root)).stdout);
    expect(manifests.images).toEqual([]);
    expect(manifests.indexes.map((i: { status: string }) => i.status)).toEqual(['unchanged', 'unchanged']);
    const after = JSON.parse((await runCli(['plan', '--format', 'json'], root)).stdout);
    expect(after.map((r: { image: string }) => r.image)).toEqual(['builder-broken-aarch64_gcc12.0.0']);
  });

  it('pulls a base named in an ARG default from a loopback registry and mounts its layers instead of uploading', async () => {
    // A base made by buildah itself, so the build's export compresses its layer to the same bytes.
    const storage = ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs'];
    const ctr = execFileSync('buildah', [...storage, 'from', '--quiet', 'scratch'], { encoding: 'utf8' }).trim();
    execFileSync('buildah', [...storage, 'copy', ctr, join(root, 'images/bin/amd64'), '/usr/bin/']);
    execFileSync('buildah', [...storage, 'commit', '--quiet', ctr, 'localhost/bi-test-base:1']);
    execFileSync('buildah', [...storage, 'rm', ctr]);
    execFileSync('buildah', [...storage, 'push', '--quiet', '--tls-verify=false', 'localhost/bi-test-base:1', `docker://${reg.host}/base:1`]);
    execFileSync('buildah', [...storage, 'rmi', 'localhost/bi-test-base:1']);
    const { digest } = await client.headManifest(parseReference(`${reg.host}/base:1`));
    writeFileSync(join(root, 'images/builder-based-x86_64_gcc12.0.0.Dockerfile'), `ARG BASE_IMAGE=${reg.host}/base:1@${digest}\nFROM \${BASE_IMAGE}\nLABEL based=yes\n`);
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'an image on a local base');
    const out = await runCli(['push', 'builder-based-x86_64_gcc12.0.0.Dockerfile'], root);
    expect(out.code, out.stderr).toBe(0);
    // Checked in buildah's storage (mounted root), pushed by buildah, and the pushed config is the checked one.
    expect(out.stderr).toMatch(/based-x86_64_gcc12\.0\.0-\S+\] pushed sha256:\S+ as [^(]+\(by buildah; config sha256:\S+ as checked through (podman image mount|buildah mount)\)/);
    const pushed = await client.getImage(parseReference(`${reg.host}/builders:based-x86_64_gcc12.0.0-latest`));
    const base = await client.getImage(parseReference(`${reg.host}/base:1`));
    expect(pushed.manifest.layers[0]!.digest).toBe(base.manifest.layers[0]!.digest);

    // From another loopback registry than the target (plain HTTP only because the Dockerfile names it).
    await client.copy(parseReference(`${reg.host}/base:1`), parseReference(`${mirror.host}/base:1`));
    writeFileSync(join(root, 'images/builder-mirrored-x86_64_gcc12.0.0.Dockerfile'), `ARG BASE_IMAGE=${mirror.host}/base:1@${digest}\nFROM \${BASE_IMAGE}\n`);
    const built = await runCli(['build', '--json', '--output', join(root, '.cache/test-build'), 'builder-mirrored-x86_64_gcc12.0.0.Dockerfile'], root);
    expect(JSON.parse(built.stdout)).toMatchObject([{ file: 'images/builder-mirrored-x86_64_gcc12.0.0.Dockerfile', check: 'ok' }]);
    rmSync(join(root, 'images/builder-mirrored-x86_64_gcc12.0.0.Dockerfile'));
  });
});
