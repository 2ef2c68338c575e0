/**
 * GCC versions as builder names carry them: always three numeric parts `X.Y.Z`, no leading zeros, nothing else.
 * The driver builder parses them as semver and panics on anything that is not, so ours is strict.
 *
 * API: parseGccVersion(text) -> GccVersion | null, formatGccVersion, compareGccVersions, majorOf.
 */
import semver from 'semver';

export interface GccVersion {
  major: number;
  minor: number;
  patch: number;
}

const STRICT = /^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/;

export function parseGccVersion(text: string): GccVersion | null {
  const m = STRICT.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function formatGccVersion(v: GccVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

export function compareGccVersions(a: GccVersion, b: GccVersion): number {
  return semver.compare(formatGccVersion(a), formatGccVersion(b));
}

/** `12` -> 12.0.0, `4.8` -> 4.8.0, `4.8.5` -> 4.8.5: how the driver builder widens a short target version. */
export function widenVersion(text: string): GccVersion | null {
  const parts = text.split('.');
  while (parts.length < 3) parts.push('0'); // four parts or more fail the strict parse
  return parseGccVersion(parts.join('.'));
}
