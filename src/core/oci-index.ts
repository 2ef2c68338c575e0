/**
 * Building an OCI image index (go-containerregistry's `mutate` for indexes). Pure: descriptors in, the index and
 * its exact bytes out. The registry round trips (reading the children, the existing index, the put) stay in
 * app/push.ts.
 */
import { MediaType, platformMatches, type Descriptor, type ImageIndex } from './oci.js';

export interface MergedIndex {
  index: ImageIndex;
  /** The bytes pushed: the index as JSON, indented by two (what the registry stores and hashes). */
  bytes: Buffer;
}

/**
 * The index that holds `children`, merged into what the registry has under that tag: an entry is never dropped;
 * the existing index's other platforms are kept (first, in their order), those the children bring are replaced.
 * A single-platform manifest under the tag (no `manifests`) keeps nothing.
 */
export function mergeImageIndex(existing: { manifests?: Descriptor[] } | undefined, children: Descriptor[]): MergedIndex {
  const kept = (existing?.manifests ?? []).filter((d) => !children.some((c) => c.platform && platformMatches(d.platform, c.platform)));
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...kept, ...children] };
  return { index, bytes: Buffer.from(JSON.stringify(index, null, 2)) };
}
