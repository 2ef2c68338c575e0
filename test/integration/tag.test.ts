import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRepo } from '../../src/app/repo.js';
import { computeTags, describeInputs, sanitizeRef } from '../../src/app/tags.js';
import { DIGEST_A, makeRepo, runCli } from '../support/cli.js';
import { git, gitInitCommit } from '../support/git.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const X86 = 'images/builder-any-x86_64_gcc12.0.0.Dockerfile';
const ARM = 'images/builder-any-aarch64_gcc12.0.0.Dockerfile';
const CENTOS = 'images/builder-centos-x86_64_gcc4.8.5.Dockerfile';
const DEP = 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile';

function setup() {
  const r = makeRepo({
    'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\n',
    [X86]: `FROM debian:12@${DIGEST_A}\nCOPY scripts/links.sh /tmp/\nRUN sh /tmp/links.sh\n`,
    [ARM]: { link: 'builder-any-x86_64_gcc12.0.0.Dockerfile' },
    [CENTOS]: `FROM centos:7@${DIGEST_A}\nCOPY common/ /opt/common/\n`,
    [DEP]: 'ARG BASE=127.0.0.1:5000/builders:any-x86_64_gcc12.0.0-latest\nFROM ${BASE}\n',
    'images/scripts/links.sh': 'ln -s a b\n',
    'images/common/a.txt': 'a\n',
    'images/common/sub/b.txt': 'b\n',
    'images/unrelated.txt': 'x\n',
    'README.md': 'hi\n',
  });
  cleanups.push(r.cleanup);
  gitInitCommit(r.root);
  return r.root;
}

async function tagsOf(root: string, opts: Parameters<typeof computeTags>[1] = {}) {
  const all = await computeTags(await loadRepo(root), opts);
  return Object.fromEntries(all.map((t) => [t.file, t]));
}

