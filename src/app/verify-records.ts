/**
 * Verification records in the registry: what verify proved for an image digest, stored beside the image as OCI
 * artifacts that refer to it (the referrers API, or its `sha256-<hex>` tag fallback, since Debian's distribution
 * registry has none), so a later run, another shard or `index --verify` finds them again. One artifact per run and
 * image holds that run's records; reading unions every artifact of the type.
 */
import { attachArtifact, listReferrers, type Subject } from '../adapters/registry/referrers.js';
import type { RegistryClient } from '../adapters/registry/client.js';
import { parseReference, type ImageReference } from '../core/reference.js';
import { decodeRecords, encodeRecords, MAX_RECORDS_BYTES, provenKeys, VERIFICATION_ARTIFACT_TYPE, VERIFICATION_MEDIA_TYPE, type VerificationRecord } from '../core/verify-record.js';

/** How many record artifacts of one image are read at most (the newest win nothing: all are unioned). */
const MAX_RECORD_ARTIFACTS = 200;

export interface ImageRecords {
  subject: Subject;
  records: VerificationRecord[];
  proven: Set<string>;
}

/** The image's manifest as a subject: its digest, media type and size, as the registry serves the reference. */
export async function subjectOf(client: RegistryClient, image: string): Promise<Subject> {
  const ref: ImageReference = parseReference(image);
  const head = await client.headManifest(ref);
  const size = head.size || (await client.getManifest({ ...ref, digest: head.digest })).size;
  return { repo: { registry: ref.registry, repository: ref.repository }, digest: head.digest, mediaType: head.mediaType, size };
}

export async function readRecords(client: RegistryClient, subject: Subject): Promise<ImageRecords> {
  const found = await listReferrers(client, subject, { artifactType: VERIFICATION_ARTIFACT_TYPE });
  const records: VerificationRecord[] = [];
  for (const d of found.slice(-MAX_RECORD_ARTIFACTS)) {
    const where = `${subject.repo.registry}/${subject.repo.repository}@${d.digest}`;
    const m = await client.getManifest({ ...subject.repo, digest: d.digest });
    if (!('layers' in m.manifest)) continue;
    for (const layer of m.manifest.layers) {
      if (layer.mediaType !== VERIFICATION_MEDIA_TYPE || layer.size > MAX_RECORDS_BYTES) continue;
      const bytes = await client.getBlob(subject.repo, layer.digest);
      // Records about another image (a copied artifact, a lying registry) prove nothing here.
      records.push(...decodeRecords(bytes, where).filter((r) => r.imageDigest === subject.digest));
    }
  }
  return { subject, records, proven: provenKeys(records) };
}

export async function storeRecords(client: RegistryClient, subject: Subject, records: VerificationRecord[]): Promise<string | undefined> {
  const own = records.filter((r) => r.imageDigest === subject.digest);
  if (own.length === 0) return undefined;
  const attached = await attachArtifact(client, subject, {
    artifactType: VERIFICATION_ARTIFACT_TYPE,
    layers: [{ mediaType: VERIFICATION_MEDIA_TYPE, bytes: encodeRecords(own) }],
    annotations: { 'org.opencontainers.image.created': own.map((r) => r.at).sort().at(-1)!, 'io.builder-images.verification.count': String(own.length) },
  });
  return attached.descriptor.digest;
}

