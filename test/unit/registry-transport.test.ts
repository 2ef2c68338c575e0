/**
 * The transport against a scripted registry (a fetch stand-in that records every request): scheme choice,
 * retries (which statuses, how many, how long), error messages, redirects, bodies and headers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthError, NotFoundError, RegistryError } from '../../src/adapters/registry/errors.js';
import { CredentialStore } from '../../src/adapters/registry/credentials.js';
import { Transport, type RequestSpec, type TransportOptions } from '../../src/adapters/registry/transport.js';

const REGISTRY = '127.0.0.1:5998';
const ORIGIN = `http://${REGISTRY}`;

interface Seen {
  method: string;
  url: string;
  headers: Headers;
  body?: unknown;
  redirect?: string;
  duplex?: string;
  signal?: AbortSignal | null;
}

function scripted(handler: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetcher = (async (input: URL | string, init?: RequestInit) => {
    const req: Seen = { signal: init?.signal, method: init?.method ?? 'GET', url: String(input), headers: new Headers(init?.headers), body: init?.body, redirect: init?.redirect, duplex: (init as { duplex?: string } | undefined)?.duplex };
    seen.push(req);
    return handler(req, seen.length);
  }) as typeof fetch;
  return { fetcher, seen };
}

function transport(fetcher: typeof fetch, extra: Partial<TransportOptions> = {}) {
  const debug: string[] = [];
  const t = new Transport({
    credentials: new CredentialStore({ env: { DOCKER_CONFIG: '/nonexistent' } }),
    fetch: fetcher,
    backoffMs: 4,
    maxAttempts: 3,
    debug: (line) => debug.push(line),
    ...extra,
  });
  return { t, debug };
}

const spec = (extra: Partial<RequestSpec> = {}): RequestSpec => ({ registry: REGISTRY, method: 'GET', path: '/v2/a/manifests/1', scopes: [], ok: [200], what: 'a:1', ...extra });
const status = (code: number, body = '', headers: Record<string, string> = {}) => new Response(code === 204 || code === 304 ? null : body, { status: code, headers });
const retries = (debug: string[]) => debug.filter((l) => l.startsWith('retrying'));

afterEach(() => vi.restoreAllMocks());

describe('scheme and origin', () => {
  it('speaks plain http to loopback and to registries named insecure, https to the rest', () => {
    const { t } = transport(scripted(() => status(200)).fetcher, { insecureRegistries: ['reg.lan:5000'] });
    expect(t.baseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(t.baseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(t.baseUrl('reg.lan:5000')).toBe('http://reg.lan:5000');
    expect(t.baseUrl('reg.lan:5001')).toBe('https://reg.lan:5001');
    expect(t.baseUrl('ghcr.io')).toBe('https://ghcr.io');
    expect(t.origin('reg.lan:5000')).toBe('http://reg.lan:5000');
    expect(t.isPlainHttp('ghcr.io')).toBe(false);
    expect(t.resolve('ghcr.io', '/v2/x')).toEqual(new URL('https://ghcr.io/v2/x'));
    expect(t.resolve('ghcr.io', 'next?n=1', 'https://ghcr.io/v2/x/tags/list')).toEqual(new URL('https://ghcr.io/v2/x/tags/next?n=1'));
  });

  it('hands out the credential of a registry', async () => {
    const credentials = new CredentialStore({ explicit: { [REGISTRY]: { username: 'u', password: 'p' } }, env: { DOCKER_CONFIG: '/nonexistent' } });
    const t = new Transport({ credentials, fetch: scripted(() => status(200)).fetcher });
    expect(await t.credentialFor(REGISTRY)).toEqual({ username: 'u', password: 'p' });
    expect(await t.credentialFor('other.example')).toBeUndefined();
  });

  it('gives an operation the configured attempt budget, 5 by default', () => {
    expect(transport(scripted(() => status(200)).fetcher).t.attemptBudget()).toEqual({ left: 3 });
    expect(transport(scripted(() => status(200)).fetcher, { maxAttempts: undefined }).t.attemptBudget()).toEqual({ left: 5 });
  });

  it('sends its user agent, or the configured one, with the caller headers', async () => {
    const { fetcher, seen } = scripted(() => status(200, 'x'));
    await (await transport(fetcher).t.request(spec({ headers: { accept: 'a/b' } }))).text();
    await (await transport(fetcher, { userAgent: 'custom/1' }).t.request(spec())).text();
    expect(seen.map((r) => [r.url, r.headers.get('user-agent'), r.headers.get('accept')])).toEqual([
      [`${ORIGIN}/v2/a/manifests/1`, 'builder-images', 'a/b'],
      [`${ORIGIN}/v2/a/manifests/1`, 'custom/1', null],
    ]);
  });
});

describe('concurrency', () => {
  it('keeps at most the configured number of requests in flight, 8 by default', async () => {
    for (const [concurrency, expected] of [
      [2, 2],
      [undefined, 8],
    ] as const) {
      let inFlight = 0;
      let most = 0;
      const release: (() => void)[] = [];
      const { fetcher } = scripted(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => release.push(resolve));
        inFlight--;
        return status(200);
      });
      const { t } = transport(fetcher, { concurrency });
      const all = Promise.all(Array.from({ length: 10 }, () => t.request(spec())));
      await vi.waitFor(() => expect(release).toHaveLength(expected));
      for (let released = 0; released < 10; released++) {
        await vi.waitFor(() => expect(release.length).toBeGreaterThan(0));
        release.shift()!();
      }
      await all;
      expect(most).toBe(expected);
    }
  });
});

describe('retries', () => {
  it('retries 429 and 5xx with jittered exponential backoff, then reports the attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    for (const code of [429, 500, 502, 503, 504]) {
      const { fetcher, seen } = scripted(() => status(code, 'busy'));
      const { t, debug } = transport(fetcher);
      const failed = t.request(spec());
      await expect(failed).rejects.toThrow(`a:1: ${REGISTRY} answered HTTP ${code} after 3 attempts: busy`);
      await expect(failed).rejects.toMatchObject({ status: code });
      expect(seen).toHaveLength(3);
      expect(retries(debug)).toEqual([`retrying GET a:1 in 3 ms: HTTP ${code}`, `retrying GET a:1 in 6 ms: HTTP ${code}`]);
    }
  });

  it('rounds the wait it logs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.3);
    const { fetcher } = scripted((_, n) => (n === 1 ? status(503) : status(200)));
    const { t, debug } = transport(fetcher);
    await (await t.request(spec())).text();
    expect(retries(debug)).toEqual(['retrying GET a:1 in 3 ms: HTTP 503']);
  });

  it('retries an attempt that gets no answer within the idle limit, then says it stalled', async () => {
    const { fetcher, seen } = scripted(
      (req) => new Promise<Response>((_, reject) => req.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    const failed = transport(fetcher, { idleTimeoutMs: 20, maxAttempts: 2 }).t.request(spec());
    await expect(failed).rejects.toThrow(`a:1: ${REGISTRY} stalled after 2 attempts (no complete answer within 0.02 s; the idle limit is --timeout)`);
    await expect(failed).rejects.toMatchObject({ cause: { name: 'IdleTimeoutError' } });
    expect(seen).toHaveLength(2);
  });

  it('uses 200 ms as the default backoff base', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { fetcher } = scripted((_, n) => (n === 1 ? status(503) : status(200)));
    const { t, debug } = transport(fetcher, { backoffMs: undefined });
    await (await t.request(spec())).text();
    expect(retries(debug)).toEqual(['retrying GET a:1 in 100 ms: HTTP 503']);
  });

  it('never retries other statuses, and says nothing of attempts after one', async () => {
    for (const code of [400, 405, 501]) {
      const { fetcher, seen } = scripted(() => status(code, '{"errors":[{"code":"UNSUPPORTED","message":"no"}]}'));
      const failed = transport(fetcher).t.request(spec());
      await expect(failed).rejects.toThrow(new RegExp(`^a:1: ${REGISTRY} answered HTTP ${code}: UNSUPPORTED: no$`));
      await expect(failed).rejects.toMatchObject({ status: code, code: 'UNSUPPORTED' });
      expect(seen).toHaveLength(1);
    }
  });

  it('succeeds on a later attempt', async () => {
    const { fetcher, seen } = scripted((_, n) => (n < 3 ? status(502) : status(200, 'fine')));
    expect(await (await transport(fetcher).t.request(spec())).text()).toBe('fine');
    expect(seen).toHaveLength(3);
  });

  it('honours Retry-After in seconds or as a date, capped, and falls back to backoff for nonsense', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const waits = async (retryAfter: string, extra: Partial<TransportOptions> = {}) => {
      const { fetcher } = scripted((_, n) => (n === 1 ? status(429, '', { 'retry-after': retryAfter }) : status(200)));
      const { t, debug } = transport(fetcher, extra);
      await (await t.request(spec())).text();
      return retries(debug);
    };
    expect(await waits('0.01')).toEqual(['retrying GET a:1 in 10 ms: HTTP 429']);
    expect(await waits('0')).toEqual(['retrying GET a:1 in 0 ms: HTTP 429']);
    expect(await waits('30', { maxRetryAfterMs: 7 })).toEqual(['retrying GET a:1 in 7 ms: HTTP 429']);
    expect(await waits('-1')).toEqual(['retrying GET a:1 in 3 ms: HTTP 429']);
    expect(await waits('soon')).toEqual(['retrying GET a:1 in 3 ms: HTTP 429']);
    expect(await waits('')).toEqual(['retrying GET a:1 in 3 ms: HTTP 429']);
    expect(await waits(new Date(Date.now() - 60_000).toUTCString())).toEqual(['retrying GET a:1 in 3 ms: HTTP 429']);
    const later = await waits(new Date(Date.now() + 60_000).toUTCString(), { maxRetryAfterMs: 9 });
    expect(later).toEqual(['retrying GET a:1 in 9 ms: HTTP 429']);
  });

  it('caps Retry-After at 60 s by default', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const { fetcher } = scripted((_, n) => (n === 1 ? status(429, '', { 'retry-after': '3600' }) : status(200)));
      const { t, debug } = transport(fetcher);
      const pending = t.request(spec());
      await vi.waitFor(() => expect(retries(debug)).toEqual(['retrying GET a:1 in 60000 ms: HTTP 429']));
      await vi.advanceTimersByTimeAsync(60_000);
      expect((await pending).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries a dropped connection and names its cause and the scheme when it gives up', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { fetcher, seen } = scripted(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    });
    const { t, debug } = transport(fetcher);
    const failed = t.request(spec());
    await expect(failed).rejects.toThrow(`a:1: cannot reach ${REGISTRY} over http after 3 attempts (ECONNRESET)`);
    await expect(failed).rejects.toBeInstanceOf(RegistryError);
    expect(seen).toHaveLength(3);
    expect(retries(debug)).toEqual(['retrying GET a:1 in 3 ms: connection failed (ECONNRESET)', 'retrying GET a:1 in 6 ms: connection failed (ECONNRESET)']);
  });

  it('describes a failure by its cause message, its message, or itself', async () => {
    const fails = async (thrown: unknown, registry = REGISTRY) => {
      const { fetcher } = scripted(() => {
        throw thrown;
      });
      return transport(fetcher, { maxAttempts: 1 }).t.request(spec({ registry })).catch((e: Error) => e.message);
    };
    expect(await fails(Object.assign(new Error('outer'), { cause: { message: 'inner' } }))).toBe(`a:1: cannot reach ${REGISTRY} over http (inner)`);
    expect(await fails(new Error('plain'))).toBe(`a:1: cannot reach ${REGISTRY} over http (plain)`);
    expect(await fails('a string')).toBe(`a:1: cannot reach ${REGISTRY} over http (a string)`);
    expect(await fails(null)).toBe(`a:1: cannot reach ${REGISTRY} over http (null)`);
    const thrown = new Error('kept');
    const { fetcher } = scripted(() => {
      throw thrown;
    });
    await expect(transport(fetcher, { maxAttempts: 1 }).t.request(spec())).rejects.toMatchObject({ cause: thrown });
    expect(await fails(new Error('x'), 'reg.example')).toBe('a:1: cannot reach reg.example over https (x)');
  });

  it('does not retry a request marked noRetry, nor a RegistryError', async () => {
    const dropped = scripted(() => {
      throw new Error('reset');
    });
    await expect(transport(dropped.fetcher).t.request(spec({ noRetry: true }))).rejects.toThrow(/^a:1: cannot reach .* over http \(reset\)$/);
    expect(dropped.seen).toHaveLength(1);
    const busy = scripted(() => status(503));
    await expect(transport(busy.fetcher).t.request(spec({ noRetry: true }))).rejects.toThrow(/answered HTTP 503$/);
    expect(busy.seen).toHaveLength(1);
    const refused = scripted(() => {
      throw new RegistryError('already explained');
    });
    await expect(transport(refused.fetcher).t.request(spec())).rejects.toThrow(/^already explained$/);
    expect(refused.seen).toHaveLength(1);
  });

  it('shares an attempt budget across requests', async () => {
    const { fetcher, seen } = scripted(() => status(500));
    const { t } = transport(fetcher, { maxAttempts: 5 });
    const budget = t.attemptBudget();
    await expect(t.request(spec({ attempts: budget }))).rejects.toThrow(/after 5 attempts/);
    expect(budget.left).toBe(0);
    await expect(t.request(spec({ attempts: budget }))).rejects.toThrow(/answered HTTP 500$/);
    expect(seen).toHaveLength(6);
  });

  it('sends the body again on a retry, from its factory', async () => {
    let made = 0;
    const { fetcher, seen } = scripted((_, n) => (n === 1 ? status(503) : status(201)));
    await transport(fetcher).t.request(spec({ method: 'PUT', ok: [201], body: () => `body-${++made}` }));
    expect(seen.map((r) => r.body)).toEqual(['body-1', 'body-2']);
  });
});

describe('failures', () => {
  it('reads not found from the status or from the error code', async () => {
    const notFound = async (code: number, body: string) => {
      const failed = transport(scripted(() => status(code, body)).fetcher).t.request(spec());
      await expect(failed).rejects.toBeInstanceOf(NotFoundError);
      return failed.catch((e: Error) => e.message);
    };
    expect(await notFound(404, '')).toBe('a:1: not found');
    expect(await notFound(400, '{"errors":[{"code":"BLOB_UNKNOWN","message":"gone"}]}')).toBe('a:1: not found: BLOB_UNKNOWN: gone');
    const other = transport(scripted(() => status(400, '{"errors":[{"code":"DIGEST_INVALID"}]}')).fetcher).t.request(spec());
    await expect(other).rejects.not.toBeInstanceOf(NotFoundError);
  });

  it('reports 403 as denied access, with the registry error', async () => {
    const failed = transport(scripted(() => status(403, '{"errors":[{"code":"DENIED","message":"nope"}]}')).fetcher).t.request(spec());
    await expect(failed).rejects.toBeInstanceOf(AuthError);
    await expect(failed).rejects.toThrow(`a:1: ${REGISTRY} denied access (HTTP 403): DENIED: nope; check the credentials and permissions for ${REGISTRY}`);
  });

  it('does not read the body of a failed HEAD', async () => {
    const failed = transport(scripted(() => status(400, 'should not be read')).fetcher).t.request(spec({ method: 'HEAD' }));
    await expect(failed).rejects.toThrow(new RegExp(`^a:1: ${REGISTRY} answered HTTP 400$`));
  });

  it('redacts secrets in the registry error text', async () => {
    const failed = transport(scripted(() => status(400, 'bad header Authorization: Bearer abc.def')).fetcher).t.request(spec());
    await expect(failed).rejects.toThrow(/answered HTTP 400: bad header Authorization: Bearer \*\*\*$/);
  });
});

describe('redirects and documents', () => {
  it('follows redirects for GET and HEAD unless the status is expected, never for other methods', async () => {
    const redirecting = () => scripted((req) => (req.url.endsWith('/moved') ? status(200, 'moved') : status(307, '', { location: '/moved' })));
    const get = redirecting();
    expect(await (await transport(get.fetcher).t.request(spec())).text()).toBe('moved');
    expect(get.seen.map((r) => r.url)).toEqual([`${ORIGIN}/v2/a/manifests/1`, `${ORIGIN}/moved`]);
    const head = redirecting();
    expect((await transport(head.fetcher).t.request(spec({ method: 'HEAD' }))).status).toBe(200);
    expect(head.seen).toHaveLength(2);
    const expected = redirecting();
    expect((await transport(expected.fetcher).t.request(spec({ ok: [307] }))).status).toBe(307);
    expect(expected.seen).toHaveLength(1);
    const put = redirecting();
    await expect(transport(put.fetcher).t.request(spec({ method: 'PUT', body: 'x' }))).rejects.toThrow(/answered HTTP 307$/);
    expect(put.seen).toHaveLength(1);
  });

  it('refuses a 401 from another origin a redirect led to', async () => {
    const { fetcher, seen } = scripted((req) => (req.url.startsWith(ORIGIN) ? status(307, '', { location: 'http://127.0.0.2:5998/storage' }) : status(401, '', { 'www-authenticate': 'Basic realm="x"' })));
    const failed = transport(fetcher).t.request(spec());
    await expect(failed).rejects.toThrow(`a:1: http://127.0.0.2:5998 (not the registry) asked for authentication; credentials are sent only to ${ORIGIN}`);
    await expect(failed).rejects.toBeInstanceOf(AuthError);
    expect(seen).toHaveLength(2);
  });

  it('reads a document within its size limit, and only for an expected status', async () => {
    const { fetcher } = scripted(() => status(200, 'twelve bytes'));
    const { bytes, response, url } = await transport(fetcher).t.document(spec(), 12);
    expect(Buffer.from(bytes).toString()).toBe('twelve bytes');
    expect(response.status).toBe(200);
    expect(url.href).toBe(`${ORIGIN}/v2/a/manifests/1`);
    await expect(transport(fetcher).t.document(spec(), 11)).rejects.toThrow(/a:1: the server sent more than/);
  });

  it('leaves the body of an unexpected status to the error message', async () => {
    const { fetcher } = scripted(() => status(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"m"}]}'));
    await expect(transport(fetcher).t.document(spec(), 1000)).rejects.toThrow(/^a:1: not found: MANIFEST_UNKNOWN: m$/);
  });

  it('sends a large document body as it is, and streams as half duplex', async () => {
    const { fetcher, seen } = scripted(() => status(201, '{}'));
    const { t } = transport(fetcher);
    const big = new Uint8Array(1024 * 1024);
    await t.document(spec({ method: 'PUT', ok: [201], body: big }), 100);
    expect(seen[0]!.body).toBe(big);
    expect(seen[0]!.duplex).toBeUndefined();
    const { Readable } = await import('node:stream');
    await t.request(spec({ method: 'PUT', ok: [201], body: () => Readable.from([Buffer.from('x')]) as unknown as ReadableStream }));
    await t.request(spec({ method: 'PUT', ok: [201], body: () => new Blob(['y']).stream() }));
    await t.request(spec({ method: 'PUT', ok: [201], body: 'text' }));
    expect(seen.slice(1).map((r) => r.duplex)).toEqual(['half', 'half', undefined]);
  });

  it('streams a large upload with its length, a small one as it is', async () => {
    const { fetcher, seen } = scripted(() => status(201));
    const { t } = transport(fetcher);
    const big = new Uint8Array(1024 * 1024);
    await t.request(spec({ method: 'PUT', ok: [201], body: big }));
    const small = new Uint8Array(1024 * 1024 - 1);
    await t.request(spec({ method: 'PUT', ok: [201], body: small }));
    expect(seen[0]!.headers.get('content-length')).toBe(String(1024 * 1024));
    expect(seen[0]!.body).toBeInstanceOf(ReadableStream);
    expect(seen[0]!.duplex).toBe('half');
    expect(seen[1]!.headers.get('content-length')).toBeNull();
    expect(seen[1]!.body).toBe(small);
    expect(seen[1]!.duplex).toBeUndefined();
  });
});
