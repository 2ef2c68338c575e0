/** Moved to adapters/authn (one home for credentials); kept so imports of the old path keep working. */
export { CredentialStore, normalizeAuthKey, type Credential, type CredentialSourceOptions, type DockerConfigFile } from '../authn/index.js';
