/**
 * Verification records: what `verify` proved, keyed by (image digest, kernel release, arch, module source hash,
 * flow), so a kernel already proven for the same digest is not rebuilt. Stored beside the image in its registry as
 * an OCI artifact that refers to the image (app/verify-records.ts); this is the pure part: the key, the document
 * and its schema. Pure.
 */
import { z } from 'zod';
import { isDigest } from './digest.js';

export const VERIFICATION_ARTIFACT_TYPE = 'application/vnd.builder-images.verification.v1+json';
export const VERIFICATION_MEDIA_TYPE = 'application/vnd.builder-images.verification.records.v1+json';
/** A document's cap: thousands of kernels per image fit in well under this. */
export const MAX_RECORDS_BYTES = 4 * 1024 * 1024;

export interface VerificationKey {
  imageDigest: string;
  release: string;
  arch: string;
  /** sha256 of the module's sources (the built-in probe, a --module tree), as `sha256:<hex>`. */
  moduleSource: string;
  /** `probe`, `kbuild`, `cmake` or `driverkit`; with `+boot` when the module was also booted. */
  flow: string;
}

export interface VerificationRecord extends VerificationKey {
  verdict: 'pass' | 'fail';
  boot?: string;
  vermagic?: string;
  message: string;
  /** ISO time of the build. */
  at: string;
}

const recordSchema = z
  .object({
    imageDigest: z.string().refine(isDigest, 'not an OCI digest'),
    release: z.string().min(1).max(256),
    arch: z.string().min(1).max(32),
    moduleSource: z.string().refine(isDigest, 'not an OCI digest'),
    flow: z.string().regex(/^[a-z]+(\+boot)?$/),
    verdict: z.enum(['pass', 'fail']),
    boot: z.string().max(1024).optional(),
    vermagic: z.string().max(1024).optional(),
    message: z.string().max(4096),
    at: z.string().max(64),
  })
  .strict();
const documentSchema = z.object({ records: z.array(recordSchema).max(100_000) }).strict();

export function recordKey(k: VerificationKey): string {
  return JSON.stringify([k.imageDigest, k.release, k.arch, k.moduleSource, k.flow]);
}

export function encodeRecords(records: VerificationRecord[]): Uint8Array {
  const sorted = [...records].sort((a, b) => (recordKey(a) < recordKey(b) ? -1 : 1));
  return new TextEncoder().encode(`${JSON.stringify({ records: sorted }, null, 1)}\n`);
}

/** A stored document read back; `shown` names it in the error (it came from a registry: hostile until checked). */
export function decodeRecords(bytes: Uint8Array, shown: string): VerificationRecord[] {
  if (bytes.byteLength > MAX_RECORDS_BYTES) throw new Error(`${shown}: verification records over ${MAX_RECORDS_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new Error(`${shown}: verification records are not JSON: ${(err as Error).message}`);
  }
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) throw new Error(`${shown}: verification records: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  return parsed.data.records;
}

/** The keys proven: passed (and, for a booted flow, loaded). A failure is built again: it may have been the machine. */
export function provenKeys(records: VerificationRecord[]): Set<string> {
  return new Set(records.filter(isProven).map(recordKey));
}

/** A record that proves its pair: passed, and loaded when the flow booted it. */
export function isProven(r: VerificationRecord): boolean {
  return r.verdict === 'pass' && (!r.flow.endsWith('+boot') || r.boot === 'loads');
}
