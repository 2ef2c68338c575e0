/**
 * fetchToken against a scripted token service: the refresh-token (POST) flow, what goes to a realm on another
 * host, every error it explains, and token lifetimes at their boundaries. Plus the challenge parser's grammar.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { basicAuth, fetchToken, parseChallenges, pullScope, pushScope, TokenCache, type Challenge, type Fetcher } from '../../src/adapters/registry/auth.js';
import { AuthError, RegistryError } from '../../src/adapters/registry/errors.js';
import { redact } from '../../src/util/redact.js';

const target = { registry: 'reg.example', origin: 'https://reg.example', idleTimeoutMs: 5_000 };
const challenge: Challenge = { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } };

interface Asked {
  method: string;
  url: URL;
  authorization?: string;
  contentType?: string;
  body?: string;
  redirect?: string;
}

/** A token service answering with `answer()`, recording each request. */
function service(answer: () => Response | Promise<Response>) {
  const asked: Asked[] = [];
  const fetcher = (async (url: URL | string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    asked.push({
      method: init?.method ?? 'GET',
      url: new URL(String(url)),
      authorization: headers.get('authorization') ?? undefined,
      contentType: headers.get('content-type') ?? undefined,
      body: init?.body === undefined ? undefined : String(init.body),
      redirect: init?.redirect,
    });
    return answer();
  }) as Fetcher;
  return { fetcher, asked };
}
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => vi.useRealTimers());

describe('the refresh-token flow', () => {
  it('POSTs the identity token as a form with service and scopes, to the realm only', async () => {
    const { fetcher, asked } = service(() => json({ access_token: 'acc-1', refresh_token: 'refresh-secret-2' }));
    const got = await fetchToken(fetcher, challenge, ['repository:a:pull', 'repository:b:pull,push'], { username: 'u', identityToken: 'identity-secret-1' }, target);
    expect(got.token).toBe('acc-1');
    expect(asked).toHaveLength(1);
    const [req] = asked;
    expect(req!.method).toBe('POST');
    expect(req!.url.href).toBe('https://auth.example/token');
    expect(req!.contentType).toBe('application/x-www-form-urlencoded');
    expect(req!.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(req!.body))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'identity-secret-1',
      client_id: 'builder-images',
      service: 'reg',
      scope: 'repository:a:pull repository:b:pull,push',
    });
    expect(redact('got refresh-secret-2 and acc-1')).toBe('got *** and ***');
  });

  it('leaves out service and scope when there are none', async () => {
    const { fetcher, asked } = service(() => json({ token: 'tok' }));
    await fetchToken(fetcher, { scheme: 'bearer', params: { realm: 'https://auth.example/token' } }, [], { identityToken: 'identity-secret-3' }, target);
    expect(Object.fromEntries(new URLSearchParams(asked[0]!.body))).toEqual({ grant_type: 'refresh_token', refresh_token: 'identity-secret-3', client_id: 'builder-images' });
  });

  it('does not follow a redirect with the form', async () => {
    const { fetcher, asked } = service(() => new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/steal' } }));
    await expect(fetchToken(fetcher, challenge, [], { identityToken: 'identity-secret-4' }, target)).rejects.toThrow('reg.example: the token service answered HTTP 307');
    expect(asked.map((a) => a.url.href)).toEqual(['https://auth.example/token']);
  });

  it('asks anonymously, by GET, when the realm may not see the identity token', async () => {
    const http = { registry: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000', idleTimeoutMs: 5_000 };
    const { fetcher, asked } = service(() => json({ token: 'tok' }));
    await fetchToken(fetcher, { scheme: 'bearer', params: { realm: 'http://other.example/token' } }, ['s'], { identityToken: 'identity-secret-5' }, http);
    expect(asked.map((a) => [a.method, a.url.href, a.authorization, a.body])).toEqual([['GET', 'http://other.example/token?scope=s', undefined, undefined]]);
  });
});

