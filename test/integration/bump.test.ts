import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/core/reference.js';
import { RegistryClient } from '../../src/adapters/registry/index.js';
import { loadRepo } from '../../src/app/repo.js';
import { computeTags } from '../../src/app/tags.js';
import { makeRepo, runCli } from '../support/cli.js';
import { startFakeGitHub } from '../support/fake-github.js';
import { git, gitInitCommit } from '../support/git.js';
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js';
import { pushIndex, pushRandomImage } from '../support/synthetic-images.js';

const TOKEN = 'ghs_fakeTokenValue0123456789';

describe('bump: digest pull requests against a real registry, real git and a GitHub stand-in', () => {
  let reg: TestRegistry;
  let github: Awaited<ReturnType<typeof startFakeGitHub>>;
  let root: string;
  let remote: string;
  const client = new RegistryClient();
  const digests: Record<string, string> = {};

  async function pushBase(version: string) {
    const base = await pushRandomImage(client, parseReference(`${reg.host}/lib/base:1`));
    const amd = await pushRandomImage(client, parseReference(`${reg.host}/lib/multi:amd-${version}`), { platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await pushRandomImage(client, parseReference(`${reg.host}/lib/multi:arm-${version}`), { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const index = await pushIndex(client, parseReference(`${reg.host}/lib/multi:1`), [
      { digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: arm.digest, size: arm.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
    Object.assign(digests, { [`base${version}`]: base.digest, [`amd${version}`]: amd.digest, [`arm${version}`]: arm.digest, [`index${version}`]: index });
  }

  beforeAll(async () => {
    reg = await startRegistry();
    github = await startFakeGitHub(TOKEN);
    await pushBase('1');
    const h = reg.host;
    const r = makeRepo({
      'builder-images.yaml': `repositories: [${h}/builders]\n`,
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': [
        `# syntax=${h}/lib/base:1@${digests.base1}`,
        '# the base is an ARG so a build can point it at a mirror',
        `ARG BASE_IMAGE="${h}/lib/base:1@${digests.base1}"`,
        'ARG MULTI_TAG=1',
        `ARG VARIANT="1@${digests.base1}"`,
        'FROM ${BASE_IMAGE} AS build',
        'RUN true',
        '',
        `FROM ${h}/lib/base:\${VARIANT} AS variant`,
        '',
        `FROM --platform=linux/arm64 \\`,
        `    ${h}/lib/multi:$MULTI_TAG@${digests.arm1}`,
        `COPY --from=${h}/lib/multi:1@${digests.index1} /x /x`,
        `COPY --from=${h}/lib/base:1 /y /y`,
        '',
      ].join('\r\n'),
      'images/builder-debian-x86_64_gcc12.0.0.Dockerfile': `FROM ${h}/builders:any-x86_64_gcc12.0.0-0000000000000000@sha256:${'0'.repeat(64)}\n`,
    });
    root = r.root;
    gitInitCommit(root);
    await runCli(['index'], root);
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'index');
    remote = mkdtempSync(join(tmpdir(), 'bi-remote-'));
    git(remote, 'init', '-q', '--bare');
    git(root, 'remote', 'add', 'origin', remote);
    git(root, 'push', '-q', 'origin', 'main');
    // The repository's own image has been pushed under its current content tag.
    const tags = await computeTags(await loadRepo(root));
    const own = tags.find((t) => t.file.endsWith('builder-any-x86_64_gcc12.0.0.Dockerfile'))!;
    digests.own = (await pushRandomImage(client, parseReference(`${h}/builders:${own.contentTag}`))).digest;
    digests.ownTag = own.contentTag;
    await pushBase('2');
  });
  afterAll(async () => {
    await github?.stop();
    await reg?.stop();
  });

  const withGitHubEnv = async <T>(fn: () => Promise<T>, overrides: Record<string, string> = {}): Promise<T> => {
    const saved = { ...process.env };
    Object.assign(process.env, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/builders', ...overrides });
    try {
      return await fn();
    } finally {
      for (const k of ['GITHUB_TOKEN', 'GITHUB_API_URL', 'GITHUB_REPOSITORY']) if (saved[k] === undefined) delete process.env[k];
    }
  };

  it('--dry-run shows the diff and the table and writes nothing', async () => {
    const file = join(root, 'images/builder-any-x86_64_gcc12.0.0.Dockerfile');
    const before = readFileSync(file, 'utf8');
    const out = await runCli(['bump', '--dry-run'], root);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`-ARG BASE_IMAGE="${reg.host}/lib/base:1@${digests.base1}"`);
    expect(out.stdout).toContain(`+ARG BASE_IMAGE="${reg.host}/lib/base:1@${digests.base2}"`);
    expect(out.stdout).toContain(`+    ${reg.host}/lib/multi:$MULTI_TAG@${digests.arm2}`); // platform pin kept on linux/arm64; the tag from an ARG
    expect(out.stdout).toContain(`-# syntax=${reg.host}/lib/base:1@${digests.base1}\r\n+# syntax=${reg.host}/lib/base:1@${digests.base2}`); // the frontend image
    expect(out.stdout).toContain(`-ARG VARIANT="1@${digests.base1}"\r\n+ARG VARIANT="1@${digests.base2}"`); // the digest in the ARG, the name in FROM
    expect(out.stdout).toContain(`+COPY --from=${reg.host}/lib/multi:1@${digests.index2} /x /x`); // index pin follows the index
    expect(out.stdout).toContain(`+FROM ${reg.host}/builders:${digests.ownTag}@${digests.own}`); // own image propagated
    expect(out.stdout).toMatch(/multi \(linux\/arm64\/v8\)\s+final\s+digest/);
    expect(out.stdout).toMatch(/6 update\(s\) in 2 file\(s\)/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('--dry-run prints its diff through the output, so secrets in it are redacted', async () => {
    const file = join(root, 'images/builder-any-x86_64_gcc12.0.0.Dockerfile');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace('# the base is an ARG so a build can point it at a mirror', '# token=ghp_leakedTokenValue0123456789'));
    try {
      const out = await runCli(['bump', '--dry-run'], root);
      expect(out.stdout).toContain(' # token=***\r\n');
      expect(out.stdout).not.toContain('ghp_leakedTokenValue0123456789');
      expect(out.stdout).toContain(`+ARG BASE_IMAGE="${reg.host}/lib/base:1@${digests.base2}"`);
    } finally {
      writeFileSync(file, before);
    }
  });

  it('--open-pr with the GitHub API unreachable says so (not that GitHub refused the pull request)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const out = await withGitHubEnv(() => runCli(['bump', '--open-pr'], root), { GITHUB_API_URL: closed });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`\nerror: could not reach the GitHub API at ${closed.replace(/\./g, '\\.')}: .*no pull request was opened for acme/builders; the branch builder-images/digests was pushed`));
    expect(out.stderr).not.toContain('GitHub refused');
    expect(github.requests).toHaveLength(0);
  });

  it('--open-pr pushes one commit to the branch and opens a pull request; a second run updates it', async () => {
    const first = await withGitHubEnv(() => runCli(['bump', '--open-pr'], root));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created pull request #1');
    const branchLog = git(remote, 'log', '-1', '--format=%s', 'builder-images/digests').trim();
    expect(branchLog).toBe('chore(deps): update builder image digests');
    const onBranch = git(remote, 'show', 'builder-images/digests:images/builder-any-x86_64_gcc12.0.0.Dockerfile');
    expect(onBranch).toContain(`${digests.base2}"\r\nFROM \${BASE_IMAGE} AS build\r\n`); // the ARG line changed, CRLF kept
    expect(git(root, 'status', '--porcelain')).toBe(''); // the checkout was not touched
    const create = github.requests.find((r) => r.method === 'POST')!;
    expect(create).toMatchObject({ path: '/repos/acme/builders/pulls', authorization: `token ${TOKEN}`, body: { head: 'builder-images/digests', base: 'main', title: 'chore(deps): update builder image digests' } });
    expect(String(create.body!.body)).toContain('| Package | Type | Update | Change |');
    expect(github.requests[0]).toMatchObject({ method: 'GET', path: '/repos/acme/builders/pulls', query: { head: 'acme:builder-images/digests', state: 'open' } });

    await pushBase('3');
    const second = await withGitHubEnv(() => runCli(['bump', '--open-pr'], root));
    expect(second.stdout).toContain('updated pull request #1');
    expect(github.pulls).toHaveLength(1);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(git(remote, 'show', 'builder-images/digests:images/builder-any-x86_64_gcc12.0.0.Dockerfile')).toContain(digests.base3);
    expect(git(remote, 'rev-list', '--count', 'main..builder-images/digests').trim()).toBe('1'); // force-pushed, still one commit

    // The token never shows: not in output, not in the git config, not in any URL.
    for (const text of [first.stdout, first.stderr, second.stdout, second.stderr, git(root, 'config', '--list'), ...github.requests.map((r) => r.path + JSON.stringify(r.query))]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    }
  });

  it('plain bump writes the files; then there is nothing to bump and no pull request is touched', async () => {
    const written = await runCli(['bump'], root);
    expect(written.stdout).toContain('updated 2 file(s)');
    expect(readFileSync(join(root, 'images/builder-debian-x86_64_gcc12.0.0.Dockerfile'), 'utf8')).toBe(`FROM ${reg.host}/builders:${digests.ownTag}@${digests.own}\n`);
    const requestsBefore = github.requests.length;
    const again = await withGitHubEnv(() => runCli(['bump', '--open-pr'], root));
    expect(again).toMatchObject({ code: 0, stdout: "nothing to bump: 1 wait for their own image's next push; each is named above\n" });
    expect(again.stderr).toContain('no pushed content tag yet'); // the dependent waits for its changed base
    expect(github.requests.length).toBe(requestsBefore);
  });

  it('--pin adds a digest to an unpinned reference; an unresolvable one is named and the rest still bump', async () => {
    const file = join(root, 'images/builder-any-x86_64_gcc12.0.0.Dockerfile');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`COPY --from=${reg.host}/lib/base:1 /y /y`, `COPY --from=${reg.host}/lib/base:1 /y /y\r\nCOPY --from=${reg.host}/lib/gone:1@sha256:${'1'.repeat(64)} /z /z`));
    const out = await runCli(['bump', '--dry-run', '--pin'], root);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${reg.host}/lib/gone:1@sha256:${'1'.repeat(64)}: not found in its registry`);
    expect(out.stdout).toContain(`+COPY --from=${reg.host}/lib/base:1@${digests.base3} /y /y`);
  });

  it('--pin --dry-run that resolves nothing says how many references failed and why, not just "nothing to bump"', async () => {
    const r = makeRepo({
      'builder-images.yaml': `repositories: [${reg.host}/builders]\n`,
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': `FROM ${reg.host}/lib/gone:1\nCOPY --from=${reg.host}/lib/gone:2 /x /x\n`,
      'images/builder-any-aarch64_gcc12.0.0.Dockerfile': 'FROM 127.0.0.1:1/lib/base:1\n',
    });
    try {
      gitInitCommit(r.root);
      const out = await runCli(['bump', '--pin', '--dry-run'], r.root);
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^nothing to bump: 3 reference\(s\) could not be resolved \(1: cannot reach 127\.0\.0\.1:1 over http after \d+ attempts \(bad port\); 2: not found in its registry\); each is named above\n$/);
      expect(out.stderr).toContain(`builder-any-x86_64_gcc12.0.0.Dockerfile:2: ${reg.host}/lib/gone:2: not found in its registry`);
    } finally {
      r.cleanup();
    }
  });
});
