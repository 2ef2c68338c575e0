import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo, PINNED_DOCKERFILE, runCli } from '../support/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function repo(files: Record<string, string | { link: string }>) {
  const r = makeRepo(files);
  cleanups.push(r.cleanup);
  return r.root;
}

const GOOD = {
  'builder-images.yaml': 'repositories: [ghcr.io/acme/builders]\n',
  'images/builder-any-x86_64_gcc12.0.0_gcc11.0.0.Dockerfile': PINNED_DOCKERFILE,
  'images/builder-any-aarch64_gcc12.0.0_gcc11.0.0.Dockerfile': { link: 'builder-any-x86_64_gcc12.0.0_gcc11.0.0.Dockerfile' },
  'images/builder-centos-x86_64_gcc4.8.5.Dockerfile': PINNED_DOCKERFILE,
};

describe('CLI: help and exit codes', () => {
  it('lists every command with a description, and documents flags', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['lint', 'index', 'select', 'check', 'verify', 'tag', 'build', 'push', 'plan', 'bump']) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${cmd}\\b.*\\S`));
    }
    const lintHelp = await runCli(['lint', '--help']);
    expect(lintHelp.stdout).toContain('--format <format>');
    expect((await runCli(['nope'])).code).toBe(2);
    expect((await runCli(['lint', '--format', 'xml'])).code).toBe(2);
  });
});

describe('index and lint', () => {
  it('index writes a deterministic file; lint is then clean; index --check agrees', async () => {
    const root = repo(GOOD);
    const first = await runCli(['index'], root);
    expect(first).toMatchObject({ code: 0, stdout: 'wrote index.yaml (3 image(s))\n' });
    const text = readFileSync(join(root, 'index.yaml'), 'utf8');
    expect(text).toContain('name: ghcr.io/acme/builders:any-aarch64_gcc12.0.0_gcc11.0.0-latest');
    expect((await runCli(['index'], root)).stdout).toContain('unchanged');
    expect(readFileSync(join(root, 'index.yaml'), 'utf8')).toBe(text);
    expect(await runCli(['index', '--check'], root)).toMatchObject({ code: 0 });
    const lint = await runCli(['lint'], root);
    expect(lint.stdout).toBe('3 file(s) in images/ checked: 0 error(s), 0 warning(s)\n');
    expect(lint.code).toBe(0);
  });

  it('index --check prints a diff and exits 1 when stale, writing nothing', async () => {
    const root = repo({ ...GOOD, 'index.yaml': 'images: []\n' });
    const check = await runCli(['index', '--check'], root);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('-images: []');
    expect(check.stdout).toContain('+  - name: ghcr.io/acme/builders:centos-x86_64_gcc4.8.5-latest');
    expect(readFileSync(join(root, 'index.yaml'), 'utf8')).toBe('images: []\n');
  });

  it('index --repo/--tag choose what is listed', async () => {
    const root = repo(GOOD);
    const out = await runCli(['index', '--stdout', '--repo', 'r.example/a', '--tag', 'latest', '--tag', 'v1'], root);
    expect(out.stdout.match(/^ {2}- name: /gm)).toHaveLength(6);
    expect(out.stdout).toContain('r.example/a:centos-x86_64_gcc4.8.5-v1');
  });

  it('lint reports every finding at once, in text, json and github formats', async () => {
    const root = repo({
      'images/builder-any-x86_64_gcc6.0.Dockerfile': 'FROM debian:12\n',
      'images/builder-any-x86_64_gcc6.0.0_gcc8.0.0.Dockerfile': PINNED_DOCKERFILE,
      'images/builder-any-x86_64_gcc8.0.0.Dockerfile': 'FROM scratch\nRUNN x\n',
    });
    const text = await runCli(['lint'], root);
    expect(text.code).toBe(1);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^images\/builder-any-x86_64_gcc6\.0\.Dockerfile:1: name: .*Rename it to builder-any-x86_64_gcc6\.0\.0\.Dockerfile/),
      expect.stringMatching(/^images\/builder-any-x86_64_gcc6\.0\.Dockerfile:1: pin: FROM debian:12 is not pinned/),
      expect.stringMatching(/^images\/builder-any-x86_64_gcc8\.0\.0\.Dockerfile:1: conflict: GCC 8\.0\.0/),
      expect.stringMatching(/^images\/builder-any-x86_64_gcc8\.0\.0\.Dockerfile:2: parse: /),
      expect.stringMatching(/^index\.yaml:1: index: index\.yaml is missing/),
      '3 file(s) in images/ checked: 5 error(s), 0 warning(s)',
    ]);
    const json = JSON.parse((await runCli(['lint', '--format', 'json'], root)).stdout);
    expect(json).toHaveLength(5);
    expect(json[0]).toEqual({ file: 'images/builder-any-x86_64_gcc6.0.Dockerfile', line: 1, rule: 'name', severity: 'error', message: expect.any(String) });
    const gh = await runCli(['lint', '--format', 'github'], root);
    expect(gh.stdout.split('\n')[0]).toMatch(/^::error file=images\/builder-any-x86_64_gcc6\.0\.Dockerfile,line=1,title=lint%3A name::/);
  });

  it('a bad config names the file, line and key, and exits 2', async () => {
    const root = repo({ 'builder-images.yaml': 'repositories: [ghcr.io/a/b]\ntagSchem: tree\n', images: '' as never });
    const out = await runCli(['lint'], root);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('error: builder-images.yaml:2: unknown key "tagSchem" (see the config reference in README.md)\n');
  });
});

describe('select', () => {
  it('explains the pick for a kernel release, as text and JSON, and the matrix marks inexact picks', async () => {
    const root = repo(GOOD);
    await runCli(['index'], root);
    const centos = await runCli(['select', '--target', 'centos', '--arch', 'x86_64', '--kernel-release', '3.10.0-1160.el7.x86_64'], root);
    expect(centos.code).toBe(0);
    expect(centos.stdout).toContain('image:  ghcr.io/acme/builders:centos-x86_64_gcc4.8.5-latest');
    expect(centos.stdout).toContain('why:    exact');
    const json = JSON.parse((await runCli(['select', '--target', 'debian', '--arch', 'aarch64', '--kernel-release', '6.9.0', '--json'], root)).stdout);
    expect(json).toMatchObject({ gcc: '12.0.0', reason: 'nearest-lower', targetGcc: '14.0.0' });
    const matrix = await runCli(['select', '--matrix'], root);
    expect(matrix.stdout).toMatch(/centos\s+x86_64\s+3\.10\.0\s+4\.8\.5\s+4\.8\.5\s+exact/);
    expect(matrix.stdout).toMatch(/any\s+aarch64\s+6\.1\.0\s+12\.0\.0\s+12\.0\.0\s+exact/);
    expect(matrix.stdout).toMatch(/without the wanted GCC \(marked \*\)/);
    expect(matrix.stdout).toMatch(/any\s+x86_64\s+6\.9\.0\s+14\.0\.0\s+12\.0\.0 \*\s+nearest-lower/);
  });

  it('usage errors exit 2 with a clear message', async () => {
    const root = repo(GOOD);
    await runCli(['index'], root);
    expect(await runCli(['select', '--target', 'centos', '--arch', 'arm', '--gcc', '12'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('--arch must be x86_64 or aarch64 (or amd64, arm64), not "arm"') });
    expect(await runCli(['select', '--target', 'x', '--arch', 'x86_64'], root)).toMatchObject({ code: 2 });
    expect(await runCli(['select', '--target', 'x', '--arch', 'x86_64', '--gcc', '9', '--index', 'nope.yaml'], root)).toMatchObject({ code: 2, stderr: expect.stringContaining('nope.yaml') });
  });
});

describe('index --output', () => {
  it('writes an absolute path where it says, and a relative one below --cwd', async () => {
    const root = repo(GOOD);
    const elsewhere = repo({});
    const abs = join(elsewhere, 'out', 'index.yaml');
    expect((await runCli(['index', '--output', abs], root)).code).toBe(0);
    expect(readFileSync(abs, 'utf8')).toContain('images:');
    expect((await runCli(['index', '--output', 'sub/i.yaml'], root)).code).toBe(0);
    expect(readFileSync(join(root, 'sub/i.yaml'), 'utf8')).toContain('images:');
  });
});

describe('main() keeps nothing between runs', () => {
  it('gives each run its own result, run one after another or many at once, and leaves no signal handler behind', async () => {
    const stale = repo({ ...GOOD, 'index.yaml': 'images: []\n' });
    const fresh = repo(GOOD);
    await runCli(['index'], fresh);
    const listeners = () => ['SIGINT', 'SIGTERM'].map((s) => process.listenerCount(s));
    const before = listeners();
    for (let i = 0; i < 2; i++) {
      expect((await runCli(['index', '--check'], stale)).code).toBe(1);
      expect((await runCli(['--help'])).code).toBe(0);
      expect((await runCli(['index', '--check'], fresh)).code).toBe(0);
    }
    const runs = Array.from({ length: 24 }, (_, i) => (i % 2 ? runCli(['index', '--check'], stale) : runCli(['lint', '--no-index'], fresh)));
    expect((await Promise.all(runs)).map((r) => r.code)).toEqual(Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : 0)));
    expect(listeners()).toEqual(before);
  });
});
