/**
 * Headers packages from URLs, with the registry client's discipline: https only (plain http to loopback hosts
 * alone, for tests), redirects followed by hand and never downgraded to http, a size cap, an idle timeout and an
 * overall deadline, an optional sha256 checked before the file is used, and a cache under `.cache/headers` that
 * is written atomically (a half-downloaded file is never seen) and re-verified when a sha256 is given.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { onInterrupt } from '../../util/cleanup.js';
import { ownedName, removeDeadRunsLeftovers } from '../../util/leftovers.js';
import { isLoopbackRegistry } from '../../core/reference.js';

export interface DownloadOptions {
  cacheDir: string;
  sha256?: string;
  maxBytes?: number;
  /** No byte for this long aborts the download. */
  idleTimeoutMs?: number;
  /** The whole download, redirects included. */
  deadlineMs?: number;
  onProgress?: (line: string) => void;
  fetch?: typeof fetch;
}

export class DownloadError extends Error {}

const MAX_REDIRECTS = 5;

export function isSha256(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

/** Only https, or http to a loopback host; never a URL with credentials in it. */
export function checkUrl(url: URL, what: string): void {
  if (url.username || url.password) throw new DownloadError(`${what}: credentials in a URL are refused`);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackRegistry(url.host)) return;
  throw new DownloadError(`${what}: only https URLs are downloaded (got ${url.protocol}//${url.host})`);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The file's path in the cache, downloaded now or earlier. */
export async function download(urlText: string, options: DownloadOptions): Promise<string> {
  const url = new URL(urlText);
  checkUrl(url, urlText);
  const name = decodeURIComponent(url.pathname.split('/').pop() || 'download').replace(/[^A-Za-z0-9._+~-]/g, '_');
  const dir = join(options.cacheDir, createHash('sha256').update(url.href).digest('hex').slice(0, 32));
  const path = join(dir, name);
  if (await stat(path).then((s) => s.isFile(), () => false)) {
    if (!options.sha256 || (await sha256OfFile(path)) === options.sha256) {
      options.onProgress?.(`headers: ${name} from the cache`);
      return path;
    }
    await unlink(path);
  }
  await mkdir(dir, { recursive: true });
  await removeDeadRunsLeftovers(dir, /\..+\./, '.part');
  // Named by pid and registered before it exists: an interruption or a SIGKILL removes it, or a later run does.
  const tmp = join(dir, ownedName(`.${name}.`, '.part'));
  const removal = onInterrupt(() => unlink(tmp).catch(() => undefined), { onDeath: { path: tmp } });
  try {
    const digest = await fetchTo(url, tmp, options);
    if (options.sha256 && digest !== options.sha256) throw new DownloadError(`${urlText}: content has sha256 ${digest}, not the expected ${options.sha256}: rejected`);
    await rename(tmp, path);
    return path;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    removal.dismiss();
  }
}

async function fetchTo(start: URL, file: string, options: DownloadOptions): Promise<string> {
  const fetcher = options.fetch ?? fetch;
  const maxBytes = options.maxBytes ?? 1024 ** 3;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const deadline = AbortSignal.timeout(options.deadlineMs ?? 15 * 60_000);
  const idle = new AbortController();
  const signal = AbortSignal.any([deadline, idle.signal]);
  let timer = setTimeout(() => idle.abort(), idleMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleMs);
  };
  try {
    let url = start;
    for (let hop = 0; ; hop++) {
      const response = await fetcher(url, { redirect: 'manual', signal });
      touch();
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw new DownloadError(`${start.href}: more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(response.headers.get('location')!, url);
        if (url.protocol === 'https:' && next.protocol !== 'https:') throw new DownloadError(`${start.href}: redirect to ${next.protocol}//${next.host} refused (no downgrade from https)`);
        checkUrl(next, start.href);
        url = next;
        continue;
      }
      if (response.status !== 200 || !response.body) throw new DownloadError(`${url.href}: HTTP ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) throw new DownloadError(`${url.href}: ${declared} bytes is over the ${maxBytes}-byte limit`);
      options.onProgress?.(`headers: downloading ${url.href}${Number.isFinite(declared) ? ` (${(declared / 1024 ** 2).toFixed(1)} MiB)` : ''}`);
      const hash = createHash('sha256');
      let got = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          touch();
          got += chunk.length;
          if (got > maxBytes) return done(new DownloadError(`${url.href}: more than the ${maxBytes}-byte limit`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), count, createWriteStream(file));
      return hash.digest('hex');
    }
  } catch (err) {
    if (idle.signal.aborted) throw new DownloadError(`${start.href}: no data for ${idleMs / 1000}s: aborted`);
    if (deadline.aborted) throw new DownloadError(`${start.href}: took longer than the deadline: aborted`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
