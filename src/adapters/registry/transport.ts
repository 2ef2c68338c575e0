/**
 * HTTP to registries: scheme choice (HTTPS unless loopback or named insecure), the auth handshake (401 ->
 * challenge -> token for every scope the operation needs), retries with backoff and jitter (429 with
 * Retry-After, 5xx, dropped or stalled connections; a hard cap; never other 4xx), manual redirects under the
 * origin rules of guard.ts (credentials only to the registry's own origin, never https -> http), an idle
 * limit on every attempt, bounded documents, bounded concurrency, and a debug log that never shows a secret.
 */
import pLimit from 'p-limit';
import { apiHost, isLoopbackRegistry } from '../../core/reference.js';
import { redact } from '../../util/redact.js';
import { basicAuth, fetchToken, parseChallenges, TokenCache, type Challenge } from './auth.js';
import type { Credential, CredentialStore } from '../authn/index.js';
import { AuthError, describeErrorBody, NOT_FOUND_CODES, NotFoundError, RegistryError } from './errors.js';
import { AttemptClock, DEFAULT_IDLE_MS, fetchFollowing, HttpError, guardBody, IdleTimeoutError, progressBody, readBounded, readErrorText } from '../http/guard.js';

export interface TransportOptions {
  credentials: CredentialStore;
  /** Hosts (host[:port]) spoken to over plain HTTP although not loopback. */
  insecureRegistries?: string[];
  /** Requests in flight at once, across the client. */
  concurrency?: number;
  /** Attempts per request, first included. */
  maxAttempts?: number;
  /** Base of the exponential backoff, in ms. */
  backoffMs?: number;
  /** Longest wait honoured from Retry-After, in ms. */
  maxRetryAfterMs?: number;
  /** An attempt that gets no headers, or a body slower than a trickle, for this long fails (and is retried). */
  idleTimeoutMs?: number;
  debug?: (line: string) => void;
  fetch?: typeof fetch;
  userAgent?: string;
}

export interface RequestSpec {
  registry: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /**
   * Path below the host, e.g. `/v2/library/debian/manifests/12`, or an absolute URL (an upload Location, a
   * tag list's Link) that gets credentials only when it is on the registry's origin.
   */
  path: string;
  /** Scopes the operation needs, e.g. `repository:x:pull,push`. */
  scopes: string[];
  headers?: Record<string, string>;
  /** A body, or a factory for one so a retried request can send it again. */
  body?: Uint8Array | string | (() => NonNullable<RequestInit['body']>);
  /** Statuses that are success for this call; anything else becomes an error. */
  ok: number[];
  /** What the request is about, for error messages (e.g. a reference). */
  what: string;
  /** Do not retry (a streamed body that cannot be sent twice). */
  noRetry?: boolean;
  /**
   * An attempt budget shared with the caller's other requests and failures (a blob's resumes), so that one
   * operation stays within the attempt cap however its attempts are spread; each attempt takes one.
   */
  attempts?: AttemptBudget;
}

/** Attempts left for one operation; `attemptBudget()` makes a full one. */
export interface AttemptBudget {
  left: number;
}

type AuthMode = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; challenge: Challenge };

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Request bodies from this size on restart the idle clock as they go out. */
const PROGRESS_BODY_BYTES = 1024 * 1024;

/** A response and, for documents, its body read inside the attempt (so a stalled body is retried too). */
interface Answer {
  response: Response;
  url: URL;
  bytes?: Uint8Array;
}

export class Transport {
  private readonly tokens = new TokenCache();
  private readonly authModes = new Map<string, AuthMode>();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly fetcher: typeof fetch;
  private readonly insecure: Set<string>;

  constructor(private readonly options: TransportOptions) {
    this.limit = pLimit(options.concurrency ?? 8);
    this.fetcher = options.fetch ?? fetch;
    this.insecure = new Set(options.insecureRegistries ?? []);
  }

  /** Spoken to over plain HTTP: loopback registries and the ones named insecure. */
  isPlainHttp(registry: string): boolean {
    return isLoopbackRegistry(registry) || this.insecure.has(registry);
  }

  baseUrl(registry: string): string {
    return `${this.isPlainHttp(registry) ? 'http' : 'https'}://${apiHost(registry)}`;
  }

  credentialFor(registry: string): Promise<Credential | undefined> {
    return this.options.credentials.get(registry);
  }

  /** A full attempt budget for an operation made of several requests. */
  attemptBudget(): AttemptBudget {
    return { left: this.options.maxAttempts ?? 5 };
  }

  get idleTimeoutMs(): number {
    return this.options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  }

