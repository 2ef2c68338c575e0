import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, runCli } from '../support/cli.js';
import { git, gitInitCommit } from '../support/git.js';

const PROJECT = join(import.meta.dirname, '../..');
const DOCKERFILE = 'FROM scratch\n';

describe('select --diff on a fixture repository (real git, nothing checked out)', () => {
  let root: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ root, cleanup } = makeRepo({
      'builder-images.yaml': 'repositories: [r.example/builders]\n',
      'images/builder-any-x86_64_gcc8.0.0_gcc4.8.0.Dockerfile': DOCKERFILE,
      'images/builder-any-aarch64_gcc8.0.0_gcc4.8.0.Dockerfile': { link: 'builder-any-x86_64_gcc8.0.0_gcc4.8.0.Dockerfile' },
      'images/builder-any-x86_64_gcc12.0.0.Dockerfile': DOCKERFILE,
      'images/builder-centos-x86_64_gcc4.8.5.Dockerfile': DOCKERFILE,
    }));
    gitInitCommit(root);
  });
  afterAll(() => cleanup?.());

  it('an uncommitted new image: every moved pick, before → after, in text', async () => {
    writeFileSync(join(root, 'images/builder-any-x86_64_gcc4.9.0.Dockerfile'), DOCKERFILE);
    try {
      const out = await runCli(['select', '--diff', 'main', '--arch', 'x86_64'], root);
      expect(out.code).toBe(0);
      const lines = out.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^images\/ at main \([0-9a-f]{7}\) → working tree, tag latest: 7 of 40 pick\(s\) change$/);
      expect(lines).toContainEqual(expect.stringMatching(/^any\s+x86_64\s+3\.0\.0\s+4\.9\.0\s+4\.8\.0 → 4\.9\.0\s+nearest-lower → exact\s+any-x86_64_gcc8\.0\.0_gcc4\.8\.0-latest → any-x86_64_gcc4\.9\.0-latest$/));
      expect(lines).toContainEqual(expect.stringMatching(/^centos\s+x86_64\s+3\.16\.0\s+4\.9\.0\s+4\.8\.5 → 4\.9\.0\s+nearest-lower → fallback\s+centos-x86_64_gcc4\.8\.5-latest → any-x86_64_gcc4\.9\.0-latest$/));
      expect(lines).toContainEqual(expect.stringMatching(/^any\s+x86_64\s+3\.18\.0\s+5\.0\.0\s+4\.8\.0 → 4\.9\.0\s+nearest-lower\s+any-x86_64_gcc8\.0\.0_gcc4\.8\.0-latest → any-x86_64_gcc4\.9\.0-latest$/));
      expect(lines.at(-1)).toBe('33 pick(s) unchanged');
    } finally {
      unlinkSync(join(root, 'images/builder-any-x86_64_gcc4.9.0.Dockerfile'));
    }
  });

  it('committed history: a removed target falls back to "any", in JSON and in the job summary', async () => {
    git(root, 'rm', '-q', 'images/builder-centos-x86_64_gcc4.8.5.Dockerfile');
    git(root, 'commit', '-qm', 'drop centos');
    const dir = mkdtempSync(join(tmpdir(), 'bi-summary-'));
    process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary.md');
    try {
      const out = await runCli(['select', '--diff', 'HEAD~1', '--target', 'centos', '--json'], root);
      expect(out.code).toBe(0);
      const result = JSON.parse(out.stdout);
      expect(result).toMatchObject({ ref: 'HEAD~1', commit: git(root, 'rev-parse', 'HEAD~1').trim(), picks: 40 });
      const change = result.changed.find((c: { arch: string; kernel: string }) => c.arch === 'x86_64' && c.kernel === '3.10.0');
      expect(change).toEqual({
        target: 'centos', arch: 'x86_64', kernel: '3.10.0', wanted: '4.8.5',
        before: { image: 'r.example/builders:centos-x86_64_gcc4.8.5-latest', gcc: '4.8.5', reason: 'exact' },
        after: { image: 'r.example/builders:any-x86_64_gcc8.0.0_gcc4.8.0-latest', gcc: '4.8.0', reason: 'nearest-lower' },
      });
      // aarch64 never had a centos image: none of its picks moved.
      expect(result.changed.every((c: { arch: string }) => c.arch === 'x86_64')).toBe(true);
      const md = readFileSync(process.env.GITHUB_STEP_SUMMARY, 'utf8');
      expect(md).toContain('### Driver builder picks: `HEAD~1` → this change');
      // Same before → after for the same wanted GCC: one row (kernels 3.0 and 3.16 both want 4.9).
      expect(md).toContain('| centos | x86_64 | 3.0.0, 3.16.0 | 4.9.0 | 4.8.5 → **4.8.0** | centos-x86_64_gcc4.8.5-latest → any-x86_64_gcc8.0.0_gcc4.8.0-latest |');
      expect(md).toContain('**4 of 40 picks change**');
      expect(md).toContain('<details><summary>36 unchanged picks');
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--format markdown prints what the job summary gets', async () => {
    const out = await runCli(['select', '--diff', 'HEAD', '--format', 'markdown'], root);
    expect(out.stdout).toMatch(/^### Driver builder picks: `HEAD` → this change\n\n\*\*No pick changes\*\*: all 40 picks are the same/);
  });

  it('a ref git does not have is a usage error that says how to get it', async () => {
    const out = await runCli(['select', '--diff', 'origin/nope'], root);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--diff origin\/nope: no commit "origin\/nope" in .*: fetch it first/);
    expect((await runCli(['select', '--diff', '--upload-pack=x'], root)).code).toBe(2);
    const plain = mkdtempSync(join(tmpdir(), 'bi-no-git-'));
    try {
      const outside = await runCli(['select', '--diff', 'main'], plain);
      expect(outside.code).toBe(2);
      expect(outside.stderr).toContain('is not a git repository: there is no history to compare with');
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
    expect((await runCli(['select', '--matrix', '--format', 'markdown'], root)).stderr).toContain('--format markdown goes with --diff');
  });
});

