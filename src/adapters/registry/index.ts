/** The registry adapter's face: commands import from here. */
export { RegistryClient, type CopyStats, type Image, type Manifest, type ManifestHead, type Repository, type RegistryClientOptions } from './client.js';
export { AuthError, DigestMismatchError, NotFoundError, orAbsent, RegistryError } from './errors.js';
export { attachArtifact, listReferrers, referrersTag, EMPTY_CONFIG, MAX_REFERRERS, type Artifact, type ArtifactLayer, type AttachedArtifact, type Subject } from './referrers.js';
