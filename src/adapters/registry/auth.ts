/**
 * Registry authentication: WWW-Authenticate challenges, Bearer tokens from the realm (anonymous, Basic, or an
 * identity/refresh token), a token cache per registry and scope set, and Basic answers to Basic challenges.
 */
import { registerSecret } from '../../util/redact.js';
import { basicAuth, type Credential } from '../authn/index.js';
import { AuthError, RegistryError } from './errors.js';
import { fetchFollowing, HttpError, MAX_TOKEN_BODY_BYTES, readBounded } from '../http/guard.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse `Bearer realm="…",service="…",scope="a b", Basic realm="…"` into challenges. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const word = () => {
    const m = /^[A-Za-z0-9_.!#$%&'*+^`|~-]+/.exec(header.slice(i));
    if (m) i += m[0].length;
    return m?.[0];
  };
  const skip = (chars: RegExp) => {
    // Past the end charAt gives '', which no class matches.
    while (chars.test(header.charAt(i))) i++;
  };
  // Ends at the first place no token starts, the end of the header included.
  for (;;) {
    skip(/[\s,]/);
    const token = word();
    if (!token) break;
    skip(/ /);
    if (header[i] !== '=' || challenges.length === 0) {
      challenges.push({ scheme: token.toLowerCase(), params: {} });
      continue;
    }
    i++; // '='
    skip(/ /);
    let value = '';
    if (header[i] === '"') {
      i++;
      while (header[i] !== undefined && header[i] !== '"') {
        if (header[i] === '\\') i++;
        value += header[i] ?? '';
        i++;
      }
      i++; // closing quote
    } else {
      value = word() ?? '';
    }
    challenges[challenges.length - 1]!.params[token.toLowerCase()] = value;
  }
  return challenges;
}

export interface TokenResponse {
  token: string;
  expiresAt: number;
}

export type Fetcher = typeof fetch;

/** Who asks for a token: the registry, its origin, and the idle limit of its transport. */
export interface TokenTarget {
  registry: string;
  /** The registry's origin (scheme://host:port). */
  origin: string;
  idleTimeoutMs: number;
}

/**
 * Where a realm may be asked, and whether it may see the user's credentials: an http realm for an https
 * registry is refused (the token, and the password, would travel in clear text); a realm on another host
 * gets the credentials only over https. The realm on the registry's own host may be plain http exactly when
 * the registry is.
 */
export function realmPolicy(realm: string, target: TokenTarget): { url: URL; sendCredentials: boolean } {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new AuthError(`${target.registry} sent a Bearer realm that is not a URL (${JSON.stringify(realm.slice(0, 100))})`);
  }
  const registry = new URL(target.origin);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthError(`${target.registry} sent a Bearer realm with scheme ${url.protocol}: refused`);
  if (registry.protocol === 'https:' && url.protocol === 'http:') {
    throw new AuthError(`${target.registry} (https) sent a plain-http Bearer realm ${url.origin}: refused, it would carry the credentials and the token in clear text`);
  }
  const sendCredentials = url.protocol === 'https:' || url.hostname === registry.hostname;
  return { url, sendCredentials };
}

/**
 * Fetch a Bearer token for `scopes` from a challenge's realm. With an identity token, use the OAuth2 refresh
 * flow (POST); otherwise GET, with Basic credentials when there are any and the realm policy allows them.
 */
export async function fetchToken(
  fetcher: Fetcher,
  challenge: Challenge,
  scopes: string[],
  credential: Credential | undefined,
  target: TokenTarget,
): Promise<TokenResponse> {
  const { registry } = target;
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryError(`${registry} sent a Bearer challenge without a realm`);
  const { url, sendCredentials } = realmPolicy(realm, target);
  const service = challenge.params.service;
  const what = `token for ${registry}`;
  const signal = AbortSignal.timeout(target.idleTimeoutMs);
  const anonymous = !sendCredentials || !credential;
  let answer: { response: Response };
  try {
    if (!anonymous && credential.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'builder-images' });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      // The form holds the secret: it is sent only to this URL, never along a redirect.
      // Stryker disable next-line ArrowFunction: () => undefined is as falsy as () => false, both mean "do not follow"
      answer = await fetchFollowing(fetcher, url, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal }, { credentialOrigin: url.origin, follow: () => false, what });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const credentials = !anonymous && credential.username !== undefined && credential.password !== undefined ? { authorization: basicAuth(credential) } : undefined;
      answer = await fetchFollowing(fetcher, url, { method: 'GET', signal }, { credentialOrigin: url.origin, credentials, what });
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    if (err instanceof HttpError) throw new RegistryError(err.message, err.status, undefined, { cause: err });
    const why = signal.aborted ? `no answer within ${target.idleTimeoutMs / 1000} s` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
    throw new RegistryError(`${registry}: cannot reach its token service ${url.origin} (${why})`, undefined, undefined, { cause: err });
  }
  const { response } = answer;
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new AuthError(
      `${registry}: the token service refused ${anonymous ? 'anonymous access' : 'the configured credentials'} for ${scopes.join(' ') || 'the registry'} (HTTP ${response.status}); check the credentials (docker login ${registry})`,
      response.status,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new RegistryError(`${registry}: the token service answered HTTP ${response.status}`, response.status);
  }
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; refresh_token?: unknown };
  try {
    body = JSON.parse(Buffer.from(await readBounded(response, MAX_TOKEN_BODY_BYTES, `${registry}: the token service's answer`)).toString('utf8')) as typeof body;
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    if (err instanceof HttpError) throw new RegistryError(err.message, err.status, undefined, { cause: err });
    throw new RegistryError(`${registry}: the token service answered something that is not a JSON token (${signal.aborted ? 'it stalled' : (err as Error).message})`);
  }
  const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
  if (!token) throw new RegistryError(`${registry}: the token service answered without a token`);
  registerSecret(token);
  if (typeof body.refresh_token === 'string') registerSecret(body.refresh_token);
  // Renew a little early so a token never expires between check and use.
  // Number.isFinite is false for anything that is not a number (no coercion).
  const expiresIn = Number.isFinite(body.expires_in) ? (body.expires_in as number) : 60;
  const lifetime = Math.max(10, expiresIn - 5);
  return { token, expiresAt: Date.now() + lifetime * 1000 };
}

/** Moved to adapters/authn with the other forms a credential is handed on in. */
export { basicAuth };

/** Bearer tokens per registry and scope set, kept until they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, TokenResponse>();

  private key(registry: string, scopes: string[]): string {
    return `${registry} ${[...scopes].sort().join(' ')}`;
  }

  get(registry: string, scopes: string[]): string | undefined {
    const hit = this.tokens.get(this.key(registry, scopes));
    return hit && hit.expiresAt > Date.now() ? hit.token : undefined;
  }

  set(registry: string, scopes: string[], token: TokenResponse): void {
    this.tokens.set(this.key(registry, scopes), token);
  }
}

export const pullScope = (repository: string) => `repository:${repository}:pull`;
export const pushScope = (repository: string) => `repository:${repository}:pull,push`;
