import { formatPlatform, isIndexMediaType, type ImageIndex, type Platform } from '../../core/oci.js';
import { formatReference, type ImageReference } from '../../core/reference.js';
import type { RegistryClient } from '../registry/index.js';
import { childrenFor, platformOfConfig } from './select-platform.js';
import type { ImageSource, SourceImage } from './types.js';

/** An image in a registry, by tag or digest; an index gives one image per platform. */
export class RegistrySource implements ImageSource {
  readonly label: string;
  constructor(
    private readonly client: RegistryClient,
    private readonly ref: ImageReference,
  ) {
    this.label = formatReference(ref);
  }

  async images(platform?: Platform): Promise<SourceImage[]> {
    const top = await this.client.getManifest(this.ref);
    const repo = { registry: this.ref.registry, repository: this.ref.repository };
    const digests = isIndexMediaType(top.mediaType)
      ? childrenFor(top.manifest as ImageIndex, platform, this.label).map((d) => d.digest)
      : [top.digest];
    const out: SourceImage[] = [];
    for (const digest of digests) {
      const m = digest === top.digest ? top : await this.client.getManifest({ ...repo, digest });
      const manifest = this.client.imageOf(m, { ...repo, digest });
      const config = await this.client.getConfig(repo, manifest);
      const p = platformOfConfig(config);
      out.push({
        description: `${this.label} (${formatPlatform(p)}, ${digest.slice(0, 19)})`,
        digest,
        manifest,
        config,
        platform: p,
        verifiesLayers: true,
        openLayer: (layer) => this.client.openBlob(repo, layer.digest, { size: layer.size }),
      });
    }
    return out;
  }
}