describe('tags from git', () => {
  it('gives a tree id that changes exactly when an input changes', async () => {
    const root = setup();
    const before = await tagsOf(root);
    expect(before[X86]!.contentTag).toMatch(/^any-x86_64_gcc12\.0\.0-[0-9a-f]{16}$/);
    expect(before[X86]!.tags).toEqual([before[X86]!.contentTag, 'any-x86_64_gcc12.0.0-latest']);
    expect(before[ARM]!.version).toBe(before[X86]!.version); // one Dockerfile for both arches
    expect(before[CENTOS]!.inputs.filter((i) => i.kind === 'context').map((i) => i.path)).toEqual(['images/common/a.txt', 'images/common/sub/b.txt']);

    writeFileSync(join(root, 'images/unrelated.txt'), 'changed\n');
    writeFileSync(join(root, 'README.md'), 'changed\n');
    git(root, 'commit', '-qam', 'unrelated');
    const same = await tagsOf(root);
    expect(same[X86]!.contentTag).toBe(before[X86]!.contentTag);

    writeFileSync(join(root, 'images/scripts/links.sh'), 'ln -s a c\n');
    git(root, 'commit', '-qam', 'script');
    const after = await tagsOf(root);
    expect(after[X86]!.version).not.toBe(before[X86]!.version);
    expect(after[CENTOS]!.version).toBe(before[CENTOS]!.version);
    // The dependent image's id follows its base's.
    expect(after[DEP]!.inputs.find((i) => i.kind === 'base-image')).toEqual({ kind: 'base-image', path: X86, id: after[X86]!.contentTag });
    expect(after[DEP]!.version).not.toBe(before[DEP]!.version);
  });

  it('explains the id: git hash-object of the input list gives it back', async () => {
    const root = setup();
    const t = (await tagsOf(root))[CENTOS]!;
    const id = execFileSync('git', ['hash-object', '--stdin'], { cwd: root, input: describeInputs(t.inputs), encoding: 'utf8' }).trim();
    expect(id.slice(0, 16)).toBe(t.version);
    const out = await runCli(['tag', '--explain', '--image', 'builder-centos-x86_64_gcc4.8.5.Dockerfile'], root);
    expect(out.stdout).toContain(`context ${git(root, 'rev-parse', 'HEAD:images/common/a.txt').trim()} images/common/a.txt`);
  });

  it('marks dirty inputs, and two dirty states never share a tag', async () => {
    const root = setup();
    const clean = (await tagsOf(root))[X86]!;
    writeFileSync(join(root, 'images/scripts/links.sh'), 'dirty one\n');
    const d1 = (await tagsOf(root))[X86]!;
    writeFileSync(join(root, 'images/scripts/links.sh'), 'dirty two\n');
    const d2 = (await tagsOf(root))[X86]!;
    expect(d1.version).toMatch(new RegExp(`^[0-9a-f]{16}-dirty-[0-9a-f]{7}$`));
    expect(d1.version).not.toBe(d2.version);
    expect(d1.dirtyPaths).toEqual(['images/scripts/links.sh']);
    expect((await tagsOf(root))[CENTOS]!.dirty).toBe(false);
    expect(clean.dirty).toBe(false);
    // An untracked file a COPY reads makes the image dirty too.
    writeFileSync(join(root, 'images/common/new.txt'), 'new\n');
    expect((await tagsOf(root))[CENTOS]!.dirtyPaths).toEqual(['images/common/new.txt']);
    expect(git(root, 'status', '--porcelain')).toContain('images/common/new.txt'); // nothing was staged or written by us
  });

  it('commit scheme, ref names and the JSON output', async () => {
    const root = setup();
    const head = git(root, 'rev-parse', 'HEAD').trim();
    expect((await tagsOf(root, { scheme: 'commit' }))[X86]!.version).toBe(head);
    expect((await tagsOf(root, { scheme: 'commit', short: true }))[X86]!.version).toBe(git(root, 'rev-parse', '--short', 'HEAD').trim());
    expect((await tagsOf(root, { withRef: true, env: { GITHUB_REF_NAME: 'feature/x y' } }))[X86]!.tags).toContain('any-x86_64_gcc12.0.0-feature-x-y');
    expect(sanitizeRef('v1.2.3')).toBe('v1.2.3');
    const json = JSON.parse((await runCli(['tag', '--json', '--ref'], root)).stdout);
    expect(json).toHaveLength(4);
    expect(json[0].tags).toContain(`${json[0].target}-${json[0].arch}_gcc${json[0].gccVersions.join('_gcc')}-main`);
  });
});

