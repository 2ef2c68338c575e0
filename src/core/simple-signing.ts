/**
 * The "simple signing" payload containers/image (podman, skopeo, buildah, CRI-O) verifies with a `signedBy`
 * policy: the atomic container signature JSON, OpenPGP-signed as a whole (see containers-signature(5)), and the
 * lookaside layout those clients read signatures from. Pure: the signing itself is adapters/signing/gpg.ts.
 */
import { assertDigest } from './digest.js';
import type { ImageReference } from './reference.js';
import { repositoryName } from './reference.js';

export const SIGNATURE_TYPE = 'atomic container signature';

export interface SignaturePayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: typeof SIGNATURE_TYPE;
  };
  optional?: { creator?: string; timestamp?: number };
}

/** The payload for `repo:tag` naming `digest`; key order fixed so the bytes are the same for the same inputs. */
export function signaturePayload(ref: Pick<ImageReference, 'registry' | 'repository'> & { tag: string }, digest: string, optional: { creator?: string; timestamp?: number } = {}): Uint8Array {
  const payload: SignaturePayload = {
    critical: {
      identity: { 'docker-reference': `${repositoryName(ref)}:${ref.tag}` },
      image: { 'docker-manifest-digest': assertDigest(digest, 'signed manifest') },
      type: SIGNATURE_TYPE,
    },
  };
  const extra: SignaturePayload['optional'] = {};
  if (optional.creator) extra.creator = optional.creator;
  if (optional.timestamp !== undefined) extra.timestamp = optional.timestamp;
  if (Object.keys(extra).length) payload.optional = extra;
  return new TextEncoder().encode(JSON.stringify(payload));
}

/** What a payload claims, or undefined when it is not a simple-signing payload. */
export function readPayload(bytes: Uint8Array): { reference: string; digest: string } | undefined {
  try {
    const p = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<SignaturePayload>;
    const reference = p.critical?.identity?.['docker-reference'];
    const digest = p.critical?.image?.['docker-manifest-digest'];
    if (p.critical?.type !== SIGNATURE_TYPE || typeof reference !== 'string' || typeof digest !== 'string') return undefined;
    return { reference, digest };
  } catch {
    return undefined;
  }
}

/** `<repository path>@sha256=<hex>`: the lookaside directory of one manifest (relative to the store's root). */
export function lookasideDir(repository: string, digest: string): string {
  const [alg, hex] = assertDigest(digest, 'signed manifest').split(':') as [string, string];
  if (repository.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`"${repository}" is not a repository path`);
  return `${repository}@${alg}=${hex}`;
}

/** The registries.d snippet that points clients at a lookaside store for these repositories. */
export function registriesDSnippet(repositories: string[], lookasideUrl: string): string {
  const lines = ['docker:'];
  for (const repo of [...new Set(repositories)].sort()) lines.push(`  ${repo}:`, `    lookaside: ${lookasideUrl}`);
  return `${lines.join('\n')}\n`;
}
