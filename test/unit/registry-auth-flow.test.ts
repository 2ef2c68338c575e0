/**
 * The transport's auth handshake against a scripted registry (a fetch stand-in that records every request):
 * which scheme it answers (Basic or Bearer), what it sends up front once it knows, the token cache per scope
 * set, and the errors for challenges it cannot answer.
 */
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/adapters/registry/errors.js';
import type { Credential } from '../../src/adapters/registry/credentials.js';
import { CredentialStore } from '../../src/adapters/registry/credentials.js';
import { Transport, type RequestSpec } from '../../src/adapters/registry/transport.js';

const REGISTRY = '127.0.0.1:5999';
const ORIGIN = `http://${REGISTRY}`;

interface Seen {
  method: string;
  url: URL;
  authorization?: string;
  body?: string;
}

type Handler = (req: Seen, n: number) => Response | Promise<Response>;

/** A fetch that hands every request to `handler` and records it. */
function scripted(handler: Handler) {
  const seen: Seen[] = [];
  const fetcher = (async (input: URL | string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
    const req: Seen = { method: init?.method ?? 'GET', url: new URL(String(input)), authorization: headers.get('authorization') ?? undefined, body };
    seen.push(req);
    return handler(req, seen.length);
  }) as typeof fetch;
  return { fetcher, seen };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const challenge401 = (header: string | undefined) => new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401, headers: header === undefined ? {} : { 'www-authenticate': header } });
const ok = (text = 'ok') => new Response(text, { status: 200 });

function transport(fetcher: typeof fetch, credential?: Credential): Transport {
  const credentials = new CredentialStore({ explicit: credential ? { [REGISTRY]: credential } : {}, env: { DOCKER_CONFIG: '/nonexistent' } });
  return new Transport({ credentials, fetch: fetcher, backoffMs: 1, maxAttempts: 3 });
}

const spec = (path: string, scopes: string[] = ['repository:a:pull']): RequestSpec => ({ registry: REGISTRY, method: 'GET', path, scopes, ok: [200], what: `GET ${path}` });

/** A registry that wants `expected` (an exact Authorization value) on /v2/ paths, and a token realm on /token. */
function registry(challenge: string, expected: (req: Seen) => boolean, token?: (req: Seen) => Response) {
  return scripted((req) => {
    if (req.url.pathname === '/token') return token ? token(req) : new Response('no', { status: 404 });
    return expected(req) ? ok(`${req.url.pathname} ok`) : challenge401(challenge);
  });
}

const tokenJson = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const summary = (seen: Seen[]) => seen.map((r) => `${r.method} ${r.url.pathname}${r.url.search} ${r.authorization ?? '-'}`);

describe('Basic challenges', () => {
  it('answers a Basic challenge with the credentials, then sends them up front', async () => {
    const basic = `Basic ${b64('user:pw')}`;
    const { fetcher, seen } = registry('Basic realm="reg"', (r) => r.authorization === basic);
    const t = transport(fetcher, { username: 'user', password: 'pw' });
    expect(await (await t.request(spec('/v2/a/tags/list'))).text()).toBe('/v2/a/tags/list ok');
    expect(await (await t.request(spec('/v2/b/tags/list', ['repository:b:pull']))).text()).toBe('/v2/b/tags/list ok');
    expect(summary(seen)).toEqual([`GET /v2/a/tags/list -`, `GET /v2/a/tags/list ${basic}`, `GET /v2/b/tags/list ${basic}`]);
  });

  it('sends a username without a password, or a password without a username, as Basic', async () => {
    for (const [credential, userpass] of [
      [{ username: 'only-user' }, 'only-user:'],
      [{ password: 'only-pw' }, ':only-pw'],
    ] as const) {
      const basic = `Basic ${b64(userpass)}`;
      const { fetcher, seen } = registry('Basic realm="reg"', (r) => r.authorization === basic);
      await (await transport(fetcher, credential).request(spec('/v2/a/tags/list'))).text();
      expect(seen.map((r) => r.authorization)).toEqual([undefined, basic]);
    }
  });

  it('answers Basic when it comes with schemes it does not know', async () => {
    const basic = `Basic ${b64('user:pw')}`;
    const { fetcher, seen } = registry('Negotiate, Basic realm="reg"', (r) => r.authorization === basic);
    await (await transport(fetcher, { username: 'user', password: 'pw' }).request(spec('/v2/a/tags/list'))).text();
    expect(seen.map((r) => r.authorization)).toEqual([undefined, basic]);
  });

  it('refuses a Basic challenge without credentials, or with an empty username and password, without a second request', async () => {
    for (const credential of [undefined, { username: '', password: '' }, { identityToken: 'idt' }]) {
      const { fetcher, seen } = registry('Basic realm="reg"', () => false);
      const failed = transport(fetcher, credential).request(spec('/v2/a/tags/list'));
      await expect(failed).rejects.toBeInstanceOf(AuthError);
      await expect(failed).rejects.toThrow(`GET /v2/a/tags/list: ${REGISTRY} requires authentication and no credentials are configured (docker login ${REGISTRY}, or DOCKER_CONFIG)`);
      expect(seen).toHaveLength(1);
    }
  });
});

