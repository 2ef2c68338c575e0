import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { runCli } from '../support/cli.js';
import { makeBuilderRepo } from '../support/builder-repo.js';
import { git } from '../support/git.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { pushRandomImage } from '../support/synthetic-images.js';

describe('index --verify and --from-registry against a real registry after real pushes', () => {
  let reg: TestRegistry;
  let root: string;
  let cleanup: () => void;
  const client = new RegistryClient();

  beforeAll(async () => {
    reg = await startRegistry();
    ({ root, cleanup } = makeBuilderRepo(`${reg.host}/builders`, {
      // An aarch64 image whose Dockerfile forgets the versioned link: its check refuses it, nothing is published.
      'images/builder-broken-aarch64_gcc12.0.0.Dockerfile': 'FROM scratch\nCOPY bin/arm64/aarch64-linux-gnu-gcc-12 /usr/bin/\n',
    }));
    const push = await runCli(['push'], root);
    expect(push.code, push.stdout + push.stderr).toBe(1);
    expect(push.stdout).toMatch(/broken-aarch64_gcc12\.0\.0-\S+\s+aarch64\s+failed/);
  });
  afterAll(async () => {
    cleanup?.();
    await reg?.stop();
  });

  it('a push whose image failed its check leaves an index --verify failure naming that image', async () => {
    const broken = `${reg.host}/builders:broken-aarch64_gcc12.0.0-latest`;
    // index and index --check know nothing of the registry: they still list the image.
    expect((await runCli(['index', '--stdout'], root)).stdout).toContain(`name: ${broken}\n`);
    const out = await runCli(['index', '--verify'], root);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`missing: ${broken}: the registry has no such image`);
    expect(out.stdout).toMatch(/3 index entries verified: 2 ok, 1 missing, 0 disagreeing, 0 error\(s\)/);
    expect(out.stdout).not.toMatch(/any-(x86_64|aarch64)_gcc12\.0\.0-latest/);

    const json = JSON.parse((await runCli(['index', '--verify', '--json'], root)).stdout) as { name: string; status: string; digest: string | null }[];
    expect(json.map((v) => [v.name.split(':').pop(), v.status])).toEqual([
      ['broken-aarch64_gcc12.0.0-latest', 'missing'],
      ['any-aarch64_gcc12.0.0-latest', 'ok'],
      ['any-x86_64_gcc12.0.0-latest', 'ok'],
    ]);
    const pushed = await client.headManifest(parseReference(`${reg.host}/builders:any-x86_64_gcc12.0.0-latest`));
    expect(json[2]!.digest).toBe(pushed.digest);

    const github = await runCli(['index', '--verify', '--format', 'github'], root);
    expect(github.stdout).toContain(`::error title=index entry missing::missing: ${broken}`);
  });

  it('--from-registry reads the tags as the driver builder does and --check diffs them with the declared index', async () => {
    const tags = await client.listTags({ registry: reg.host, repository: 'builders' });
    // Content tags and multi-arch index tags are there, and are not builder images to the driver builder.
    expect(tags).toContain('any_gcc12.0.0-latest');
    expect(tags.some((t) => /^any-x86_64_gcc12\.0\.0-[0-9a-f]{16}$/.test(t))).toBe(true);
    const seen = await runCli(['index', '--from-registry'], root);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout.match(/^ {2}- name: .*$/gm)).toEqual([
      `  - name: ${reg.host}/builders:any-aarch64_gcc12.0.0-latest`,
      `  - name: ${reg.host}/builders:any-x86_64_gcc12.0.0-latest`,
    ]);
    const diff = await runCli(['index', '--from-registry', '--check'], root);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`-  - name: ${reg.host}/builders:broken-aarch64_gcc12.0.0-latest`);
    expect(diff.stdout).toMatch(/differs from the declared index/);
  });

  it('after a full push the registry serves exactly the declared index, and --verify passes', async () => {
    git(root, 'rm', '-q', 'images/builder-broken-aarch64_gcc12.0.0.Dockerfile');
    git(root, 'commit', '-qm', 'drop the broken image');
    const push = await runCli(['push'], root);
    expect(push.code, push.stdout).toBe(0);
    const fromRegistry = await runCli(['index', '--from-registry'], root);
    const declared = await runCli(['index', '--stdout'], root);
    expect(fromRegistry.stdout).toBe(declared.stdout);
    expect(await runCli(['index', '--from-registry', '--check'], root)).toMatchObject({ code: 0, stdout: expect.stringContaining('serves exactly the declared index (2 image(s))') });
    expect(await runCli(['index', '--verify'], root)).toMatchObject({ code: 0, stdout: expect.stringContaining('2 index entries verified: 2 ok, 0 missing') });
  });

  it('--verify names an image whose labels or platform disagree with its entry', async () => {
    const fake = `${reg.host}/fake`;
    // Right tag, wrong content: a GCC list and a platform the name does not promise, and no target label.
    await pushRandomImage(client, parseReference(`${fake}:any-x86_64_gcc12.0.0-latest`), {
      platform: { os: 'linux', architecture: 'arm64' },
      labels: { 'io.builder-images.arch': 'x86_64', 'io.builder-images.gcc-versions': '11.0.0' },
    });
    const out = await runCli(['index', '--verify', '--repo', fake, '--json'], root);
    expect(out.code).toBe(1);
    const verdicts = JSON.parse(out.stdout) as { name: string; status: string; problems: string[] }[];
    expect(verdicts.find((v) => v.name.endsWith('any-aarch64_gcc12.0.0-latest'))).toMatchObject({ status: 'missing' });
    expect(verdicts.find((v) => v.name.endsWith('any-x86_64_gcc12.0.0-latest'))).toEqual({
      name: `${fake}:any-x86_64_gcc12.0.0-latest`,
      target: 'any',
      arch: 'x86_64',
      tag: 'latest',
      status: 'disagrees',
      digest: expect.stringMatching(/^sha256:/),
      problems: [
        'label io.builder-images.target is missing (wanted "any")',
        'label io.builder-images.gcc-versions is "11.0.0", the index says "12.0.0"',
        'the image is for linux/arm64, the index says x86_64 (linux/amd64)',
      ],
      provenKernels: [],
    });
  });

  it('select --from-registry picks among the registry\'s tags and prints the driverkit flags for it', async () => {
    const out = await runCli(['select', '--from-registry', `${reg.host}/builders`, '--target', 'debian', '--arch', 'aarch64', '--kernel-release', '6.1.0-18-arm64', '--json'], root);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      image: `${reg.host}/builders:any-aarch64_gcc12.0.0-latest`,
      reason: 'fallback',
      driverkit: { registry: ['--target', 'debian', '--architecture', 'arm64', '--kernelrelease', '6.1.0-18-arm64', '--builderrepo', `${reg.host}/builders`, '--builderimage', 'auto:latest'] },
    });
    const none = await runCli(['select', '--from-registry', `${reg.host}/builders`, '--tag', 'v9', '--target', 'debian', '--arch', 'aarch64', '--gcc', '12'], root);
    expect(none.code).toBe(1);
    const image = await runCli(['select', '--from-registry', `${reg.host}/builders:latest`, '--target', 'debian', '--arch', 'aarch64', '--gcc', '12'], root);
    expect(image.code).toBe(2);
    expect(image.stderr).toContain('names an image, not a repository: drop the tag or digest');
    expect(none.stderr).toContain(`no image in ${reg.host}/builders for target debian (or any), arch aarch64, tag v9`);
  });
});
