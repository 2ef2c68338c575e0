/**
 * SLSA provenance for a built image: an in-toto v1 Statement with predicateType https://slsa.dev/provenance/v1,
 * naming the commit, the Dockerfile (its git blob), the build args, the base images by digest and the builder.
 * Pure and deterministic: no clock unless the caller gives the times.
 */
import { isDigest } from './digest.js';

export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const BUILD_TYPE = 'https://github.com/falcosecurity/builder-images/buildtypes/dockerfile/v1';

export interface ProvenanceInput {
  /** registry/repository of the image. */
  repository: string;
  digest: string;
  tags: string[];
  /** Source repository URL (https) and the commit built. */
  source?: string;
  commit?: string;
  dockerfile: { path: string; gitBlob?: string };
  platform: string;
  buildArgs: Record<string, string>;
  /** The images the build pulled, as resolved references (a pinned one ends in @sha256:…). */
  bases: string[];
  sourceDateEpoch?: number;
  builder: { id: string; version: Record<string, string> };
  invocationId?: string;
}

/** `sha256:<hex>` -> `{ sha256: <hex> }`, the in-toto DigestSet. */
function digestSet(digest: string): Record<string, string> {
  const [alg, hex] = digest.split(':') as [string, string];
  return { [alg]: hex };
}

/** The digest a resolved reference pins (its last `@`), when it pins one. */
function pinnedDigest(reference: string): string | undefined {
  const at = reference.lastIndexOf('@');
  const digest = at > 0 ? reference.slice(at + 1) : '';
  return isDigest(digest) ? digest : undefined;
}

export function provenanceStatement(input: ProvenanceInput): Record<string, unknown> {
  const resolvedDependencies: Record<string, unknown>[] = [];
  if (input.source && input.commit) resolvedDependencies.push({ uri: `git+${input.source}@${input.commit}`, digest: { gitCommit: input.commit } });
  for (const base of [...input.bases].sort()) {
    const digest = pinnedDigest(base);
    resolvedDependencies.push(digest ? { uri: `docker://${base}`, digest: digestSet(digest) } : { uri: `docker://${base}`, annotations: { pinned: 'no: the build resolved this tag itself' } });
  }
  const internalParameters: Record<string, unknown> = { platform: input.platform };
  if (input.sourceDateEpoch !== undefined) internalParameters.SOURCE_DATE_EPOCH = input.sourceDateEpoch;
  const metadata: Record<string, unknown> = {};
  if (input.invocationId) metadata.invocationId = input.invocationId;
  return {
    _type: STATEMENT_TYPE,
    subject: input.tags.map((tag) => ({ name: `${input.repository}:${tag}`, digest: digestSet(input.digest) })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          source: input.source && input.commit ? { uri: input.source, commit: input.commit } : undefined,
          dockerfile: input.dockerfile.gitBlob ? { path: input.dockerfile.path, digest: { gitBlob: input.dockerfile.gitBlob } } : { path: input.dockerfile.path },
          buildArgs: Object.fromEntries(Object.entries(input.buildArgs).sort(([a], [b]) => (a < b ? -1 : 1))),
        },
        internalParameters,
        resolvedDependencies,
      },
      runDetails: { builder: input.builder, metadata },
    },
  };
}