  /**
   * Send a request and return the response whose status is in `spec.ok`; the caller reads or cancels its
   * body, which fails with an IdleTimeoutError when the server stalls.
   */
  async request(spec: RequestSpec): Promise<Response> {
    return (await this.limit(() => this.withRetries(spec))).response;
  }

  /**
   * A small document (manifest, tag page, config): the whole attempt, headers and body, must finish within
   * the idle limit and the body must not pass `maxBytes`; a stall or a cut is retried like any other fault.
   */
  async document(spec: RequestSpec, maxBytes: number): Promise<{ response: Response; url: URL; bytes: Uint8Array }> {
    const answer = await this.limit(() => this.withRetries(spec, maxBytes));
    return { ...answer, bytes: answer.bytes! };
  }

  private async withRetries(spec: RequestSpec, documentBytes?: number): Promise<Answer> {
    const budget = spec.noRetry ? { left: 1 } : (spec.attempts ?? this.attemptBudget());
    for (let attempt = 1; ; attempt++) {
      budget.left--;
      const clock = new AttemptClock(this.idleTimeoutMs);
      let answer: Answer;
      try {
        answer = await this.authenticated(spec, clock, documentBytes !== undefined);
        if (spec.ok.includes(answer.response.status) && documentBytes !== undefined) {
          answer.bytes = await readBounded(answer.response, documentBytes, spec.what, clock);
          clock.disarm();
        }
      } catch (err) {
        clock.disarm();
        const cause = clock.explain(err);
        if (cause instanceof RegistryError || cause instanceof HttpError || budget.left <= 0) throw this.networkError(spec, cause, attempt);
        await this.sleep(this.backoff(attempt), spec, `connection failed (${describeCause(cause)})`);
        continue;
      }
      const { response } = answer;
      if (spec.ok.includes(response.status)) return answer;
      if (RETRY_STATUS.has(response.status) && budget.left > 0) {
        const wait = this.retryAfter(response) ?? this.backoff(attempt);
        await response.body?.cancel().catch(() => undefined);
        clock.disarm();
        await this.sleep(wait, spec, `HTTP ${response.status}`);
        continue;
      }
      const failure = await this.failure(spec, response, attempt);
      clock.disarm();
      throw failure;
    }
  }

  /** One attempt, answering one auth challenge. */
  private async authenticated(spec: RequestSpec, clock: AttemptClock, document: boolean): Promise<Answer> {
    let authorization = await this.authorizationFor(spec.registry, spec.scopes, false);
    let answer = await this.send(spec, authorization, clock, document);
    if (answer.response.status !== 401) return answer;
    const header = answer.response.headers.get('www-authenticate');
    await answer.response.body?.cancel().catch(() => undefined);
    // Only the registry itself may tell us how to authenticate to it: a 401 from storage a redirect or a
    // Location led to must not point our credentials at a realm of its choosing.
    if (answer.url.origin !== this.origin(spec.registry)) {
      throw new AuthError(`${spec.what}: ${answer.url.origin} (not the registry) asked for authentication; credentials are sent only to ${this.origin(spec.registry)}`, 401);
    }
    if (!header) throw new AuthError(`${spec.what}: ${spec.registry} answered 401 without a challenge`, 401);
    this.learnChallenge(spec.registry, header);
    authorization = await this.authorizationFor(spec.registry, spec.scopes, true);
    if (authorization === undefined) {
      throw new AuthError(`${spec.what}: ${spec.registry} requires authentication and no credentials are configured (docker login ${spec.registry}, or DOCKER_CONFIG)`, 401);
    }
    answer = await this.send(spec, authorization, clock, document);
    return answer;
  }

