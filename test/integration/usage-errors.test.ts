/**
 * Input the user must fix is a usage error: exit 2, one line on stderr naming what is wrong and what to do, and
 * nothing done (nothing written, nothing handed to an engine or a registry).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo, PINNED_DOCKERFILE, runCli } from '../support/cli.js';
import { gitInitCommit } from '../support/git.js';
import { file, tarOf } from '../support/image-builder.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function repo(extra: Record<string, string | { link: string }> = {}): string {
  const r = makeRepo({
    'builder-images.yaml': 'repositories: [127.0.0.1:1/builders]\nengine: buildah\n',
    'images/builder-any-x86_64_gcc12.0.0.Dockerfile': PINNED_DOCKERFILE,
    'images/builder-any-aarch64_gcc12.0.0.Dockerfile': { link: 'builder-any-x86_64_gcc12.0.0.Dockerfile' },
    ...extra,
  });
  cleanups.push(r.cleanup);
  gitInitCommit(r.root);
  return r.root;
}

/** Exit 2 and exactly one line on stderr, matching `message`. */
async function expectUsageError(args: string[], root: string | undefined, message: RegExp): Promise<void> {
  const out = await runCli(args, root);
  expect(out.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(out.stderr).toMatch(message);
  expect(out.code, out.stderr).toBe(2);
}

const BOMB = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');

describe('usage errors exit 2 with one line', () => {
  it('a Dockerfile that does not exist: push, build, check, tag', async () => {
    const root = repo();
    await expectUsageError(['push', '--dry-run', 'builder-nope-x86_64_gcc1.0.0.Dockerfile'], root, /no image in images\/ matches builder-nope/);
    await expectUsageError(['build', 'builder-nope-x86_64_gcc1.0.0.Dockerfile'], root, /no image in images\/ matches builder-nope/);
    await expectUsageError(['tag', '--image', 'builder-nope-x86_64_gcc1.0.0.Dockerfile'], root, /no image in images\/ matches builder-nope/);
    await expectUsageError(['check', 'images/builder-nope-x86_64_gcc1.0.0.Dockerfile'], root, /images\/builder-nope-x86_64_gcc1\.0\.0\.Dockerfile/);
  });

  it('push --boot without --verify, and boot flags without --boot, before anything is built', async () => {
    const root = repo();
    expect(await runCli(['push', '--boot'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--boot goes with --verify') });
    expect(await runCli(['push', '--verify', '--boot-timeout', '5'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--boot-timeout needs --boot') });
    expect(await runCli(['push', '--verify', '--boot', '--boot-timeout', 'x'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--boot-timeout x') });
  });

  it('--cwd naming a missing directory, which is not created', async () => {
    const root = repo();
    const missing = join(root, 'not-there');
    await expectUsageError(['--cwd', missing, 'index'], undefined, /--cwd .*not-there: no such directory/);
    expect(existsSync(missing)).toBe(false);
  });

  it('repositories and tags given by flag that are not valid ones, upper case included', async () => {
    const root = repo();
    await expectUsageError(['index', '--stdout', '--repo', 'ghcr.io/Org/builders'], root, /--repo ghcr\.io\/Org\/builders: repository names must be lower case/);
    await expectUsageError(['index', '--stdout', '--repo', 'ghcr.io/org/builders:v1'], root, /--repo ghcr\.io\/org\/builders:v1: a repository has no tag/);
    await expectUsageError(['index', '--stdout', '--tag', 'bad:tag'], root, /--tag bad:tag: not a valid tag/);
    await expectUsageError(['index', '--stdout', '--tag=-x'], root, /--tag -x: not a valid tag/);
    await expectUsageError(['push', '--dry-run', '--repo', '127.0.0.1:1/Builders'], root, /--repo 127\.0\.0\.1:1\/Builders: repository names must be lower case/);
    await expectUsageError(['plan', '--repo', '127.0.0.1:1/Builders'], root, /--repo 127\.0\.0\.1:1\/Builders: repository names must be lower case/);
    await expectUsageError(['check', '--all', '--repo', 'Bad Repo'], root, /--repo Bad Repo: /);
    await expectUsageError(['push', '--dry-run', '--version', 'v1/2'], root, /--version v1\/2: not a valid tag/);
  });

  it("a command's --version is the command's, never the program's (which would print 0.1.0, exit 0, do nothing)", async () => {
    const root = repo();
    const tagged = await runCli(['tag', '--json', '--version', 'v9.9'], root);
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(JSON.parse(tagged.stdout)[0].tags).toContain('any-aarch64_gcc12.0.0-v9.9');
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect((await runCli(['-V'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an engine image name that an engine would read as a flag never reaches it', async () => {
    const root = repo();
    for (const engine of ['docker', 'podman', 'buildah']) {
      await expectUsageError(['check', '--name', 'builder-any-x86_64_gcc12.0.0.Dockerfile', `${engine}:--output=${join(root, 'pwned')}`], root, new RegExp(`${engine}:--output=.*is not an image name`));
    }
    await expectUsageError(['check', '--name', 'builder-any-x86_64_gcc12.0.0.Dockerfile', 'Not A Reference'], root, /invalid image reference "Not A Reference"/);
    expect(existsSync(join(root, 'pwned'))).toBe(false);
  });

  it('a config file whose YAML aliases expand too far is refused, naming the file', async () => {
    const root = repo();
    writeFileSync(join(root, 'builder-images.yaml'), `${BOMB}\n`);
    await expectUsageError(['lint'], root, /^error: builder-images\.yaml: refused: its YAML aliases expand too far/);
  });

  it('an index whose YAML aliases expand too far is refused, naming the file; a valid alias is accepted', async () => {
    const root = repo();
    writeFileSync(join(root, 'bomb.yaml'), `images:\n  - ${BOMB.replace(/\n/g, '\n    ')}\n`);
    await expectUsageError(['select', '--index', 'bomb.yaml', '--target', 'any', '--arch', 'x86_64', '--gcc', '12.0.0'], root, /^error: bomb\.yaml:1: refused: its YAML aliases expand too far/);
    expect((await runCli(['index'], root)).code).toBe(0);
    const withAlias = readFileSync(join(root, 'index.yaml'), 'utf8')
      .replace(/gcc_versions:\n(\s+- 12\.0\.0)/, 'gcc_versions: &gccs\n$1')
      .replace(/(aarch64[\s\S]*?)gcc_versions:\n\s+- 12\.0\.0/, '$1gcc_versions: *gccs');
    expect(withAlias).toContain('*gccs');
    writeFileSync(join(root, 'aliased.yaml'), withAlias);
    const picked = await runCli(['select', '--index', 'aliased.yaml', '--target', 'any', '--arch', 'x86_64', '--gcc', '12.0.0'], root);
    expect(picked.stdout).toContain('image:  127.0.0.1:1/builders:any-x86_64_gcc12.0.0-latest');
    expect(picked.code).toBe(0);
  });

  it('index.file and imagesDir pointing outside the repository', async () => {
    const root = repo();
    writeFileSync(join(root, 'builder-images.yaml'), 'repositories: [127.0.0.1:1/builders]\nindex:\n  file: ../outside.yaml\n');
    await expectUsageError(['index'], root, /^error: builder-images\.yaml:3: "index\.file": must be a path inside the repository/);
    expect(existsSync(join(root, '..', 'outside.yaml'))).toBe(false);
    writeFileSync(join(root, 'builder-images.yaml'), 'repositories: [127.0.0.1:1/builders]\nimagesDir: /etc\n');
    await expectUsageError(['lint'], root, /^error: builder-images\.yaml:2: "imagesDir": must be a path inside the repository/);
  });

  it('errors a user can cause are typed: a FROM cycle, a source that is not what its prefix says', async () => {
    const own = '127.0.0.1:1/builders';
    const cyclic = repo({
      'images/builder-a-x86_64_gcc12.0.0.Dockerfile': `FROM ${own}:b-x86_64_gcc12.0.0-latest\n`,
      'images/builder-b-x86_64_gcc12.0.0.Dockerfile': `FROM ${own}:a-x86_64_gcc12.0.0-latest\n`,
    });
    await expectUsageError(['tag'], cyclic, /images\/builder-[ab]-x86_64_gcc12\.0\.0\.Dockerfile builds FROM images\/builder-[ab]-x86_64_gcc12\.0\.0\.Dockerfile, which builds FROM it in turn: break the cycle/);
    const root = repo({ 'not-a-layout/readme': 'x' });
    writeFileSync(join(root, 'not-an-archive.tar'), await tarOf([file('hello', 'x', 0o644)]));
    const name = ['--name', 'builder-any-x86_64_gcc12.0.0.Dockerfile'];
    await expectUsageError(['check', ...name, 'oci:not-a-layout'], root, /not-a-layout is not an OCI image layout \(no index\.json\): point oci: at the layout's directory/);
    await expectUsageError(['check', ...name, 'docker-archive:not-an-archive.tar'], root, /not-an-archive\.tar is not a docker save archive/);
    writeFileSync(join(root, 'garbage.tar'), Buffer.alloc(1024, 0x41));
    await expectUsageError(['check', ...name, 'docker-archive:garbage.tar'], root, /garbage\.tar is not a valid tar: .*give the file `docker save -o FILE IMAGE` wrote/);
  });
});