describe('every build input is a committed, tracked blob inside the repository, or the image is dirty', () => {
  const LINKED = 'images/builder-linked-x86_64_gcc12.0.0.Dockerfile';
  const linkedRepo = (target: string, extra: Record<string, string | { link: string }> = {}) => {
    const r = makeRepo({ 'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\n', [LINKED]: { link: target }, ...extra });
    cleanups.push(r.cleanup);
    return r.root;
  };
  const commitAll = (root: string) => {
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'init');
  };

  it('a Dockerfile symlink to a git-ignored file', async () => {
    const root = linkedRepo('real.Dockerfile.local', { '.gitignore': '*.local\n', 'images/real.Dockerfile.local': 'FROM scratch\n' });
    commitAll(root);
    const t = (await tagsOf(root))[LINKED]!;
    expect(t.dirty).toBe(true);
    expect(t.dirtyPaths).toEqual(['images/real.Dockerfile.local']);
    expect(t.version).toMatch(/-dirty-[0-9a-f]{7}$/);
  });

  it('a Dockerfile symlink to a file outside the repository: dirty, and its content still moves the tag', async () => {
    const outside = makeRepo({ 'x.Dockerfile': 'FROM scratch\n' });
    cleanups.push(outside.cleanup);
    const root = linkedRepo(join(outside.root, 'x.Dockerfile'));
    commitAll(root);
    const first = (await tagsOf(root))[LINKED]!;
    expect(first.dirty).toBe(true);
    expect(first.dirtyPaths).toEqual([join(realpathSync(outside.root), 'x.Dockerfile')]);
    writeFileSync(join(outside.root, 'x.Dockerfile'), 'FROM scratch\nLABEL changed=1\n');
    const second = (await tagsOf(root))[LINKED]!;
    expect(second.version).not.toBe(first.version);
    // push refuses it, as any dirty image.
    const push = await runCli(['push', '--dry-run', '--json'], root);
    expect(push.code).toBe(1);
    expect(JSON.parse(push.stdout).images[0].message).toMatch(/refusing to push a dirty image/);
  });

  it('a Dockerfile symlink elsewhere in the repository: untracked is dirty; tracked follows its content', async () => {
    const root = linkedRepo('../dockerfiles/x.Dockerfile', { 'dockerfiles/x.Dockerfile': 'FROM scratch\n' });
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', 'builder-images.yaml', LINKED);
    git(root, 'commit', '-qm', 'the link only');
    expect((await tagsOf(root))[LINKED]!.dirtyPaths).toEqual(['dockerfiles/x.Dockerfile']);
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'its target');
    const clean = (await tagsOf(root))[LINKED]!;
    expect(clean.dirty).toBe(false);
    expect(clean.inputs[0]).toEqual({ kind: 'dockerfile', path: 'dockerfiles/x.Dockerfile', id: git(root, 'rev-parse', 'HEAD:dockerfiles/x.Dockerfile').trim() });
    writeFileSync(join(root, 'dockerfiles/x.Dockerfile'), 'FROM scratch\nLABEL edited=1\n');
    expect((await tagsOf(root))[LINKED]!.dirtyPaths).toEqual(['dockerfiles/x.Dockerfile']);
    git(root, 'commit', '-qam', 'edit');
    const edited = (await tagsOf(root))[LINKED]!;
    expect(edited.dirty).toBe(false);
    expect(edited.version).not.toBe(clean.version);
  });

  it('a git-ignored COPY source, and a git-ignored Dockerfile', async () => {
    const root = setup();
    writeFileSync(join(root, '.gitignore'), 'secret.txt\nimages/builder-*-ignored*\n');
    git(root, 'add', '.gitignore');
    git(root, 'commit', '-qm', 'ignore');
    expect((await tagsOf(root))[CENTOS]!.dirty).toBe(false);
    writeFileSync(join(root, 'images/common/sub/secret.txt'), 'not committed\n');
    expect((await tagsOf(root))[CENTOS]!.dirtyPaths).toEqual(['images/common/sub/secret.txt']);
    const ignored = 'images/builder-ignored-x86_64_gcc12.0.0.Dockerfile';
    writeFileSync(join(root, ignored), 'FROM scratch\n');
    expect((await tagsOf(root))[ignored]!.dirtyPaths).toEqual([ignored]);
  });
});

describe('build args are inputs of the content tag', () => {
  it('a --build-arg changes the tag, overrides the config value, and shows in tag --explain', async () => {
    const root = setup();
    const plain = JSON.parse((await runCli(['tag', '--json', '--image', X86], root)).stdout)[0];
    const withArg = JSON.parse((await runCli(['tag', '--json', '--image', X86, '--build-arg', 'FLAVOUR=slim'], root)).stdout)[0];
    expect(withArg.contentTag).not.toBe(plain.contentTag);
    expect(withArg.inputs).toContainEqual({ kind: 'build-arg', path: 'FLAVOUR', id: 'slim' });
    const explained = await runCli(['tag', '--explain', '--image', X86, '--build-arg', 'FLAVOUR=slim'], root);
    expect(explained.stdout).toContain(`-> ${withArg.contentTag}`);
    expect(explained.stdout).toMatch(/^build-arg slim FLAVOUR$/m);

    // The same arg from the config gives the same tag; the flag wins over the config's value.
    writeFileSync(join(root, 'builder-images.yaml'), 'repositories: [127.0.0.1:5000/builders]\nbuildArgs:\n  FLAVOUR: slim\n');
    const fromConfig = JSON.parse((await runCli(['tag', '--json', '--image', X86], root)).stdout)[0];
    expect(fromConfig.version.replace(/-dirty-.*/, '')).toBe(withArg.version);
    const overridden = await computeTags(await loadRepo(root), { buildArgs: { FLAVOUR: 'full' } });
    expect(overridden.find((t) => t.file === X86)!.inputs.filter((i) => i.kind === 'build-arg')).toEqual([{ kind: 'build-arg', path: 'FLAVOUR', id: 'full' }]);
  });
});