  private learnChallenge(registry: string, header: string): void {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) this.authModes.set(registry, { kind: 'bearer', challenge: bearer });
    else if (challenges.some((c) => c.scheme === 'basic')) this.authModes.set(registry, { kind: 'basic' });
    else throw new AuthError(`${registry} asks for an unsupported authentication scheme (${challenges.map((c) => c.scheme).join(', ')})`, 401);
  }

  /** The Authorization value for a registry and scope set, fetching a token when needed and allowed. */
  private async authorizationFor(registry: string, scopes: string[], fresh: boolean): Promise<string | undefined> {
    const mode = this.authModes.get(registry);
    if (!mode || mode.kind === 'none') return undefined;
    const credential = await this.options.credentials.get(registry);
    if (mode.kind === 'basic') {
      if (!credential?.username && !credential?.password) return undefined;
      return basicAuth(credential);
    }
    // After a 401 the cached token is not good enough (expired early, or revoked): always fetch a new one.
    const cached = fresh ? undefined : this.tokens.get(registry, scopes);
    if (cached) return `Bearer ${cached}`;
    // A known Bearer registry: fetch the token for new scopes up front, without a 401 round trip.
    const token = await fetchToken(this.fetcher, mode.challenge, scopes, credential, { registry, origin: this.origin(registry), idleTimeoutMs: this.idleTimeoutMs });
    this.tokens.set(registry, scopes, token);
    return `Bearer ${token.token}`;
  }

  /** The registry's origin (scheme, host, port): the only one its credentials are sent to. */
  origin(registry: string): string {
    return new URL(this.baseUrl(registry)).origin;
  }

  /** Resolve a path or a URL the registry gave (Link, Location) against the registry. */
  resolve(registry: string, pathOrUrl: string, base?: string): URL {
    return new URL(pathOrUrl, base ?? this.baseUrl(registry));
  }

  private async send(spec: RequestSpec, authorization: string | undefined, clock: AttemptClock, document: boolean): Promise<Answer> {
    const start = this.resolve(spec.registry, spec.path);
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'builder-images', ...spec.headers };
    const init: RequestInit & { duplex?: 'half' } = { method: spec.method, headers, signal: clock.signal };
    let body = typeof spec.body === 'function' ? spec.body() : spec.body;
    if (body instanceof Uint8Array && body.byteLength >= PROGRESS_BODY_BYTES && !document) {
      const progress = progressBody(body, clock);
      headers['content-length'] = String(progress.length);
      body = progress.body;
    }
    if (body !== undefined) {
      init.body = body as RequestInit['body'];
      if (isStream(body)) init.duplex = 'half';
    }
    const followable = spec.method === 'GET' || spec.method === 'HEAD';
    const { response, url } = await fetchFollowing(this.fetcher, start, init, {
      credentialOrigin: this.origin(spec.registry),
      credentials: authorization ? { authorization } : undefined,
      follow: (r) => followable && !spec.ok.includes(r.status),
      what: spec.what,
      debug: this.options.debug,
      beforeHop: () => clock.arm(clock.idleMs),
    });
    // Documents keep the one deadline for the whole attempt; streams get the stall guard on their body.
    return { response: document ? response : guardBody(response, clock), url };
  }

  private async failure(spec: RequestSpec, response: Response, attempts: number): Promise<RegistryError> {
    const text = spec.method === 'HEAD' ? '' : await readErrorText(response);
    const { code, text: detail } = describeErrorBody(text);
    const suffix = detail ? `: ${redact(detail)}` : '';
    const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (response.status === 404 || (code && NOT_FOUND_CODES.has(code))) {
      return new NotFoundError(`${spec.what}: not found${suffix}`, response.status, code);
    }
    if (response.status === 401 || response.status === 403) {
      return new AuthError(`${spec.what}: ${spec.registry} denied access (HTTP ${response.status})${suffix}; check the credentials and permissions for ${spec.registry}`, response.status, code);
    }
    return new RegistryError(`${spec.what}: ${spec.registry} answered HTTP ${response.status}${tried}${suffix}`, response.status, code);
  }

  private networkError(spec: RequestSpec, err: unknown, attempts: number): RegistryError {
    if (err instanceof RegistryError) return err;
    if (err instanceof HttpError) return new RegistryError(err.message, err.status, undefined, { cause: err });
    const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (err instanceof IdleTimeoutError) {
      return new RegistryError(`${spec.what}: ${spec.registry} stalled${tried} (${err.message}; the idle limit is --timeout)`, undefined, undefined, { cause: err });
    }
    const scheme = this.baseUrl(spec.registry).split(':')[0];
    return new RegistryError(`${spec.what}: cannot reach ${spec.registry} over ${scheme}${tried} (${describeCause(err)})`, undefined, undefined, { cause: err });
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffMs ?? 200;
    const exp = base * 2 ** (attempt - 1);
    return exp / 2 + Math.random() * (exp / 2); // "equal jitter": never zero, never in lockstep
  }

  private retryAfter(response: Response): number | undefined {
    const header = response.headers.get('retry-after');
    if (!header) return undefined;
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    if (!Number.isFinite(ms) || ms < 0) return undefined;
    return Math.min(ms, this.options.maxRetryAfterMs ?? 60_000);
  }

  private async sleep(ms: number, spec: RequestSpec, why: string): Promise<void> {
    this.options.debug?.(`retrying ${spec.method} ${spec.what} in ${Math.round(ms)} ms: ${why}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

function isStream(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (typeof (body as ReadableStream).getReader === 'function' || Symbol.asyncIterator in body);
}

function describeCause(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return redact(e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err));
}
