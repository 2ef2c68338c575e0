/**
 * push --sign: a simple-signing signature for every manifest and index a push published (each tag it is
 * published under, in every repository), written to a lookaside store, and the registries.d snippet that
 * points podman, skopeo and CRI-O at it.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { parseReference, repositoryName } from '../core/reference.js';
import { registriesDSnippet, signaturePayload } from '../core/simple-signing.js';
import { signingKeyFingerprint, storeSignature, type StoredSignature } from '../adapters/signing/gpg.js';
import type { PushResult } from './push.js';

export interface SignOptions {
  /** gpg key id, fingerprint or e-mail. */
  key: string;
  /** The lookaside store directory. */
  store: string;
  /** Where users read the store from (an http(s) base CI publishes it to); default: the directory as file://. */
  lookasideUrl?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
}

export interface SignResult {
  fingerprint: string;
  signatures: StoredSignature[];
  /** The registries.d YAML a user needs. */
  registriesD: string;
}

/** Fail before any build when the key cannot sign. */
export function checkSigningKey(key: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return signingKeyFingerprint(key, env);
}

/** What a push published, as (repository, tag, digest): images and indexes, in the primary and the mirrors. */
export function publishedManifests(result: PushResult, repositories: string[]): { repository: string; tag: string; digest: string }[] {
  const [primary, ...mirrors] = repositories;
  const own = [
    ...result.images.filter((i) => (i.status === 'pushed' || i.status === 'skipped') && i.digest).flatMap((i) => i.tags.map((tag) => ({ tag, digest: i.digest! }))),
    ...result.indexes.filter((i) => (i.status === 'pushed' || i.status === 'unchanged') && i.digest).map((i) => ({ tag: i.tag, digest: i.digest! })),
  ];
  const out: { repository: string; tag: string; digest: string }[] = [];
  for (const repository of primary ? [primary] : []) out.push(...own.map((m) => ({ repository, ...m })));
  for (const mirror of mirrors) {
    const copy = result.copies.find((c) => c.repository === mirror);
    const failed = new Set(copy?.failed.map((f) => f.slice(0, f.indexOf(':'))) ?? []);
    if (copy) out.push(...own.filter((m) => !failed.has(m.tag)).map((m) => ({ repository: mirror, ...m })));
  }
  return out;
}

export async function signPublished(result: PushResult, repositories: string[], options: SignOptions): Promise<SignResult> {
  const fingerprint = await signingKeyFingerprint(options.key, options.env);
  const store = resolve(options.store);
  const signatures: StoredSignature[] = [];
  const names = new Set<string>();
  for (const m of publishedManifests(result, repositories)) {
    const ref = parseReference(m.repository);
    const name = repositoryName(ref);
    names.add(name);
    const payload = signaturePayload({ ...ref, tag: m.tag }, m.digest, { creator: 'builder-images', timestamp: Math.floor(Date.now() / 1000) });
    const stored = await storeSignature(store, { repository: ref.repository, reference: `${name}:${m.tag}`, digest: m.digest, payload }, options.key, options.env);
    if (stored.written) options.onProgress?.(`signed ${name}:${m.tag} (${m.digest.slice(0, 19)})`);
    signatures.push(stored);
  }
  return { fingerprint, signatures, registriesD: registriesDSnippet([...names], options.lookasideUrl ?? pathToFileURL(store).href) };
}
