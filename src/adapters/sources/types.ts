import type { Readable } from 'node:stream';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '../../core/oci.js';

/**
 * One image, from wherever it came: its manifest, config, and a way to stream each layer.
 * A check never cares whether the image came from a registry, an OCI layout, an archive or an engine.
 */
export interface SourceImage {
  /** For people: where it came from and which platform. */
  description: string;
  digest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  platform: Platform;
  /** The stored layer blob (compressed or not), as a stream. */
  openLayer(layer: Descriptor, index: number): Readable;
  /** The source verifies blob digests itself (the registry client does); the reader need not hash again. */
  verifiesLayers: boolean;
}

export interface ImageSource {
  /** Say what it is, e.g. `oci:/tmp/x` or `registry 127.0.0.1:5000/a:b`. */
  readonly label: string;
  /** The images it holds: the one for `platform`, or every platform of an index when none is named. */
  images(platform?: Platform): Promise<SourceImage[]>;
  /** Release temporary files (engine exports). */
  close?(): Promise<void>;
}
