/**
 * Content digests, per the OCI image-spec grammar (`algorithm ":" encoded`), restricted to the registered
 * algorithms we can verify: `sha256:` + 64 and `sha512:` + 128 lower-case hex digits. Every digest that comes
 * from outside (a registry header, a manifest, an index, a layout's index.json, an archive) passes
 * assertDigest before it is put into a URL or a path: `sha256:../../x` never becomes a request or a file name.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';

const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export type DigestAlgorithm = 'sha256' | 'sha512';

export function isDigest(value: unknown): boolean {
  return typeof value === 'string' && DIGEST.test(value);
}

/** The digest itself, or an error naming where it came from and what a digest looks like. */
export function assertDigest(value: unknown, where: string): string {
  if (isDigest(value)) return value as string;
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
  throw new Error(`${where}: ${shown} is not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)`);
}

export function digestAlgorithm(digest: string): DigestAlgorithm {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** The digest of exact bytes with the algorithm `like` uses (sha256 by default). */
export function digestOf(bytes: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** True when the bytes hash to `digest` (either algorithm). */
export function matchesDigest(bytes: Uint8Array, digest: string): boolean {
  return digestOf(bytes, digestAlgorithm(digest)) === digest;
}
