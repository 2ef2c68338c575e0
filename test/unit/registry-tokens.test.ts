import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchToken, TokenCache, type Fetcher } from '../../src/adapters/registry/auth.js';
import { AuthError, RegistryError } from '../../src/adapters/registry/index.js';

const target = { registry: 'reg.example', origin: 'https://reg.example', idleTimeoutMs: 5_000 };
const challenge = { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'reg' } };
/** A token service answering `status` with `body`, recording the URLs and Authorization headers it was asked with. */
function tokenService(status: number, body: unknown) {
  const asked: { url: string; authorization?: string }[] = [];
  const fetcher = (async (url: URL | string, init?: RequestInit) => {
    asked.push({ url: String(url), authorization: (init?.headers as Record<string, string> | undefined)?.authorization });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as Fetcher;
  return { fetcher, asked };
}

afterEach(() => vi.useRealTimers());

describe('Bearer tokens', () => {
  it('lives as long as the service says, less 5 s, at least 10 s, 60 s when it says nothing', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const lifetime = async (body: unknown) => (await fetchToken(tokenService(200, body).fetcher, challenge, ['repository:a:pull'], undefined, target)).expiresAt - 1_000_000;
    expect(await lifetime({ token: 't1', expires_in: 300 })).toBe(295_000);
    expect(await lifetime({ token: 't2' })).toBe(55_000);
    expect(await lifetime({ token: 't3', expires_in: 3 })).toBe(10_000);
    expect((await fetchToken(tokenService(200, { access_token: 'oauth-style' }).fetcher, challenge, [], undefined, target)).token).toBe('oauth-style');
  });

  it('asks for the service and every scope, anonymously without credentials', async () => {
    const { fetcher, asked } = tokenService(200, { token: 'tok' });
    await fetchToken(fetcher, challenge, ['repository:a:pull', 'repository:b:pull,push'], undefined, target);
    const url = new URL(asked[0]!.url);
    expect(url.searchParams.get('service')).toBe('reg');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:a:pull', 'repository:b:pull,push']);
    expect(asked[0]!.authorization).toBeUndefined();
  });

  it('says whose access was refused, for what, and refuses a challenge without a realm or an answer without a token', async () => {
    await expect(fetchToken(tokenService(401, {}).fetcher, challenge, [], undefined, target)).rejects.toThrow(/refused anonymous access for the registry \(HTTP 401\)/);
    const denied = fetchToken(tokenService(403, {}).fetcher, challenge, ['repository:a:pull'], { username: 'u', password: 'secret-pw' }, target);
    await expect(denied).rejects.toBeInstanceOf(AuthError);
    await expect(denied).rejects.toThrow(/refused the configured credentials for repository:a:pull \(HTTP 403\)/);
    await expect(fetchToken(tokenService(200, {}).fetcher, { scheme: 'bearer', params: {} }, [], undefined, target)).rejects.toBeInstanceOf(RegistryError);
    await expect(fetchToken(tokenService(200, { nothing: 1 }).fetcher, challenge, [], undefined, target)).rejects.toThrow(/without a token/);
  });
});

describe('token cache', () => {
  it('finds a token by registry and scope set (in any order) until it expires', () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const cache = new TokenCache();
    cache.set('reg.example', ['repository:b:pull', 'repository:a:pull'], { token: 'tok', expiresAt: 1_010_000 });
    expect(cache.get('reg.example', ['repository:a:pull', 'repository:b:pull'])).toBe('tok');
    expect(cache.get('reg.example', ['repository:a:pull'])).toBeUndefined();
    expect(cache.get('other.example', ['repository:a:pull', 'repository:b:pull'])).toBeUndefined();
    vi.setSystemTime(1_010_000);
    expect(cache.get('reg.example', ['repository:a:pull', 'repository:b:pull'])).toBeUndefined();
  });
});
