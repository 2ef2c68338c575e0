/**
 * Registry credentials in one place (go-containerregistry's authn): where they come from (keychain.ts: flags,
 * DOCKER_AUTH_CONFIG, config.json, credential helpers) and the forms they are handed on in (credential.ts). The
 * registry client asks here, and so do the engines (through RegistryClient.engineAccess for the lookup, and
 * dockerAuthConfig for their auth file). The token exchange with a realm stays in registry/auth.ts: it is
 * registry protocol, not a credential source.
 */
export { basicAuth, dockerAuthConfig, type Credential } from './credential.js';
export { CredentialStore, normalizeAuthKey, type CredentialSourceOptions, type DockerConfigFile } from './keychain.js';
