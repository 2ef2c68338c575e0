/**
 * Headers packages from URLs, through the bounded HTTP client (adapters/http): https only (plain http to loopback
 * hosts alone, for tests), redirects followed by hand and never downgraded to http, a size cap, an idle limit
 * with a minimum of bytes per window (a trickle is a stall), an overall deadline, an optional sha256 checked
 * before the file is used, and a cache under `.cache/headers` that is written atomically (a half-downloaded
 * file is never seen) and re-verified when a sha256 is given.
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
import { AttemptClock, bodyDeadlineMs, DEFAULT_IDLE_MS, fetchFollowing, guardBody, HttpError, IdleTimeoutError } from '../http/guard.js';

export interface DownloadOptions {
  cacheDir: string;
  sha256?: string;
  maxBytes?: number;
  /** The idle limit: no answer for this long, or a body that brings less than MIN_BYTES_PER_WINDOW in it, aborts. */
  idleTimeoutMs?: number;
  /** The whole download, redirects included (default: bodyDeadlineMs of maxBytes). */
  deadlineMs?: number;
  onProgress?: (line: string) => void;
  fetch?: typeof fetch;
}

export class DownloadError extends Error {}


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
  const clock = new AttemptClock(options.idleTimeoutMs ?? DEFAULT_IDLE_MS);
  const deadlineMs = options.deadlineMs ?? bodyDeadlineMs(maxBytes);
  let late = false;
  // The deadline ends the attempt through its clock: headers, redirects and body alike.
  const deadline = setTimeout(() => {
    late = true;
    clock.abort(`the download took longer than its ${deadlineMs / 1000}s deadline`);
  }, deadlineMs);
  deadline.unref();
  try {
    const { response, url } = await fetchFollowing(
      fetcher,
      start,
      { signal: clock.signal },
      { credentialOrigin: start.origin, what: start.href, beforeHop: () => clock.arm(clock.idleMs), checkRedirect: (next) => checkUrl(next, start.href) },
    );
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadError(`${url.href}: HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new DownloadError(`${url.href}: ${declared} bytes is over the ${maxBytes}-byte limit`);
    }
    options.onProgress?.(`headers: downloading ${url.href}${Number.isFinite(declared) ? ` (${(declared / 1024 ** 2).toFixed(1)} MiB)` : ''}`);
    const hash = createHash('sha256');
    let got = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        got += chunk.length;
        if (got > maxBytes) return done(new DownloadError(`${url.href}: more than the ${maxBytes}-byte limit`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const body = guardBody(response, clock).body!;
    await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), count, createWriteStream(file));
    return hash.digest('hex');
  } catch (err) {
    const cause = clock.explain(err);
    if (cause instanceof IdleTimeoutError) throw new DownloadError(`${start.href}: ${late ? cause.message : `stalled (${cause.message})`}: aborted`, { cause });
    if (cause instanceof HttpError) throw new DownloadError(cause.message, { cause });
    throw cause;
  } finally {
    clearTimeout(deadline);
    clock.disarm();
  }
}
