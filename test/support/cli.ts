import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured output. */
export async function runCli(args: string[], cwd?: string): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const argv = ['node', 'builder-images', ...(cwd ? ['--cwd', cwd] : []), ...args];
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

/** A temporary repository: files by relative path; a value `{ link: 'target' }` makes a symlink. */
export function makeRepo(files: Record<string, string | Buffer | { link: string }>): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'bi-repo-'));
  for (const [path, content] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof content === 'string' || Buffer.isBuffer(content)) writeFileSync(abs, content);
    else symlinkSync(content.link, abs);
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export const DIGEST_A = 'sha256:' + 'a'.repeat(64);
export const DIGEST_B = 'sha256:' + 'b'.repeat(64);
export const PINNED_DOCKERFILE = `ARG BASE_IMAGE=debian:bookworm@${DIGEST_A}\nFROM \${BASE_IMAGE}\nRUN ln -s /usr/bin/gcc-12 /usr/bin/gcc-12.0.0\n`;
