/**
 * The OCI / Docker image vocabulary: media types, descriptors, manifests, indexes, configs and platforms.
 * Pure: types and small functions over them.
 */
import { createHash } from 'node:crypto';

export const MediaType = {
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Every manifest type we read, for the Accept header (without them a registry may down-convert to schema1). */
export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  config?: { Labels?: Record<string, string> | null; Env?: string[]; [key: string]: unknown };
  rootfs?: { type: string; diff_ids: string[] };
  created?: string;
  [key: string]: unknown;
}

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/** sha256 digest of exact bytes, as registries compute it. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `linux/arm64/v8` -> { os, architecture, variant }. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`"${text}" is not a platform: use os/arch[/variant], e.g. linux/arm64`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Variants that mean the same thing when one side leaves it out (arm64 is v8 unless said otherwise). */
function normalVariant(p: Platform): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === 'v8')) return 'v8';
  return p.variant;
}

/** Does `candidate` satisfy `wanted`? os and architecture must agree; variant too when either names one. */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return normalVariant(candidate) === normalVariant(wanted);
}

/** The child of an index for a platform, or undefined. Attestation manifests (platform unknown/unknown) never match. */
export function matchPlatform(index: ImageIndex, wanted: Platform): Descriptor | undefined {
  return index.manifests.find((d) => platformMatches(d.platform, wanted));
}

/** Parse manifest JSON, checking that its declared media type agrees with the one the registry sent. */
export function parseManifestBytes(bytes: Uint8Array, contentType: string | undefined): { mediaType: string; manifest: ImageManifest | ImageIndex } {
  const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as (ImageManifest | ImageIndex) & { mediaType?: string };
  const declared = manifest.mediaType;
  const sent = contentType?.split(';')[0]!.trim();
  if (declared && sent && sent !== 'application/json' && sent !== 'text/plain' && declared !== sent) {
    throw new Error(`manifest says its media type is ${declared} but the registry sent ${sent}`);
  }
  const mediaType = declared ?? sent ?? ('manifests' in manifest ? MediaType.OciIndex : MediaType.OciManifest);
  return { mediaType, manifest };
}
