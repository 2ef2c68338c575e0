import { formatPlatform, matchPlatform, type Descriptor, type ImageIndex, type Platform } from '../../core/oci.js';

/** The children of an index to read: the one for `platform`, or every real platform (attestations skipped). */
export function childrenFor(index: ImageIndex, platform: Platform | undefined, label: string): Descriptor[] {
  if (platform) {
    const child = matchPlatform(index, platform);
    if (!child) {
      const have = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ');
      throw new Error(`${label} has no ${formatPlatform(platform)} image (it has ${have})`);
    }
    return [child];
  }
  return index.manifests.filter((d) => d.platform && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown');
}

export function platformOfConfig(config: { os?: string; architecture?: string; variant?: string }): Platform {
  const p: Platform = { os: config.os ?? 'linux', architecture: config.architecture ?? 'unknown' };
  if (config.variant) p.variant = config.variant;
  return p;
}
