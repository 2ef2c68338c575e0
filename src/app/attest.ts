/**
 * push --attest: for every image a push built and published, its SBOM (read from the pushed layers) and its
 * SLSA provenance, attached beside it in the registry as OCI artifacts that refer to it (app/sbom.ts, the
 * referrers API or its tag fallback).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { platformBuildArgs } from '../core/dockerfile/evaluate.js';
import { pulledImages } from '../core/dockerfile/extract.js';
import { platformString } from '../core/names.js';
import { IN_TOTO_MEDIA_TYPE, provenanceStatement } from '../core/provenance.js';
import { parseReference, repositoryName } from '../core/reference.js';
import { attachArtifact, type AttachedArtifact, type RegistryClient, type Subject } from '../adapters/registry/index.js';
import { RegistrySource } from '../adapters/sources/registry.js';
import { gitProvenance, sourceDateEpoch } from './build-image.js';
import type { PushResult } from './push.js';
import type { Repo } from './repo.js';
import { attachSbom, imageSbom } from './sbom.js';
import { computeTags, type ImageTags } from './tags.js';

export interface AttestOptions {
  repository: string;
  buildArgs: Record<string, string>;
  engine: string;
  toolVersion: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
}

export interface Attestation {
  tag: string;
  digest: string;
  sbom: AttachedArtifact;
  provenance: AttachedArtifact;
  packages: number;
}

/** Who built it: the GitHub workflow run when there is one, else this tool on this machine. */
function builderOf(env: NodeJS.ProcessEnv, engine: string, toolVersion: string): { id: string; version: Record<string, string> } {
  const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
  const id = server && env.GITHUB_WORKFLOW_REF ? `${server}/${env.GITHUB_WORKFLOW_REF}` : 'urn:builder-images:local';
  return { id, version: { 'builder-images': toolVersion, engine } };
}

function invocationOf(env: NodeJS.ProcessEnv): string | undefined {
  const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
  return server && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined;
}

export async function attestPublished(repo: Repo, client: RegistryClient, result: PushResult, options: AttestOptions): Promise<Attestation[]> {
  const env = options.env ?? process.env;
  const pushed = result.images.filter((i) => i.status === 'pushed' && i.digest);
  if (pushed.length === 0) return [];
  const ref = parseReference(options.repository);
  const repoOf = { registry: ref.registry, repository: ref.repository };
  const [all, git] = await Promise.all([computeTags(repo, { buildArgs: options.buildArgs }), gitProvenance(repo.root, { source: repo.config.source })]);
  const out: Attestation[] = [];
  for (const image of pushed) {
    const t = all.find((x) => x.file === image.file);
    if (!t) continue;
    const head = await client.headManifest({ ...repoOf, digest: image.digest! });
    const subject: Subject = { repo: repoOf, digest: head.digest, mediaType: head.mediaType, size: head.size };
    const [source] = await new RegistrySource(client, { ...repoOf, digest: head.digest }).images();
    const made = await imageSbom(source!, repositoryName(repoOf), t.name.gccVersions);
    const sbom = await attachSbom(client, subject, made.document);
    const statement = await provenanceOf(repo, t, { ...options, env }, repositoryName(repoOf), head.digest, git);
    const provenance = await attachArtifact(client, subject, {
      artifactType: IN_TOTO_MEDIA_TYPE,
      layers: [{ mediaType: IN_TOTO_MEDIA_TYPE, bytes: new TextEncoder().encode(`${JSON.stringify(statement, null, 2)}\n`), annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' } }],
      annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' },
    });
    options.onProgress?.(`[${image.tag}] attached SBOM (${made.packages.length} packages) ${sbom.descriptor.digest.slice(0, 19)} and provenance ${provenance.descriptor.digest.slice(0, 19)}`);
    out.push({ tag: image.tag, digest: head.digest, sbom, provenance, packages: made.packages.length });
  }
  return out;
}

async function provenanceOf(repo: Repo, t: ImageTags, options: AttestOptions & { env: NodeJS.ProcessEnv }, repository: string, digest: string, git: { source?: string; revision?: string }): Promise<Record<string, unknown>> {
  const platform = platformString(t.name.arch);
  const buildArgs = { ...repo.config.buildArgs, ...options.buildArgs };
  const text = await readFile(join(repo.root, t.file), 'utf8');
  const dockerfile = t.inputs.find((i) => i.kind === 'dockerfile');
  return provenanceStatement({
    repository,
    digest,
    tags: t.tags,
    source: git.source,
    commit: t.dirty ? undefined : git.revision,
    dockerfile: { path: t.file, gitBlob: t.dirty ? undefined : dockerfile?.id },
    platform,
    buildArgs,
    bases: pulledImages(text, { ...platformBuildArgs(platform), ...buildArgs }),
    sourceDateEpoch: await sourceDateEpoch(repo, t, options.env),
    builder: builderOf(options.env, options.engine, options.toolVersion),
    invocationId: invocationOf(options.env),
  });
}