describe('Basic credentials for the token service', () => {
  it('sends user and password over https, and only when both are there', async () => {
    for (const [credential, authorization] of [
      [{ username: 'u', password: 'p' }, `Basic ${Buffer.from('u:p').toString('base64')}`],
      [{ username: 'u' }, undefined],
      [{ password: 'p' }, undefined],
      [{ username: '', password: '' }, `Basic ${Buffer.from(':').toString('base64')}`],
    ] as const) {
      const { fetcher, asked } = service(() => json({ token: 'tok' }));
      await fetchToken(fetcher, challenge, [], credential, target);
      expect(asked[0]!.authorization).toBe(authorization);
      expect(asked[0]!.method).toBe('GET');
    }
  });

  it('keeps them from a plain-http realm on another host, and says the refusal was anonymous', async () => {
    const http = { registry: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000', idleTimeoutMs: 5_000 };
    const elsewhere = { scheme: 'bearer', params: { realm: 'http://other.example/token' } };
    const { fetcher, asked } = service(() => json({}, 401));
    await expect(fetchToken(fetcher, elsewhere, ['s'], { username: 'u', password: 'p' }, http)).rejects.toThrow(
      '127.0.0.1:5000: the token service refused anonymous access for s (HTTP 401); check the credentials (docker login 127.0.0.1:5000)',
    );
    expect(asked[0]!.authorization).toBeUndefined();
  });

  it('registers the Basic value as a secret', () => {
    const value = basicAuth({ username: 'someone', password: 'pw' });
    expect(value).toBe(`Basic ${Buffer.from('someone:pw').toString('base64')}`);
    expect(redact(`x ${value.slice(6)} y`)).toBe('x *** y');
    expect(basicAuth({})).toBe(`Basic ${Buffer.from(':').toString('base64')}`);
  });
});

describe('token service errors', () => {
  it('says which registry sent a challenge without a realm', async () => {
    await expect(fetchToken(service(() => json({})).fetcher, { scheme: 'bearer', params: { service: 'x' } }, [], undefined, target)).rejects.toThrow(
      /^reg\.example sent a Bearer challenge without a realm$/,
    );
  });

  it('names an HTTP error status, as a RegistryError that is not an AuthError', async () => {
    const failed = fetchToken(service(() => new Response('boom', { status: 500 })).fetcher, challenge, [], undefined, target);
    await expect(failed).rejects.toThrow(/^reg\.example: the token service answered HTTP 500$/);
    await expect(failed).rejects.toMatchObject({ status: 500 });
    await expect(failed).rejects.not.toBeInstanceOf(AuthError);
  });

  it('refuses with the status as an AuthError, 401 and 403 alike', async () => {
    for (const status of [401, 403]) {
      const failed = fetchToken(service(() => json({}, status)).fetcher, challenge, ['s'], { username: 'u', password: 'p' }, target);
      await expect(failed).rejects.toThrow(`reg.example: the token service refused the configured credentials for s (HTTP ${status}); check the credentials (docker login reg.example)`);
      await expect(failed).rejects.toMatchObject({ status, name: 'AuthError' });
    }
  });

  it('explains an answer that is not JSON', async () => {
    const failed = fetchToken(service(() => new Response('<html>', { status: 200 })).fetcher, challenge, [], undefined, target);
    await expect(failed).rejects.toThrow(/^reg\.example: the token service answered something that is not a JSON token \(Unexpected token .*\)$/);
  });

  it('passes on a size refusal of the answer as it is', async () => {
    const big = new Response('x'.repeat(10), { status: 200, headers: { 'content-length': String(2 * 1024 * 1024) } });
    await expect(fetchToken(service(() => big).fetcher, challenge, [], undefined, target)).rejects.toThrow(/^reg\.example: the token service's answer: the server sent more than 1 MiB/);
  });

  it('names the network error code of an unreachable service, with its origin', async () => {
    const refused = service(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    const failed = fetchToken(refused.fetcher, challenge, [], undefined, target);
    await expect(failed).rejects.toThrow(/^reg\.example: cannot reach its token service https:\/\/auth\.example \(ECONNREFUSED\)$/);
    await expect(failed).rejects.toBeInstanceOf(RegistryError);
    const plain = service(() => {
      throw new Error('socket hang up');
    });
    await expect(fetchToken(plain.fetcher, challenge, [], undefined, target)).rejects.toThrow(/\(socket hang up\)$/);
  });

  it('passes on a RegistryError from the request as it is', async () => {
    const { fetcher } = service(() => new Response(null, { status: 302, headers: { location: 'ftp://x.example/' } }));
    await expect(fetchToken(fetcher, challenge, [], undefined, target)).rejects.toThrow(/^token for reg\.example: refused a redirect to a ftp: URL$/);
  });

  it('says how long it waited for a token service that never answers', async () => {
    const { fetcher } = service(() => new Promise<Response>(() => undefined));
    const slow = (async (url: URL | string, init?: RequestInit) => {
      const pending = fetcher(url, init);
      return Promise.race([
        pending,
        new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted')))),
      ]);
    }) as Fetcher;
    await expect(fetchToken(slow, challenge, [], undefined, { ...target, idleTimeoutMs: 20 })).rejects.toThrow(/^reg\.example: cannot reach its token service https:\/\/auth\.example \(no answer within 0\.02 s\)$/);
  });

  it('cuts a realm that is not a URL to 100 characters in the message', async () => {
    const realm = `x${'y'.repeat(150)}`;
    await expect(fetchToken(service(() => json({})).fetcher, { scheme: 'bearer', params: { realm } }, [], undefined, target)).rejects.toThrow(
      `reg.example sent a Bearer realm that is not a URL ("x${'y'.repeat(99)}")`,
    );
  });

  it('keeps the network error as the cause', async () => {
    const thrown = new Error('socket hang up');
    const { fetcher } = service(() => {
      throw thrown;
    });
    await expect(fetchToken(fetcher, challenge, [], undefined, target)).rejects.toMatchObject({ cause: thrown });
  });

  it('refuses a bodiless 401 or 500 all the same, and lists every scope refused', async () => {
    const failed = fetchToken(service(() => new Response(null, { status: 401 })).fetcher, challenge, ['repository:a:pull', 'repository:b:pull'], undefined, target);
    await expect(failed).rejects.toThrow('refused anonymous access for repository:a:pull repository:b:pull (HTTP 401)');
    await expect(failed).rejects.toBeInstanceOf(AuthError);
    await expect(fetchToken(service(() => new Response(null, { status: 500 })).fetcher, challenge, [], undefined, target)).rejects.toThrow(/answered HTTP 500$/);
  });

  it('says the token service stalled when its answer stops coming', async () => {
    const fetcher = (async (_url: URL | string, init?: RequestInit) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(Buffer.from('{"tok'));
            init?.signal?.addEventListener('abort', () => controller.error(new Error('aborted')));
          },
        }),
        { status: 200 },
      )) as Fetcher;
    await expect(fetchToken(fetcher, challenge, [], undefined, { ...target, idleTimeoutMs: 20 })).rejects.toThrow(
      /^reg\.example: the token service answered something that is not a JSON token \(it stalled\)$/,
    );
  });

  it('registers a string refresh token only', async () => {
    await fetchToken(service(() => json({ token: 'tok-r', refresh_token: ['abcd', 'efgh', 'ijkl', 'mnop'] })).fetcher, challenge, [], undefined, target);
    expect(redact('x abcd,efgh,ijkl,mnop y')).toBe('x abcd,efgh,ijkl,mnop y');
  });

  it('refuses a token that is empty or not a string, and takes access_token when token is not a string', async () => {
    await expect(fetchToken(service(() => json({ access_token: 42 })).fetcher, challenge, [], undefined, target)).rejects.toThrow(/without a token/);
    await expect(fetchToken(service(() => json({ token: '' })).fetcher, challenge, [], undefined, target)).rejects.toThrow(/^reg\.example: the token service answered without a token$/);
    await expect(fetchToken(service(() => json({ token: 5 })).fetcher, challenge, [], undefined, target)).rejects.toThrow(/without a token/);
    expect((await fetchToken(service(() => json({ token: 5, access_token: 'acc' })).fetcher, challenge, [], undefined, target)).token).toBe('acc');
    expect((await fetchToken(service(() => json({ token: 'tok', access_token: 'acc' })).fetcher, challenge, [], undefined, target)).token).toBe('tok');
  });
});

