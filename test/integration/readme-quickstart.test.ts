/**
 * The README's quick start, run as written in a clean copy of the checkout (no node_modules, no dist/), as a
 * newcomer does: the CLI lines must run this checkout's CLI, before and after `npm ci`, never ask the registry.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT = join(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;

/** The shell lines of the README's fenced block that runs the CLI's --help. */
function quickStartLines(): string[] {
  const readme = readFileSync(join(PROJECT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const block = blocks.find((b) => b.includes('node bin/builder-images.js --help'));
  if (!block) throw new Error('README.md has no ```sh block with node bin/builder-images.js --help');
  return block.split('\n').filter((line) => line.trim() !== '');
}

/** The checkout's files as git sees them (tracked and new, not ignored): no node_modules, no dist/. */
function cleanCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'bi-fresh-clone-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const from = join(PROJECT, file);
    let stats;
    try {
      stats = lstatSync(from);
    } catch {
      continue; // deleted in the working tree
    }
    const to = join(copy, file);
    mkdirSync(dirname(to), { recursive: true });
    if (stats.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else {
      copyFileSync(from, to);
      chmodSync(to, stats.mode & 0o777);
    }
  }
  return copy;
}

const sh = (line: string, cwd: string) => execa('bash', ['-c', line], { cwd, reject: false, timeout: 240_000 });

describe('README quick start in a fresh copy', () => {
  let copy: string;
  const lines = quickStartLines();
  beforeAll(() => {
    copy = cleanCopy();
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('gives an npm ci line and CLI lines that name the checkout\'s launcher, not a registry package', () => {
    expect(lines[0]).toMatch(/^npm ci\b/);
    expect(lines.filter((l) => l.startsWith('node bin/builder-images.js ')).length).toBeGreaterThanOrEqual(2);
    for (const line of lines.filter((l) => l.startsWith('npx '))) expect(line).toMatch(/^npx --no-install builder-images /);
  });

  it('before npm ci, the launcher says what to run (exit 2), instead of a stack trace', async () => {
    const help = lines.find((l) => l.startsWith('node bin/builder-images.js --help'))!;
    const r = await sh(help, copy);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^builder-images: the CLI is not built in .*\(dist\/cli\.js is missing\): run `npm ci` there/);
  });

  it('every line runs as written, in order: install, --help, lint, the version through npx', async () => {
    const results: { line: string; stdout: string }[] = [];
    for (const line of lines) {
      const r = await sh(line, copy);
      expect(r.exitCode, `${line}\n${r.stderr}`).toBe(0);
      results.push({ line, stdout: r.stdout });
    }
    const out = (start: string) => results.find((r) => r.line.startsWith(start))!.stdout;
    expect(out('node bin/builder-images.js --help')).toMatch(/Usage: builder-images[\s\S]*Commands:[\s\S]*\n {2}lint\b[\s\S]*\n {2}select\b/);
    expect(out('node bin/builder-images.js lint')).toMatch(/file\(s\) in images\/ checked: 0 error\(s\)/);
    expect(out('npx --no-install builder-images --version').trim()).toBe(VERSION);
  }, 300_000);
});
