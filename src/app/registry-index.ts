/**
 * The builder index against the registry: what a driver builder reads from a repository's tags, and whether every
 * entry of an index names an image that exists and agrees with it. Network; the rules are in core/registry-index.
 */
import pLimit from 'p-limit';
import type { IndexEntry } from '../core/index-schema.js';
import { platformOfArch } from '../core/names.js';
import { parseReference, tryParseReference } from '../core/reference.js';
import { entryLabelProblems, indexFromTags, type RegistryIndex } from '../core/registry-index.js';
import { NotFoundError, type RegistryClient } from '../adapters/registry/index.js';
import { UsageError } from '../errors.js';
import type { Subject } from '../adapters/registry/referrers.js';
import { compareReleases } from '../core/kernel-list.js';
import { readRecords } from './verify-records.js';
import { isProven } from '../core/verify-record.js';

/** `host/path` (no tag or digest) as a registry and repository. */
export function parseRepositoryName(name: string): { registry: string; repository: string } {
  let ref;
  try {
    ref = parseReference(name);
  } catch (err) {
    throw new UsageError(`"${name}" is not a repository such as ghcr.io/org/builders: ${(err as Error).message}`);
  }
  if (ref.tag !== undefined || ref.digest !== undefined) throw new UsageError(`"${name}" names an image, not a repository: drop the tag or digest`);
  return { registry: ref.registry, repository: ref.repository };
}

/** The index a driver builder would read from `repository` for the builder image tags `versions`. */
export async function readRegistryIndex(client: RegistryClient, repository: string, versions: string[]): Promise<RegistryIndex> {
  const repo = parseRepositoryName(repository);
  const tags = await client.listTags(repo);
  return indexFromTags(repository, tags, versions);
}

export type VerdictStatus = 'ok' | 'missing' | 'disagrees' | 'error';

export interface EntryVerdict {
  entry: IndexEntry;
  status: VerdictStatus;
  /** Digest of the manifest the entry's name resolves to, when it exists. */
  digest?: string;
  /** What is wrong, one sentence each; empty when ok. */
  problems: string[];
  /** Kernel releases that verify proved for this digest (its verification records), when any. */
  provenKernels?: string[];
}

/**
 * Every entry's image must exist (a HEAD on its manifest; only "not found" counts as missing, any other failure is
 * an error) and its config's labels must agree with the entry. `jobs` entries are looked at a time.
 */
export async function verifyIndex(client: RegistryClient, entries: IndexEntry[], options: { jobs?: number; onProgress?: (line: string) => void } = {}): Promise<EntryVerdict[]> {
  // An unreachable registry or refused credentials fail once, not once per entry.
  const registries = new Set(entries.map((e) => tryParseReference(e.name)?.registry).filter((r): r is string => Boolean(r)));
  await Promise.all([...registries].map((registry) => client.ping(registry)));
  const limit = pLimit(Math.max(1, options.jobs ?? 8));
  return Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const verdict = await verifyEntry(client, entry);
        options.onProgress?.(`${entry.name}: ${verdict.status}${verdict.problems.length ? ` (${verdict.problems[0]})` : ''}`);
        return verdict;
      }),
    ),
  );
}

async function verifyEntry(client: RegistryClient, entry: IndexEntry): Promise<EntryVerdict> {
  let ref;
  try {
    ref = parseReference(entry.name);
  } catch (err) {
    return { entry, status: 'error', problems: [`not an image reference: ${(err as Error).message}`] };
  }
  try {
    const head = await client.headManifest(ref);
    const image = await client.getImage(ref, platformOfArch(entry.arch));
    const config = await client.getConfig({ registry: ref.registry, repository: ref.repository }, image.manifest);
    const problems = entryLabelProblems(entry, config);
    const provenKernels = await provenFor(client, { repo: { registry: ref.registry, repository: ref.repository }, digest: head.digest, mediaType: head.mediaType, size: head.size });
    return { entry, status: problems.length ? 'disagrees' : 'ok', digest: head.digest, problems, ...(provenKernels.length ? { provenKernels } : {}) };
  } catch (err) {
    const message = withoutPrefix((err as Error).message, `${entry.name}: `);
    if (err instanceof NotFoundError) return { entry, status: 'missing', problems: [`the registry has no such image: its push failed or has not run (${message})`] };
    return { entry, status: 'error', problems: [message] };
  }
}

/** The kernels verify proved for the image (its records beside it); none when it has none or they cannot be read. */
async function provenFor(client: RegistryClient, subject: Subject): Promise<string[]> {
  try {
    const { records } = await readRecords(client, subject);
    return [...new Set(records.filter(isProven).map((r) => r.release))].sort(compareReleases);
  } catch {
    return [];
  }
}

function withoutPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}
