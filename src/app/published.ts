/**
 * Is an image's content tag in the registry already? The one answer `plan` and `push` both use: a HEAD of the
 * content tag's manifest. Only "not found" means absent; any other failure (credentials, a server error) throws,
 * because reading it as "absent" would rebuild and re-push an image that exists.
 */
import { orAbsent, type ManifestHead, type RegistryClient, type Repository } from '../adapters/registry/index.js';

export function findPublished(client: RegistryClient, repository: Repository, contentTag: string): Promise<ManifestHead | undefined> {
  return orAbsent(client.headManifest({ ...repository, tag: contentTag }));
}
