/**
 * Publishing an image that passed its check in a daemonless engine's storage: the engine pushes it under the
 * content tag (compressing while it uploads, mounting the blobs it knows from its pulls), with the credentials
 * and plain-HTTP choice our client uses; then our client makes sure the registry serves the image that was
 * checked (the same config blob, so the same layer diff_ids) before it points the other tags at it.
 */
import { formatReference } from '../core/reference.js';
import { CliError } from '../errors.js';
import type { ImageManifest } from '../core/oci.js';
import { pushLocalImage } from '../adapters/engines/local-image.js';
import type { RegistryClient, Repository } from '../adapters/registry/index.js';
import type { StoredImage } from './build-image.js';

export async function publishStored(client: RegistryClient, image: StoredImage, repo: Repository, contentTag: string, tags: string[]): Promise<{ digest: string }> {
  const destination = formatReference({ ...repo, tag: contentTag });
  const digest = await pushLocalImage(image.engine, image.localName, destination, await client.engineAccess(repo.registry));
  const pushed = await client.getManifest({ ...repo, digest });
  const config = (pushed.manifest as ImageManifest).config?.digest;
  if (config !== image.configDigest) {
    throw new CliError(`${destination} now holds config ${config ?? 'none'}, not ${image.configDigest} of the image that was checked: its other tags were not moved; push again with --force`);
  }
  for (const tag of tags) if (tag !== contentTag) await client.putManifest({ ...repo, tag }, pushed.bytes, pushed.mediaType);
  return { digest };
}
