/**
 * The bounded HTTP client's parts, for every server we do not trust (registries, token services, the storage
 * they redirect to, package mirrors):
 *  - origins: credentials go only to the origin (scheme, host, port) they belong to; a redirect that changes
 *    origin drops them, and a redirect from https to http is refused outright;
 *  - time: an attempt whose headers do not come within the idle limit, or whose body brings less than
 *    MIN_BYTES_PER_WINDOW in an idle limit's worth of waiting (counted only while we wait for data, so a slow
 *    consumer is never blamed on the server), is aborted with an IdleTimeoutError, which callers retry;
 *  - size: documents (manifests, tag pages, tokens, error bodies) are read up to a cap and no further.
 */
import { redact } from '../../util/redact.js';
import { HttpError } from './errors.js';

export { HttpError } from './errors.js';

/** The idle limit when none is given: `--timeout`'s default. */
export const DEFAULT_IDLE_MS = 30_000;
/** A body that brings less than this in one idle window of waiting is stalled (a trickle is as bad as silence). */
export const MIN_BYTES_PER_WINDOW = 64 * 1024;
/** Manifests and indexes: the limit distribution and containerd use. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** What we read of an error body or a token answer. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;
export const MAX_TOKEN_BODY_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;
/**
 * A whole streamed body's deadline: 15 minutes, plus a second for every 512 KiB it should bring. Each idle
 * window must bring MIN_BYTES_PER_WINDOW; a trickle just above that floor passes every window, not this.
 */
export const BODY_DEADLINE_BASE_MS = 15 * 60_000;
export const BODY_DEADLINE_BYTES_PER_SECOND = 512 * 1024;

/** The deadline of a body of `size` bytes (of at most `size`, when only a cap is known). */
export function bodyDeadlineMs(size: number): number {
  return BODY_DEADLINE_BASE_MS + Math.ceil(size / BODY_DEADLINE_BYTES_PER_SECOND) * 1000;
}
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** A transient fault: the server went quiet (or trickles). Retried like a dropped connection. */
export class IdleTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdleTimeoutError';
  }
}

/** A body larger than its cap: never retried, the server means it. */
export class TooLargeError extends HttpError {
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}

