/**
 * OpenPGP signing with the gpg binary (the user's keyring: GNUPGHOME, a gpg-agent for the passphrase) and the
 * lookaside signature store containers/image reads (`<store>/<repo>@sha256=<hex>/signature-N`).
 * Signatures are binary OpenPGP messages that hold the payload (gpg --sign, not detached, not armored): the
 * form containers/image's gpgme verifier expects.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { lookasideDir, readPayload } from '../../core/simple-signing.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

const GPG_TIMEOUT_MS = 120_000;
const MAX_SIGNATURE_BYTES = 64 * 1024;
/** More signatures than this for one manifest is a store gone wrong, not a push. */
const MAX_SIGNATURES = 100;

export class SigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningError';
  }
}

/** A key id, fingerprint or e-mail as gpg --local-user takes it; nothing that could pass for an option. */
export function checkKeyName(key: string): string {
  if (!/^[\w.@+<>= -]{1,200}$/.test(key) || key.startsWith('-')) throw new SigningError(`--sign ${JSON.stringify(key.slice(0, 60))}: not a key id, fingerprint or e-mail gpg knows`);
  return key;
}

/** The key's fingerprint (and so that it is there and can sign), before anything is built. */
export async function signingKeyFingerprint(key: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await execa('gpg', ['--batch', '--no-tty', '--with-colons', '--list-secret-keys', '--', checkKeyName(key)], { env, reject: false, timeout: GPG_TIMEOUT_MS });
  const fpr = String(r.stdout).split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
  if (r.exitCode !== 0 || !fpr) throw new SigningError(`--sign ${key}: gpg has no secret key by that name${env.GNUPGHOME ? ` in GNUPGHOME=${env.GNUPGHOME}` : ''} (gpg --list-secret-keys)`);
  return fpr;
}

/** The payload signed by `key`: a binary OpenPGP message holding it. */
export async function signPayload(payload: Uint8Array, key: string, env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  const r = await execa('gpg', ['--batch', '--no-tty', '--local-user', checkKeyName(key), '--sign', '--output', '-'], { env, input: Buffer.from(payload), encoding: 'buffer', reject: false, timeout: GPG_TIMEOUT_MS });
  if (r.exitCode !== 0) {
    const why = Buffer.from(r.stderr).toString().trim().split('\n').pop() ?? `exit ${r.exitCode}`;
    throw new SigningError(`gpg could not sign with ${key}: ${why} (a key with a passphrase needs a gpg-agent that has it)`);
  }
  return new Uint8Array(r.stdout);
}

/** The payload a signature holds, without verifying it (the client that pulls verifies). */
async function signedPayload(signature: Uint8Array, env: NodeJS.ProcessEnv): Promise<Uint8Array | undefined> {
  const r = await execa('gpg', ['--batch', '--no-tty', '--skip-verify', '--decrypt'], { env, input: Buffer.from(signature), encoding: 'buffer', reject: false, timeout: GPG_TIMEOUT_MS });
  return r.exitCode === 0 ? new Uint8Array(r.stdout) : undefined;
}

export interface StoredSignature {
  reference: string;
  digest: string;
  file: string;
  /** False when the store already held a signature for this reference and digest. */
  written: boolean;
}

/**
 * Sign `reference` (registry/repo:tag) as naming `digest` and store it beside the other signatures of that
 * manifest; a reference already signed there is left as it is.
 */
export async function storeSignature(store: string, target: { repository: string; reference: string; digest: string; payload: Uint8Array }, key: string, env: NodeJS.ProcessEnv = process.env): Promise<StoredSignature> {
  const dir = join(store, lookasideDir(target.repository, target.digest));
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^signature-[1-9]\d*$/.test(n));
  const numbers = names.map((n) => Number(n.slice('signature-'.length))).sort((a, b) => a - b);
  for (const n of numbers) {
    const file = join(dir, `signature-${n}`);
    const bytes = await readFile(file);
    if (bytes.length > MAX_SIGNATURE_BYTES) continue;
    const held = await signedPayload(bytes, env);
    const claim = held && readPayload(held);
    if (claim?.reference === target.reference && claim.digest === target.digest) return { reference: target.reference, digest: target.digest, file, written: false };
  }
  // containers/image reads signature-1, -2, … and stops at the first missing one: fill the first gap.
  let next = 1;
  while (numbers.includes(next)) next++;
  if (next > MAX_SIGNATURES) throw new SigningError(`${dir}: already ${MAX_SIGNATURES} signatures; clean the lookaside store`);
  const file = join(dir, `signature-${next}`);
  await writeFileAtomic(file, await signPayload(target.payload, key, env));
  return { reference: target.reference, digest: target.digest, file, written: true };
}
