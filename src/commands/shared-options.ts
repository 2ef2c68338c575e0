import { isVersionTag } from '../core/names.js';
import { parseReference } from '../core/reference.js';
import { UsageError } from '../errors.js';

/** A repository given by flag (`--repo`): Docker's grammar (lower-case path), no tag or digest; else a UsageError. */
export function checkRepository(value: string, flag = '--repo'): string {
  let ref;
  try {
    ref = parseReference(value);
  } catch (err) {
    throw new UsageError(`${flag} ${value}: ${(err as Error).message.replace(/^invalid image reference "[^"]*": /, '')}; expected a repository such as ghcr.io/org/builders`);
  }
  if (ref.tag !== undefined || ref.digest !== undefined) throw new UsageError(`${flag} ${value}: a repository has no tag or digest; expected e.g. ghcr.io/org/builders`);
  return value;
}

/** A version tag given by flag (`--tag`, `--version`): what may follow `<target>-<arch>_gcc…-` in an image tag. */
export function checkVersionTag(value: string, flag = '--tag'): string {
  if (!isVersionTag(value)) throw new UsageError(`${flag} ${value}: not a valid tag (letters, digits, _ . -, not starting with . or -, at most 128)`);
  return value;
}

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
