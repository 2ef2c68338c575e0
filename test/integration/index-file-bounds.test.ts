/**
 * The builder index file as the CLI meets it: config index.file through a symlinked directory (or a symlink
 * itself) is refused by where it really leads, not by its text; an index over the size cap is refused by `select`
 * before it is read.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo, PINNED_DOCKERFILE, runCli } from '../support/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function outsideDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bi-outside-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function repoWith(indexFile: string, extra: Record<string, string | { link: string }>): string {
  const r = makeRepo({
    'builder-images.yaml': `repositories: [localhost:5000/builders]\nindex:\n  file: ${indexFile}\n`,
    'images/builder-any-x86_64_gcc12.0.0.Dockerfile': PINNED_DOCKERFILE,
    ...extra,
  });
  cleanups.push(r.cleanup);
  return r.root;
}

describe('index.file is where it really is', () => {
  it('index refuses to write through a symlinked directory that leads outside, and writes nothing there', async () => {
    const outside = outsideDir();
    const root = repoWith('docs/index.yaml', { docs: { link: outside } });
    const run = await runCli(['index'], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: index.file docs/index.yaml leads outside the repository through a symlink (to ${join(outside, 'index.yaml')}): point it at a file inside ${root}`);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('a symlinked index file that leads outside is refused by index and lint alike', async () => {
    const outside = outsideDir();
    writeFileSync(join(outside, 'elsewhere.yaml'), 'images: []\n');
    const root = repoWith('index.yaml', { 'index.yaml': { link: join(outside, 'elsewhere.yaml') } });
    for (const args of [['index'], ['lint']]) {
      const run = await runCli(args, root);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('error: index.file index.yaml leads outside the repository through a symlink');
    }
    expect(readdirSync(outside)).toEqual(['elsewhere.yaml']);
  });

  it('a symlinked directory inside the repository is fine', async () => {
    const root = repoWith('docs/index.yaml', { 'real-docs/.keep': '', docs: { link: 'real-docs' } });
    const run = await runCli(['index'], root);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(existsSync(join(root, 'real-docs', 'index.yaml'))).toBe(true);
  });
});

describe('select over an index too big to be one', () => {
  it('refuses it before reading it, naming the file', async () => {
    const root = repoWith('index.yaml', {});
    // Sparse: 300 MB that take no disk and no memory unless read.
    writeFileSync(join(root, 'huge.yaml'), '');
    truncateSync(join(root, 'huge.yaml'), 300 * 1024 * 1024);
    const run = await runCli(['select', '--index', 'huge.yaml', '--target', 'debian', '--arch', 'x86_64', '--gcc', '12.0.0'], root);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: huge.yaml:1: refused: ${300 * 1024 * 1024} bytes, over the 512 KiB a builder index may have (at most 2000 images): is it the right file?\n`);
  });
});
