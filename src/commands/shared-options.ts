import { UsageError } from '../errors.js';

/** `--build-arg KEY=VALUE` and `--builder PLATFORM=NAME` pairs into a record. */
export function parsePairs(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${v}: expected KEY=VALUE`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function parseJobs(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs ${value}: expected a whole number from 1 to 64`);
  return n;
}