describe("select --diff on this repository's history: the commit that adds the GCC 4.9 image", () => {
  const added = 'images/builder-any-x86_64_gcc4.9.0.Dockerfile';
  const find = (...scope: string[]) =>
    execFileSync('git', ['log', ...scope, '--diff-filter=A', '--format=%H', '--', added], { cwd: PROJECT, encoding: 'utf8' }).trim().split('\n').pop() ?? '';
  // On main once merged; until then on the branch that made it (a fresh clone of main has it in HEAD).
  const commit = find('HEAD') || find('--all');
  let clone: string;
  beforeAll(() => {
    if (!commit) return;
    clone = mkdtempSync(join(tmpdir(), 'bi-history-'));
    // A shared clone reads this repository's objects and writes nothing into it.
    execFileSync('git', ['clone', '-q', '--shared', '--no-checkout', PROJECT, clone]);
    execFileSync('git', ['-C', clone, 'checkout', '-q', '--detach', commit]);
  });
  afterAll(() => clone && rmSync(clone, { recursive: true, force: true }));

  it.skipIf(!commit)('moves the kernels 3.0 … 3.16 from GCC 4.8 to 4.9 on both arches, and nothing else', async () => {
    const out = await runCli(['select', '--diff', `${commit}~1`, '--json'], clone);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { changed: { target: string; arch: string; kernel: string; before: { gcc: string }; after: { gcc: string; image: string } }[]; unchanged: number };
    expect(result.changed.length).toBeGreaterThan(0);
    for (const c of result.changed) {
      expect(['3.0.0', '3.10.0', '3.16.0']).toContain(c.kernel);
      expect(c.before.gcc).toMatch(/^4\.8\.[05]$/);
      expect(c.after).toMatchObject({ gcc: '4.9.0', image: expect.stringContaining(`any-${c.arch}_gcc4.9.0-`) });
    }
    const any = result.changed.filter((c) => c.target === 'any').map((c) => `${c.arch} ${c.kernel}`);
    expect(any.sort()).toEqual(['aarch64 3.0.0', 'aarch64 3.10.0', 'aarch64 3.16.0', 'x86_64 3.0.0', 'x86_64 3.10.0', 'x86_64 3.16.0']);
    // centos 3.10 keeps its own GCC 4.8.5: the driver builder's table pins it.
    expect(result.changed.some((c) => c.target === 'centos' && c.kernel === '3.10.0')).toBe(false);
  });
});