export function sameOrigin(a: URL | string, b: URL | string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/**
 * One attempt's clock. `arm` starts (or restarts) a countdown that aborts the attempt's signal; the body
 * guard uses it to measure only the time spent waiting for data.
 */
export class AttemptClock {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  constructor(readonly idleMs: number) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(ms: number, onExpiry: () => void = () => this.abort(`no complete answer within ${seconds(this.idleMs)}`)): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(onExpiry, Math.max(0, ms));
    // A response someone forgot to drain must not keep the process alive.
    this.timer.unref();
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  abort(why: string): void {
    this.disarm();
    // A second abort changes nothing: an aborted signal keeps its first reason.
    this.controller.abort(new IdleTimeoutError(why));
  }

  /** The IdleTimeoutError when the clock ended the attempt, else the error as it came. */
  explain(err: unknown): unknown {
    return this.controller.signal.aborted ? this.controller.signal.reason : err;
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/**
 * The response with a body that fails when the server stalls: each idle window of waiting must bring at
 * least MIN_BYTES_PER_WINDOW, or the end of the body.
 */
export function guardBody(response: Response, clock: AttemptClock): Response {
  // No body to guard. (fetch gives 204, 205 and 304 answers a null body, and a Response cannot be made with one.)
  if (!response.body) {
    clock.disarm();
    return response;
  }
  // The headers came: from here on only the time spent waiting for body data counts.
  clock.disarm();
  const reader = response.body.getReader();
  // One timer per window, not one per chunk: it runs while the body is read, and at each expiry adds the time a
  // read has been pending. A window is over when that waiting time reaches the idle limit.
  let waited = 0;
  let bytes = 0;
  let pendingSince: number | undefined;
  let ticking = false;
  const tick = () => {
    const now = performance.now();
    if (pendingSince !== undefined) {
      waited += now - pendingSince;
      pendingSince = now;
    }
    if (waited >= clock.idleMs) {
      if (bytes < MIN_BYTES_PER_WINDOW) {
        clock.abort(`the body stalled: ${bytes} bytes in ${seconds(clock.idleMs)}`);
        return;
      }
      waited = 0;
      bytes = 0;
    }
    clock.arm(clock.idleMs - waited, tick);
  };
  let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  // The abort ends the body itself too, whatever the fetch implementation does with its signal.
  const stop = onAbort(clock, reader, (reason) => {
    try {
      // start() ran in the constructor: the controller is there.
      stream!.error(reason);
    } catch {
      // already closed or errored
    }
  });
  const finish = () => {
    clock.disarm();
    stop();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      stream = controller;
    },
    async pull(controller) {
      pendingSince = performance.now();
      if (!ticking) {
        ticking = true;
        clock.arm(clock.idleMs, tick);
      }
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        finish();
        // After the clock's abort the stream is errored already, and error() does nothing.
        controller.error(err);
        return;
      }
      // Stryker disable next-line ConditionalExpression: after the abort the stream is errored; close() would throw into a stream that ignores it
      if (clock.signal.aborted) return;
      waited += performance.now() - pendingSince;
      pendingSince = undefined;
      if (chunk.done) {
        finish();
        controller.close();
        return;
      }
      bytes += chunk.value.byteLength;
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** On the clock's abort: cancel the reader and tell `then`; returns the function that stops listening. */
function onAbort(clock: AttemptClock, reader: ReadableStreamDefaultReader<Uint8Array>, then: (reason: unknown) => void = () => undefined): () => void {
  const listener = () => {
    then(clock.signal.reason);
    reader.cancel(clock.signal.reason).catch(() => undefined);
  };
  // An AbortSignal fires 'abort' once at most.
  clock.signal.addEventListener('abort', listener);
  return () => clock.signal.removeEventListener('abort', listener);
}

/**
 * A request body that restarts the attempt's clock as the connection takes it, so a large upload on a slow
 * link is not mistaken for a server that does not answer. Small bodies are sent as they are.
 */
export function progressBody(body: Uint8Array, clock: AttemptClock): { body: ReadableStream<Uint8Array>; length: number } {
  const slice = 256 * 1024;
  let offset = 0;
  return {
    length: body.byteLength,
    body: new ReadableStream<Uint8Array>({
      pull(controller) {
        clock.arm(clock.idleMs);
        if (offset >= body.byteLength) {
          controller.close();
          return;
        }
        controller.enqueue(body.subarray(offset, offset + slice));
        offset += slice;
      },
    }),
  };
}

/** The whole body, failing (and cancelling the rest) once it passes `maxBytes`. */
export async function readBounded(response: Response, maxBytes: number, what: string, clock?: AttemptClock): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  const tooLarge = () => new TooLargeError(`${what}: the server sent more than ${formatBytes(maxBytes)}, the limit for this kind of document; refused`);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  const stop = clock ? onAbort(clock, reader) : () => undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (clock?.signal.aborted) throw clock.signal.reason;
      if (done) break;
      length += value.byteLength;
      if (length > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      parts.push(value);
    }
  } catch (err) {
    throw clock ? clock.explain(err) : err;
  } finally {
    stop();
  }
  return new Uint8Array(Buffer.concat(parts, length));
}

/** An error body in a few words, never more than MAX_ERROR_BODY_BYTES read. */
export async function readErrorText(response: Response): Promise<string> {
  try {
    // Stryker disable next-line StringLiteral: the TooLargeError that would name it is swallowed below
    return Buffer.from(await readBounded(response, MAX_ERROR_BODY_BYTES, 'error body')).toString('utf8');
  } catch {
    await response.body?.cancel().catch(() => undefined);
    return '';
  }
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

export interface FollowOptions {
  /** The origin the credentials belong to: they are sent to it and to nothing else. */
  credentialOrigin: string;
  /** Headers that carry credentials (Authorization), added only on that origin. */
  credentials?: Record<string, string>;
  /** Follow this redirect? (the caller may want the 3xx itself). */
  follow?: (response: Response) => boolean;
  what: string;
  debug?: (line: string) => void;
  /** Called before each hop is sent (to restart a clock). */
  beforeHop?: () => void;
  /** Refuse a redirect target by throwing (the caller's own rules, on top of the scheme rules here). */
  checkRedirect?: (next: URL) => void;
}

/**
 * fetch with manual redirects under the origin rules: credentials only on their origin, an https -> http hop
 * refused. Returns the final response and its URL (whose origin tells whether a 401 came from the registry).
 */
export async function fetchFollowing(fetcher: typeof fetch, start: URL, init: RequestInit, options: FollowOptions): Promise<{ response: Response; url: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(init.headers);
    if (options.credentials && url.origin === options.credentialOrigin) {
      for (const [name, value] of Object.entries(options.credentials)) headers.set(name, value);
    }
    const hopInit: RequestInit & { duplex?: 'half' } = { ...init, headers, redirect: 'manual' };
    if (hop > 0) {
      delete hopInit.body;
      delete hopInit.duplex;
    }
    options.beforeHop?.();
    options.debug?.(redact(`${init.method ?? 'GET'} ${url}`));
    const response = await fetcher(url, hopInit);
    options.debug?.(redact(`${response.status} ${init.method ?? 'GET'} ${url}`));
    const location = response.headers.get('location');
    if (!REDIRECT_STATUS.has(response.status) || !location || (options.follow && !options.follow(response))) return { response, url };
    await response.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new HttpError(`${options.what}: too many redirects`);
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new HttpError(`${options.what}: refused a redirect to a ${next.protocol} URL`);
    if (url.protocol === 'https:' && next.protocol === 'http:') {
      throw new HttpError(`${options.what}: refused a redirect from https to plain http (${redact(`${next.origin}`)}): it would send the request in clear text`);
    }
    options.checkRedirect?.(next);
    url = next;
  }
}
