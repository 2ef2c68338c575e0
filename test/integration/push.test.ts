import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type ImageIndex } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { makeRepo, runCli, type CliRun } from '../support/cli.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { git } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushIndex, pushRandomImage } from '../support/synthetic-images.js';

describe('push: real buildah builds into the real registry', () => {
  let reg: TestRegistry;
  let mirror: TestRegistry;
  let locked: TestRegistry;
  let root: string;
  let cleanup: () => void;
  let first: CliRun;
  const client = new RegistryClient();

  beforeAll(async () => {
    [reg, mirror, locked] = await Promise.all([startRegistry(), startRegistry(), startRegistry({ auth: 'htpasswd' })]);
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`, {
      // An aarch64 image whose Dockerfile forgets the versioned link: check must stop it.
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': 'FROM scratch\nCOPY bin/arm64/aarch64-linux-gnu-gcc-12 /usr/bin/\n',
    }));
    // The first push, which every test that reads `builders` starts from: each test passes alone and in any order,
    // and a test that changes the repository or publishes something new does it in a repository of its own.
    first = await runCli(['push', '--repo', `${reg.host}/builders`, '--repo', `${mirror.host}/copy`], root);
  });
  const clones: (() => void)[] = [];
  /** A copy of the test repository (its own git history) publishing to `repository`. */
  const cloneOf = (repository: string): string => {
    const copy = makeRepo({});
    clones.push(copy.cleanup);
    execFileSync('git', ['clone', '-q', root, copy.root + '/r']);
    const dir = join(copy.root, 'r');
    // As in makeBuilderRepo: compiler-only images, the driver builder's contract off.
    writeFileSync(join(dir, 'builder-images.yaml'), `repositories: [${repository}]\nengine: buildah\ncheck: { contract: none }\n`);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'publish elsewhere');
    return dir;
  };
  afterAll(async () => {
    clones.forEach((c) => c());
    cleanup?.();
    await Promise.all([reg?.stop(), mirror?.stop(), locked?.stop()]);
  });

  it('dry run plans and touches nothing', async () => {
    const out = await runCli(['push', '--dry-run', '--repo', `${reg.host}/dry`], root);
    expect(out.stdout).toMatch(/dry run, nothing was touched: would build 3, 0 up to date, would push 2 index\(es\)\n/);
    expect(await client.listTags({ registry: reg.host, repository: 'dry' }).catch(() => [])).toEqual([]);
  });

  it('builds, checks and pushes per arch, assembles the index, copies to a mirror, and blocks a failing check', async () => {
    const out = first;
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
    const x86 = 'images/bin/amd64/x86_64-linux-gnu-gcc-12';
    const arm = 'images/bin/arm64/aarch64-linux-gnu-gcc-12';
    writeFileSync(join(root, x86), Buffer.concat([readFileSync(join(root, x86)), Buffer.from('dirty')]));
    writeFileSync(join(root, arm), Buffer.concat([readFileSync(join(root, arm)), Buffer.from('dirty')]));
    try {
      const refused = await runCli(['push', '--json', '--repo', `${reg.host}/dirty`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout).images[0].message).toMatch(/refusing to push a dirty image .*images\/bin\/amd64\/x86_64-linux-gnu-gcc-12.*commit or stash/);

      // --allow-dirty is honoured on a loopback registry: built and pushed under a -dirty- tag.
      const allowed = await runCli(['push', '--json', '--allow-dirty', '--repo', `${reg.host}/dirty`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root);
      expect(allowed.code, allowed.stderr).toBe(0);
      const image = JSON.parse(allowed.stdout).images[0];
      expect(image).toMatchObject({ status: 'pushed', tag: expect.stringMatching(/^any-x86_64_gcc12\.0\.0-[0-9a-f]{16}-dirty-[0-9a-f]{7}$/) });
      expect(await client.listTags({ registry: reg.host, repository: 'dirty' })).toContain(image.tag);

      // ...and never on any other registry (a dry run of an image in no multi-arch set: nothing is contacted).
      const remote = await runCli(['push', '--json', '--dry-run', '--allow-dirty', '--repo', '192.0.2.1:5000/builders', 'builder-broken-aarch64_gcc12.0.0.Dockerfile'], root);
      expect(remote.code).toBe(1);
      expect(JSON.parse(remote.stdout).images[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(/dirty image .*--allow-dirty only pushes to a loopback registry/) });
    } finally {
      git(root, 'checkout', '--', x86, arm);
    }
  });

  it('keeps the index entries of platforms it did not push', async () => {
    // A repository whose multi-arch tag already lists an s390x image besides ours.
    for (const tag of (await client.listTags({ registry: reg.host, repository: 'builders' })).filter((t) => /^any-(x86_64|aarch64)_/.test(t))) {
      await client.copy(parseReference(`${reg.host}/builders:${tag}`), parseReference(`${reg.host}/kept:${tag}`));
    }
    const s390x = await pushRandomImage(client, parseReference(`${reg.host}/kept:s390x`), { platform: { os: 'linux', architecture: 's390x' } });
    await pushIndex(client, parseReference(`${reg.host}/kept:any_gcc12.0.0-latest`), [{ digest: s390x.digest, size: s390x.bytes.length, platform: { os: 'linux', architecture: 's390x' } }]);

    const out = await runCli(['push', '--json', '--manifests-only', '--repo', `${reg.host}/kept`], root);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).indexes.find((i: { tag: string }) => i.tag === 'any_gcc12.0.0-latest')).toMatchObject({ status: 'pushed' });
    const index = (await client.getManifest(parseReference(`${reg.host}/kept:any_gcc12.0.0-latest`))).manifest as ImageIndex;
    expect(index.manifests.map((m) => m.platform!.architecture).sort()).toEqual(['amd64', 'arm64', 's390x']);
    expect(index.manifests.find((m) => m.platform!.architecture === 's390x')!.digest).toBe(s390x.digest);
  });

  it('--force rebuilds and pushes an image whose content tag exists', async () => {
    const push = async (...flags: string[]) => JSON.parse((await runCli(['push', '--json', ...flags, '--repo', `${reg.host}/force`, 'builder-any-x86_64_gcc12.0.0.Dockerfile'], root)).stdout).images[0];
    const initial = await push();
    expect(initial.status).toBe('pushed');
    expect((await push()).status).toBe('skipped');
    const forced = await push('--force');
    expect(forced).toMatchObject({ status: 'pushed', tag: initial.tag });
  });

  it('--build-arg changes the content tag, and plan decides "needs building" exactly as push does', async () => {
    const x86 = 'builder-any-x86_64_gcc12.0.0.Dockerfile';
    const repository = `${reg.host}/args`;
    const plan = async (...flags: string[]) => JSON.parse((await runCli(['plan', '--format', 'json', '--all', '--repo', repository, ...flags], root)).stdout) as { dockerfile: string; tag: string; built: boolean }[];
    const planned = async (...flags: string[]) => (await plan(...flags)).find((r) => r.dockerfile.endsWith(x86))!;

    const plain = JSON.parse((await runCli(['push', '--json', '--repo', repository, x86], root)).stdout).images[0];
    expect(plain.status).toBe('pushed');
    expect(await planned()).toMatchObject({ tag: plain.tag, built: true });
    const before = await planned('--build-arg', 'MARKER=1');
    expect(before.built).toBe(false);
    expect(before.tag).not.toBe(plain.tag);

    // The image built with the arg is a different image: it gets its own tag, never "content tag exists".
    const withArg = JSON.parse((await runCli(['push', '--json', '--repo', repository, '--build-arg', 'MARKER=1', x86], root)).stdout).images[0];
    expect(withArg).toMatchObject({ status: 'pushed', tag: before.tag });
    expect(await planned('--build-arg', 'MARKER=1')).toMatchObject({ tag: before.tag, built: true });

    // One answer for both: every image plan calls built is one push would skip, and the other way round.
    for (const flags of [[], ['--build-arg', 'MARKER=1']]) {
      const dry = JSON.parse((await runCli(['push', '--json', '--dry-run', '--repo', repository, ...flags], root)).stdout).images as { file: string; tag: string; status: string }[];
      const rows = await plan(...flags);
      expect(rows.map((r) => [r.dockerfile, r.tag, r.built])).toEqual(dry.map((d) => [d.file, d.tag, d.status === 'would-skip']));
      expect(rows.some((r) => r.built) && rows.some((r) => !r.built)).toBe(true);
    }
  });

  it('--scheme commit tags every image with the HEAD commit', async () => {
    const out = await runCli(['push', '--json', '--dry-run', '--scheme', 'commit', '--repo', `${reg.host}/scheme`], root);
    const head = git(root, 'rev-parse', 'HEAD').trim();
    expect(JSON.parse(out.stdout).images.map((i: { tag: string }) => i.tag)).toEqual(['any-aarch64_gcc12.0.0', 'any-x86_64_gcc12.0.0', 'broken-aarch64_gcc12.0.0'].map((n) => `${n}-${head}`));
  });

  it('--jobs 1 builds one image at a time', async () => {
    const out = await runCli(['push', '--jobs', '1', '--repo', `${reg.host}/jobs`, 'builder-any-x86_64_gcc12.0.0.Dockerfile', 'builder-any-aarch64_gcc12.0.0.Dockerfile'], root);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stderr.split('\n');
    const at = (arch: string, what: RegExp) => lines.findIndex((l) => l.includes(`any-${arch}_gcc12.0.0-`) && what.test(l));
    const [a, b] = [at('x86_64', /\] building /), at('aarch64', /\] building /)].sort((x, y) => x - y);
    expect(a).toBeGreaterThanOrEqual(0);
    // The second build starts only after the first image is pushed.
    const firstArch = lines[a!]!.includes('x86_64') ? 'x86_64' : 'aarch64';
    expect(at(firstArch, /\] pushed sha256:/)).toBeGreaterThan(a!);
    expect(at(firstArch, /\] pushed sha256:/)).toBeLessThan(b!);
    expect((await runCli(['push', '--jobs', '0'], root)).code).toBe(2);
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
    // Its own clone and repository: it commits a change and publishes its images.
    const root = cloneOf(`${reg.host}/matrix`);
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
    const root = cloneOf(`${reg.host}/builders`);
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
