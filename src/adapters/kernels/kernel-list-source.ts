/**
 * A kernel list from a file or an https URL (kernel-crawler's `list.json`, or our own YAML/JSON list), read under
 * the headers downloads' discipline (https only, bounded size and time), and the HEAD probe the driver builder
 * runs on every headers URL before it keeps it.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { parse as parseYaml } from 'yaml';
import { parseKernelList, type KernelListEntry } from '../../core/kernel-list.js';
import type { Arch } from '../../core/names.js';
import { tempDir } from '../../util/cleanup.js';
import { checkUrl, download } from '../headers/download.js';

/** kernel-crawler's x86_64 list is about 2.5 MB; this leaves room for years of kernels. */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;

export class KernelListSourceError extends Error {}

export interface ReadListOptions {
  cwd: string;
  /** The arch of a kernel-crawler file whose entries do not say it. */
  arch?: Arch;
  fetch?: typeof fetch;
}

export async function readKernelListSource(location: string, options: ReadListOptions): Promise<KernelListEntry[]> {
  const text = /^https?:\/\//.test(location) ? await fetchListText(location, options) : await readListFile(resolve(options.cwd, location), location);
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both formats.
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new KernelListSourceError(`${location}: does not parse as JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseKernelList(doc, location, options.arch ?? archOfListPath(location));
}

/** kernel-crawler publishes one file per arch, `kernels/<arch>/list.json`: the path says the arch. */
export function archOfListPath(location: string): Arch | undefined {
  const m = /(?:^|\/)(x86_64|aarch64|amd64|arm64)\/[^/]*$/.exec(location.replace(/[?#].*$/, ''));
  if (!m) return undefined;
  return m[1] === 'x86_64' || m[1] === 'amd64' ? 'x86_64' : 'aarch64';
}

async function readListFile(path: string, shown: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new KernelListSourceError(`cannot read the kernel list ${shown}: no such file`);
  if (info.size > MAX_LIST_BYTES) throw new KernelListSourceError(`${shown}: ${info.size} bytes is over the ${MAX_LIST_BYTES}-byte limit of a kernel list`);
  return readFile(path, 'utf8');
}

async function fetchListText(url: string, options: ReadListOptions): Promise<string> {
  // A list changes from day to day: fetched fresh into this run's temp dir, never cached.
  const dir = await tempDir('bi-kernel-list-');
  try {
    const path = await download(url, { cacheDir: dir.path, maxBytes: MAX_LIST_BYTES, deadlineMs: 5 * 60_000, fetch: options.fetch });
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new KernelListSourceError(`cannot read the kernel list ${url}: ${(err as Error).message}`);
  } finally {
    await dir.remove();
  }
}

export interface ProbeOptions {
  fetch?: typeof fetch;
  /** Each HEAD's limit. */
  timeoutMs?: number;
  concurrency?: number;
}

/**
 * The URLs whose HEAD answers 200, as the driver builder keeps them (redirects followed, at most 5, never from
 * https to http). Paths and unreachable URLs are kept out; local paths answer when they are files.
 */
export async function answeringSources(sources: string[], cwd: string, options: ProbeOptions = {}): Promise<Set<string>> {
  const limit = pLimit(options.concurrency ?? 8);
  const answered = new Set<string>();
  await Promise.all(
    [...new Set(sources)].map((s) =>
      limit(async () => {
        if (await answers(s, cwd, options)) answered.add(s);
      }),
    ),
  );
  return answered;
}

async function answers(source: string, cwd: string, options: ProbeOptions): Promise<boolean> {
  if (!/^https?:\/\//.test(source)) return stat(resolve(cwd, source)).then((s) => s.isFile(), () => false);
  const fetcher = options.fetch ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  try {
    let url = new URL(source);
    for (let hop = 0; hop <= 5; hop++) {
      checkUrl(url, source);
      const response = await fetcher(url, { method: 'HEAD', redirect: 'manual', signal });
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, url);
        if (url.protocol === 'https:' && next.protocol !== 'https:') return false;
        url = next;
        continue;
      }
      return response.status === 200;
    }
    return false;
  } catch {
    return false;
  }
}
