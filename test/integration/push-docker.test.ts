/**
 * The docker engine for real: a private dockerd (vfs, no iptables, no bridge) builds both arches; without buildx
 * that is the classic builder plus `docker save`, converted to an OCI layout, then checked and pushed like any build.
 * The images build FROM a small multi-arch base in the local registry: the classic builder cannot build FROM
 * scratch for a foreign platform (its intermediate images take the host's platform), which push explains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType, type ImageIndex } from '../../src/core/oci.js';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { makeBuilderRepo, SCRATCH_DOCKERFILE } from '../support/builder-repo.js';
import { file, pushLayeredImage } from '../support/image-builder.js';
import { pushIndex } from '../support/synthetic-images.js';
import { startDockerd, type TestDockerd } from '../support/dockerd.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

describe('push with --engine docker (private dockerd)', () => {
  let reg: TestRegistry;
  let dockerd: TestDockerd;
  let root: string;
  let cleanup: () => void;
  const client = new RegistryClient();
  const savedHost = process.env.DOCKER_HOST;

  beforeAll(async () => {
    [reg, dockerd] = await Promise.all([startRegistry(), startDockerd()]);
    process.env.DOCKER_HOST = dockerd.host;
    const children = [];
    for (const architecture of ['amd64', 'arm64']) {
      const ref = parseReference(`${reg.host}/base:${architecture}`);
      const image = await pushLayeredImage(client, ref, [[file('etc/base-release', `base ${architecture}\n`, 0o644)]], { arch: architecture });
      children.push({ digest: image.digest, size: image.manifestBytes.length, platform: { os: 'linux', architecture } });
    }
    const base = `${reg.host}/base:1@${await pushIndex(client, parseReference(`${reg.host}/base:1`), children)}`;
    const fromBase = SCRATCH_DOCKERFILE.replace('FROM scratch', `ARG BASE_IMAGE=${base}\nFROM \${BASE_IMAGE}`);
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`, {
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': fromBase,
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': `FROM ${base}\nCOPY bin/arm64/aarch64-linux-gnu-gcc-12 /usr/bin/\n`,
      'images/builder-scratch-aarch64_gcc12.0.0.Dockerfile': SCRATCH_DOCKERFILE,
    }));
  }, 120_000);
  afterAll(async () => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedHost;
    cleanup?.();
    await Promise.all([reg?.stop(), dockerd?.stop()]);
  });

  it('builds both arches, checks them, pushes tags and the multi-arch index, and refuses the broken one', async () => {
    const out = await runCli(['push', '--engine', 'docker', '--json'], root);
    const result = JSON.parse(out.stdout) as { images: { file: string; status: string; message?: string }[]; indexes: { status: string }[] };
    expect(out.code).toBe(1);
    const status = Object.fromEntries(result.images.map((i) => [i.file, i.status]));
    expect(status, result.images.map((i) => `${i.file}: ${i.message ?? ''}`).join('\n')).toEqual({
      'images/builder-any-aarch64_gcc12.0.0.Dockerfile': 'pushed',
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': 'pushed',
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': 'failed',
      'images/builder-scratch-aarch64_gcc12.0.0.Dockerfile': 'failed',
    });
    expect(result.images.find((i) => i.file.includes('scratch'))!.message).toMatch(/classic docker builder .*FROM scratch.*--engine buildah/);
    expect(result.images.find((i) => i.file.includes('broken'))!.message).toMatch(/check failed, nothing published: \/usr\/bin\/gcc-12\.0\.0 is missing/);

    const tags = await client.listTags({ registry: reg.host, repository: 'builders' });
    expect(tags.filter((t) => t.startsWith('broken') || t.startsWith('scratch'))).toEqual([]);
    const index = await client.getManifest(parseReference(`${reg.host}/builders:any_gcc12.0.0-latest`));
    expect(index.mediaType).toBe(MediaType.OciIndex);
    const platforms = (index.manifest as ImageIndex).manifests.map((m) => `${m.platform!.os}/${m.platform!.architecture}`).sort();
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64']);

    const arm = await client.getImage(parseReference(`${reg.host}/builders:any-aarch64_gcc12.0.0-latest`));
    expect(arm.manifest.layers.every((l) => l.mediaType === MediaType.OciLayerGzip)).toBe(true);
    const config = await client.getConfig({ registry: reg.host, repository: 'builders' }, arm.manifest);
    expect(config.architecture).toBe('arm64');
    expect(config.config?.Labels).toMatchObject({ 'io.builder-images.arch': 'aarch64', 'io.builder-images.gcc-versions': '12.0.0' });

    // What was pushed passes check straight from the registry (TARGETARCH reached the classic builder).
    const check = await runCli(['check', `${reg.host}/builders:any-aarch64_gcc12.0.0-latest`, `${reg.host}/builders:any-x86_64_gcc12.0.0-latest`], root);
    expect(check.code).toBe(0);
  }, 300_000);
});