describe('issue 23 item 6: the content tag follows what COPY/ADD really read', () => {
  const SEC = 'images/builder-sec-x86_64_gcc12.0.0.Dockerfile';
  const GLOB = 'images/builder-glob-x86_64_gcc12.0.0.Dockerfile';
  const LINKED_SRC = 'images/builder-linked-x86_64_gcc12.0.0.Dockerfile';

  function contextRepo(extra: Record<string, string> = {}) {
    const r = makeRepo({
      'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\n',
      [SEC]: 'FROM scratch\nCOPY ../secret /s\n',
      [GLOB]: 'FROM scratch\nCOPY *.txt /t/\nCOPY sub /sub/\nCOPY keep /keep/\n',
      secret: 'outside the context\n',
      'images/secret': 'inside the context\n',
      'images/a.txt': 'a\n',
      'images/b.txt': 'b\n',
      'images/sub/c.txt': 'c\n',
      'images/sub/deep/d.txt': 'd\n',
      'images/keep/k.txt': 'k\n',
      'images/keep/other': 'o\n',
      ...extra,
    });
    cleanups.push(r.cleanup);
    gitInitCommit(r.root);
    return r.root;
  }
  const contextPaths = (t: { inputs: { kind: string; path: string }[] }) => t.inputs.filter((i) => i.kind === 'context').map((i) => i.path);
  const commitFile = (root: string, path: string, text: string) => {
    writeFileSync(join(root, path), text);
    git(root, 'add', path);
    git(root, 'commit', '-qm', path);
  };

  it('COPY ../secret reads the context\'s own secret (the engines clamp it): that file is the input, and moves the tag', async () => {
    const root = contextRepo();
    const before = (await tagsOf(root))[SEC]!;
    expect(contextPaths(before)).toEqual(['images/secret']);
    commitFile(root, 'secret', 'changed, but no build reads it\n');
    expect((await tagsOf(root))[SEC]!.version).toBe(before.version);
    commitFile(root, 'images/secret', 'changed\n');
    expect((await tagsOf(root))[SEC]!.version).not.toBe(before.version);
  });

  it('.dockerignore: an input; what every engine leaves out is none; editing it moves the tag', async () => {
    const root = contextRepo({ 'images/.dockerignore': '*.txt\n!b.txt\n**/d.txt\nkeep\n!keep/k.txt\n' });
    const before = (await tagsOf(root))[GLOB]!;
    expect(contextPaths(before)).toEqual(['images/b.txt', 'images/sub/c.txt', 'images/keep/k.txt', 'images/.dockerignore']);
    expect(contextPaths((await tagsOf(root))[SEC]!)).toEqual(['images/secret', 'images/.dockerignore']);
    commitFile(root, 'images/a.txt', 'ignored by every engine\n');
    expect((await tagsOf(root))[GLOB]!.version).toBe(before.version);
    commitFile(root, 'images/.dockerignore', '*.txt\n!b.txt\n');
    const after = (await tagsOf(root))[GLOB]!;
    expect(after.version).not.toBe(before.version);
    expect(contextPaths(after)).toEqual(['images/b.txt', 'images/sub/c.txt', 'images/sub/deep/d.txt', 'images/keep/k.txt', 'images/keep/other', 'images/.dockerignore']);
  });

  it('a per-Dockerfile ignore file is an input, not an image; an uncommitted one makes the tag dirty', async () => {
    const root = contextRepo({ 'images/.dockerignore': 'a.txt\n' });
    const perFile = `${GLOB}.dockerignore`;
    const before = (await tagsOf(root))[GLOB]!;
    writeFileSync(join(root, perFile), 'b.txt\n');
    const tags = await tagsOf(root);
    expect(Object.keys(tags)).not.toContain(perFile);
    expect(tags[GLOB]!.dirtyPaths).toEqual([perFile]);
    // BuildKit reads it instead of .dockerignore, the classic builder does not: a.txt and b.txt may both be copied.
    expect(contextPaths(tags[GLOB]!)).toEqual(['images/a.txt', 'images/b.txt', 'images/sub/c.txt', 'images/sub/deep/d.txt', 'images/keep/k.txt', 'images/keep/other', 'images/.dockerignore', perFile]);
    expect(tags[GLOB]!.version).not.toBe(before.version);
    expect(tags[SEC]!.dirty).toBe(false); // another Dockerfile's ignore file is not this one's input
    const lint = await runCli(['lint', '--no-index'], root);
    expect(lint.stdout).not.toContain('.dockerignore:');
  });

  it('a source that is a symlink: the engines follow it inside the context, so what it leads to is an input', async () => {
    const LINKS = 'images/builder-links-x86_64_gcc12.0.0.Dockerfile';
    const root = contextRepo({ [LINKS]: 'FROM scratch\nCOPY link /l\nCOPY uplink /u\nCOPY dirlink /d/\nCOPY ldir /ldir/\n' });
    symlinkSync('secret', join(root, 'images/link'));
    symlinkSync('../secret', join(root, 'images/uplink')); // clamped: the context's own secret
    symlinkSync('sub', join(root, 'images/dirlink'));
    mkdirSync(join(root, 'images/ldir'));
    symlinkSync('../keep', join(root, 'images/ldir/keeplink')); // inside a copied directory: copied as a link
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'links');
    const before = (await tagsOf(root))[LINKS]!;
    expect(contextPaths(before)).toEqual(['images/link', 'images/uplink', 'images/dirlink', 'images/ldir/keeplink', 'images/secret', 'images/sub/c.txt', 'images/sub/deep/d.txt']);
    commitFile(root, 'images/sub/c.txt', 'changed behind a link\n');
    expect((await tagsOf(root))[LINKS]!.version).not.toBe(before.version);
  });

  it('what buildah copies is exactly what the inputs say (a real build of the context)', async () => {
    const root = contextRepo({ 'images/.dockerignore': '*.txt\n!b.txt\n**/d.txt\nkeep\n!keep/k.txt\n', [LINKED_SRC]: 'FROM scratch\nCOPY link /l\nCOPY uplink /u\n' });
    symlinkSync('sub/c.txt', join(root, 'images/link'));
    symlinkSync('../b.txt', join(root, 'images/uplink'));
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'links');
    const tags = await tagsOf(root);
    const out = join(root, 'out');
    for (const file of [SEC, GLOB, LINKED_SRC]) {
      execFileSync('buildah', ['--storage-driver', process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs', 'bud', '--isolation', 'chroot', '-q', '-f', join(root, file), '--output', `type=local,dest=${out}`, join(root, 'images')], { stdio: 'ignore' });
      // Every file holds its own content: the copied contents name the context files a build read.
      const copied = execFileSync('find', [out, '-type', 'f', '-exec', 'cat', '{}', '+'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
      const read = contextPaths(tags[file]!).filter((p) => !p.endsWith('.dockerignore') && !lstatSync(join(root, p)).isSymbolicLink()).map((p) => readFileSync(join(root, p), 'utf8').trim()).sort();
      expect(copied).toEqual(read);
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('issue 23 item 8: a Dockerfile too large to parse is refused, naming it', () => {
  it('tag refuses it; lint reports it as a parse error; neither reads it whole', async () => {
    const big = 'images/builder-big-x86_64_gcc12.0.0.Dockerfile';
    const r = makeRepo({ 'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\n', [big]: `FROM scratch AS ${'b'.repeat(1024 * 1024)}\n` });
    cleanups.push(r.cleanup);
    gitInitCommit(r.root);
    const tag = await runCli(['tag'], r.root);
    expect(tag.code).toBe(2);
    expect(tag.stderr).toContain(`${big}: Dockerfile is 1048593 bytes, over the limit of 1048576 (1 MiB)`);
    const lint = await runCli(['lint', '--no-index'], r.root);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(`${big}:1: parse: Dockerfile is 1048593 bytes, over the limit of 1048576 (1 MiB)`);
  });
});
