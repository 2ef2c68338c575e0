/**
 * Shared bits for benchmarks: every timing is printed next to a peer measured in the same run, as a ratio.
 * Run a bench with `npx tsx bench/<name>.ts` (or `make bench`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Median of `runs` timings (after one warm-up run). */
export async function median(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timeIt(fn)).ms);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Peak RSS (MiB) of a child process, from GNU time when present, else from the child's own report. */
export function peakRssMiB(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { rssMiB: number; ms: number; stdout: string } {
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', env: env ?? process.env, maxBuffer: 1 << 28 });
  const ms = performance.now() - start;
  if (r.error || r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const kb = Number(r.stderr.trim().split('\n').pop());
  return { rssMiB: kb / 1024, ms, stdout: r.stdout };
}

export function row(label: string, ms: number, extra = ''): void {
  console.log(`${label.padEnd(52)} ${(ms / 1000).toFixed(3).padStart(8)} s ${extra}`);
}

export function verdict(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? 'MET ' : 'MISS'} ${name}: ${detail}`);
}

/** A containers storage of the bench's own (buildah and children inherit it); the returned function removes it. */
export function privateContainersStorage(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-storage-'));
  const conf = join(dir, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`);
  process.env.CONTAINERS_STORAGE_CONF = conf;
  return () => rmSync(dir, { recursive: true, force: true });
}