describe('Bearer challenges', () => {
  const realm = `${ORIGIN}/token`;
  const bearerChallenge = `Bearer realm="${realm}",service="svc"`;

  it('prefers Bearer when a registry offers Basic too, whatever the order', async () => {
    for (const header of [`Basic realm="reg", ${bearerChallenge}`, `${bearerChallenge}, Basic realm="reg"`]) {
      const { fetcher, seen } = registry(header, (r) => r.authorization === 'Bearer tok-1', () => tokenJson({ token: 'tok-1' }));
      await (await transport(fetcher, { username: 'user', password: 'pw' }).request(spec('/v2/a/tags/list'))).text();
      expect(summary(seen)).toEqual([
        'GET /v2/a/tags/list -',
        `GET /token?service=svc&scope=repository%3Aa%3Apull Basic ${b64('user:pw')}`,
        'GET /v2/a/tags/list Bearer tok-1',
      ]);
    }
  });

  it('fetches a token per scope set, up front once it knows the realm, and reuses it from the cache', async () => {
    let issued = 0;
    const { fetcher, seen } = registry(
      bearerChallenge,
      (r) => r.authorization?.startsWith('Bearer tok-') === true,
      (r) => tokenJson({ token: `tok-${++issued}-${r.url.searchParams.getAll('scope').join('+')}`, expires_in: 300 }),
    );
    const t = transport(fetcher);
    await (await t.request(spec('/v2/a/tags/list'))).text();
    await (await t.request(spec('/v2/a/manifests/1'))).text();
    await (await t.request(spec('/v2/b/tags/list', ['repository:b:pull', 'repository:a:pull']))).text();
    await (await t.request(spec('/v2/b/manifests/1', ['repository:a:pull', 'repository:b:pull']))).text();
    expect(summary(seen)).toEqual([
      'GET /v2/a/tags/list -',
      'GET /token?service=svc&scope=repository%3Aa%3Apull -',
      'GET /v2/a/tags/list Bearer tok-1-repository:a:pull',
      'GET /v2/a/manifests/1 Bearer tok-1-repository:a:pull',
      'GET /token?service=svc&scope=repository%3Ab%3Apull&scope=repository%3Aa%3Apull -',
      'GET /v2/b/tags/list Bearer tok-2-repository:b:pull+repository:a:pull',
      'GET /v2/b/manifests/1 Bearer tok-2-repository:b:pull+repository:a:pull',
    ]);
  });

  it('after a 401 despite a cached token, fetches a fresh one instead of reusing the cache', async () => {
    let issued = 0;
    let revoked = false;
    const { fetcher, seen } = registry(
      bearerChallenge,
      (r) => (revoked ? r.authorization === 'Bearer tok-2' : r.authorization === 'Bearer tok-1'),
      () => tokenJson({ token: `tok-${++issued}`, expires_in: 300 }),
    );
    const t = transport(fetcher);
    await (await t.request(spec('/v2/a/tags/list'))).text();
    revoked = true;
    expect(await (await t.request(spec('/v2/a/manifests/1'))).text()).toBe('/v2/a/manifests/1 ok');
    expect(summary(seen).slice(3)).toEqual(['GET /v2/a/manifests/1 Bearer tok-1', 'GET /token?service=svc&scope=repository%3Aa%3Apull -', 'GET /v2/a/manifests/1 Bearer tok-2']);
  });

  it('passes the credentials to the token realm of the registry itself (plain http, same host)', async () => {
    const { fetcher, seen } = registry(bearerChallenge, (r) => r.authorization === 'Bearer t', () => tokenJson({ access_token: 't' }));
    await (await transport(fetcher, { username: 'u', password: 'p' }).request(spec('/v2/a/tags/list', []))).text();
    expect(summary(seen)).toEqual(['GET /v2/a/tags/list -', `GET /token?service=svc Basic ${b64('u:p')}`, 'GET /v2/a/tags/list Bearer t']);
  });
});

describe('challenges the transport cannot answer', () => {
  it('names an unsupported scheme', async () => {
    const { fetcher, seen } = registry('Negotiate, NTLM realm="x"', () => false);
    const failed = transport(fetcher, { username: 'u', password: 'p' }).request(spec('/v2/a/tags/list'));
    await expect(failed).rejects.toBeInstanceOf(AuthError);
    await expect(failed).rejects.toThrow(`${REGISTRY} asks for an unsupported authentication scheme (negotiate, ntlm)`);
    expect(seen).toHaveLength(1);
  });

  it('refuses a 401 without a challenge', async () => {
    const { fetcher } = scripted(() => challenge401(undefined));
    const failed = transport(fetcher, { username: 'u', password: 'p' }).request(spec('/v2/a/tags/list'));
    await expect(failed).rejects.toThrow(`GET /v2/a/tags/list: ${REGISTRY} answered 401 without a challenge`);
    await expect(failed).rejects.toMatchObject({ status: 401 });
  });

  it('reports a 401 that persists after the credentials as denied access', async () => {
    const { fetcher, seen } = registry('Basic realm="reg"', () => false);
    const failed = transport(fetcher, { username: 'u', password: 'wrong' }).request(spec('/v2/a/tags/list'));
    await expect(failed).rejects.toThrow(`GET /v2/a/tags/list: ${REGISTRY} denied access (HTTP 401): UNAUTHORIZED; check the credentials and permissions for ${REGISTRY}`);
    expect(seen).toHaveLength(2);
  });
});