describe('token lifetimes', () => {
  it('renews 5 s early, never sooner than 10 s, and ignores an expires_in that is not a number', async () => {
    vi.useFakeTimers({ now: 2_000_000, toFake: ['Date'] });
    const lifetime = async (body: object) => (await fetchToken(service(() => json({ token: 'tok-life', ...body })).fetcher, challenge, [], undefined, target)).expiresAt - 2_000_000;
    expect(await lifetime({ expires_in: 15 })).toBe(10_000);
    expect(await lifetime({ expires_in: 16 })).toBe(11_000);
    expect(await lifetime({ expires_in: '300' })).toBe(55_000);
    expect(await lifetime({ expires_in: null })).toBe(55_000);
    const infinite = await fetchToken(service(() => new Response('{"token":"tok-inf","expires_in":1e400}')).fetcher, challenge, [], undefined, target);
    expect(infinite.expiresAt - 2_000_000).toBe(55_000);
  });

  it('keeps a token in the cache until just before its expiry', () => {
    vi.useFakeTimers({ now: 1_000, toFake: ['Date'] });
    const cache = new TokenCache();
    cache.set('r', ['b', 'a'], { token: 'tok', expiresAt: 1_001 });
    expect(cache.get('r', ['a', 'b'])).toBe('tok');
    expect(cache.get('r', ['a'])).toBeUndefined();
    expect(cache.get('r', ['ab'])).toBeUndefined();
    expect(cache.get('r', [])).toBeUndefined();
    vi.setSystemTime(1_001);
    expect(cache.get('r', ['b', 'a'])).toBeUndefined();
  });

  it('names pull and push scopes', () => {
    expect(pullScope('x/y')).toBe('repository:x/y:pull');
    expect(pushScope('x/y')).toBe('repository:x/y:pull,push');
  });
});

