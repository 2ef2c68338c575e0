/**
 * Registry authentication: WWW-Authenticate challenges, Bearer tokens from the realm (anonymous, Basic, or an
 * identity/refresh token), a token cache per registry and scope set, and Basic answers to Basic challenges.
 */
import { registerSecret } from '../../util/redact.js';
import type { Credential } from './credentials.js';
import { AuthError, RegistryError } from './errors.js';

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
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  while (i < header.length) {
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
      while (i < header.length && header[i] !== '"') {
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

/**
 * Fetch a Bearer token for `scopes` from a challenge's realm. With an identity token, use the OAuth2 refresh
 * flow (POST); otherwise GET, with Basic credentials when there are any.
 */
export async function fetchToken(
  fetcher: Fetcher,
  challenge: Challenge,
  scopes: string[],
  credential: Credential | undefined,
  registry: string,
): Promise<TokenResponse> {
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryError(`${registry} sent a Bearer challenge without a realm`);
  const service = challenge.params.service;
  let response: Response;
  if (credential?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'builder-images' });
    if (service) form.set('service', service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    response = await fetcher(realm, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } else {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (credential?.username !== undefined && credential.password !== undefined) headers.authorization = basicAuth(credential);
    response = await fetcher(url, { headers });
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new AuthError(
      `${registry}: the token service refused ${credential ? 'the configured credentials' : 'anonymous access'} for ${scopes.join(' ') || 'the registry'} (HTTP ${response.status}); check the credentials (docker login ${registry})`,
      response.status,
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new RegistryError(`${registry}: the token service answered HTTP ${response.status}`, response.status);
  }
  const body = (await response.json()) as { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new RegistryError(`${registry}: the token service answered without a token`);
  registerSecret(token);
  registerSecret(body.refresh_token);
  // Renew a little early so a token never expires between check and use.
  const lifetime = Math.max(10, (body.expires_in ?? 60) - 5);
  return { token, expiresAt: Date.now() + lifetime * 1000 };
}

export function basicAuth(credential: Credential): string {
  const value = Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64');
  registerSecret(value);
  return `Basic ${value}`;
}

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
