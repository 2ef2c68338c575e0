import { describe, expect, it } from 'vitest';
import { MediaType, type Descriptor } from '../../src/core/oci.js';
import { mergeImageIndex } from '../../src/core/oci-index.js';

const d = (digest: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: MediaType.OciManifest,
  digest: `sha256:${digest.repeat(64)}`,
  size: 100,
  platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
});

describe('merging an image index', () => {
  it('keeps the other platforms first, in their order, and replaces those the children bring', () => {
    const existing = { manifests: [d('a', 'arm', 'v7'), d('b', 'amd64'), d('c', 's390x')] };
    const { index, bytes } = mergeImageIndex(existing, [d('d', 'amd64'), d('e', 'arm64')]);
    expect(index.manifests.map((m) => m.digest[7])).toEqual(['a', 'c', 'd', 'e']);
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(MediaType.OciIndex);
    expect(bytes.toString()).toBe(JSON.stringify(index, null, 2));
  });

  it('starts from nothing without an existing index, and the same input gives the same bytes', () => {
    const children = [d('d', 'amd64'), d('e', 'arm64')];
    expect(mergeImageIndex(undefined, children).index.manifests).toEqual(children);
    expect(mergeImageIndex({}, children).bytes.equals(mergeImageIndex(undefined, children).bytes)).toBe(true);
    expect(mergeImageIndex({ manifests: children }, children).bytes.equals(mergeImageIndex(undefined, children).bytes)).toBe(true);
  });
});