describe('WWW-Authenticate grammar', () => {
  it('lower-cases schemes and parameter names but not values', () => {
    expect(parseChallenges('BEARER Realm="https://A.example/T",SERVICE=Svc')).toEqual([{ scheme: 'bearer', params: { realm: 'https://A.example/T', service: 'Svc' } }]);
  });

  it('reads token characters in schemes and bare values', () => {
    expect(parseChallenges("X-My_Scheme.1!#$%&'*+^`|~ a=b-c.d_e!#$%&'*+^`|~9")).toEqual([{ scheme: "x-my_scheme.1!#$%&'*+^`|~", params: { a: "b-c.d_e!#$%&'*+^`|~9" } }]);
  });

  it('takes a token before any challenge as a scheme, and one not followed by "=" as the next scheme', () => {
    expect(parseChallenges('realm="x"')).toEqual([{ scheme: 'realm', params: {} }]);
    expect(parseChallenges('Basic realm="a", Bearer, Other x=1')).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: {} },
      { scheme: 'other', params: { x: '1' } },
    ]);
  });

  it('separates by commas and any whitespace, tabs and newlines included', () => {
    expect(parseChallenges('Bearer\trealm="r",\n\tservice="s"')).toEqual([{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]);
    expect(parseChallenges('Bearer realm="r"service="s"')).toEqual([{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]);
  });

  it('allows spaces but not tabs around "="', () => {
    expect(parseChallenges('Bearer realm  =  "r"')).toEqual([{ scheme: 'bearer', params: { realm: 'r' } }]);
    expect(parseChallenges('Bearer realm\t="r"')).toEqual([{ scheme: 'bearer', params: {} }, { scheme: 'realm', params: {} }]);
  });

  it('keeps an escaped quote, an escape at the very end, and an empty value', () => {
    expect(parseChallenges('Bearer a="x\\"y",b="",c=')).toEqual([{ scheme: 'bearer', params: { a: 'x"y', b: '', c: '' } }]);
    expect(parseChallenges('Bearer a="x\\')).toEqual([{ scheme: 'bearer', params: { a: 'x' } }]);
    expect(parseChallenges('Bearer a="q,r=s" , t=u')).toEqual([{ scheme: 'bearer', params: { a: 'q,r=s', t: 'u' } }]);
  });
});
