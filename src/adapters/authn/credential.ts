/**
 * A registry credential and the forms it is handed on in: a Basic authorization value (the registry client) and a
 * Docker config `auths` document (the engines' auth file). Every encoded form is registered for redaction.
 */
import { registerSecret } from '../../util/redact.js';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth refresh token (Docker's identitytoken), exchanged at the token endpoint. */
  identityToken?: string;
}

export function basicAuth(credential: Credential): string {
  const value = Buffer.from(`${credential.username ?? ''}:${credential.password ?? ''}`).toString('base64');
  registerSecret(value);
  return `Basic ${value}`;
}

/** The auth file an engine (buildah, podman) reads: `{"auths": {registry: {auth, identitytoken?}}}`, or none. */
export function dockerAuthConfig(registry: string, credential: Credential | undefined): string {
  return JSON.stringify({ auths: credential ? { [registry]: authEntry(credential) } : {} });
}

/** A containers auth.json entry (Docker's config.json shape). */
function authEntry(c: Credential): { auth: string; identitytoken?: string } {
  const auth = Buffer.from(`${c.username ?? ''}:${c.identityToken ? '' : (c.password ?? '')}`).toString('base64');
  registerSecret(auth);
  return c.identityToken ? { auth, identitytoken: c.identityToken } : { auth };
}
