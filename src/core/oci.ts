/**
 * The OCI / Docker image vocabulary: media types, descriptors, manifests, indexes, configs and platforms.
 * Pure: types and small functions over them.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isDigest } from './digest.js';

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

export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
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
  if (p.architecture === 'arm64' && p.variant === undefined) return 'v8';
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

// ----- schemas: everything read from outside is checked before use, so a malformed document fails with one
// line naming the reference and the field, never deep inside the code that trusted it.

const digestField = z.string().refine(isDigest, 'not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)');
const annotations = z.record(z.string(), z.string());

export const PlatformSchema = z.looseObject({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
});

export const DescriptorSchema = z.looseObject({
  mediaType: z.string().min(1),
  digest: digestField,
  size: z.number().int().nonnegative(),
  platform: PlatformSchema.optional(),
  annotations: annotations.optional(),
  urls: z.array(z.string()).optional(),
  artifactType: z.string().optional(),
});

export const ImageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema).min(1, 'an image needs at least one layer'),
  annotations: annotations.optional(),
  subject: DescriptorSchema.optional(),
});

const indexOf = (children: z.ZodType) =>
  z.looseObject({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(children), annotations: annotations.optional() });

/** An index whose children are image manifests: an index nested in an index is refused. */
export const ImageIndexSchema = indexOf(
  DescriptorSchema.refine((d) => !isIndexMediaType(d.mediaType), { message: 'an index nested in an index is not supported', path: ['mediaType'] }),
);

/** An OCI layout's index.json: its entries may name an index (a multi-platform image). */
export const LayoutIndexSchema = indexOf(DescriptorSchema);

export const ImageConfigSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  config: z
    .looseObject({ Labels: z.record(z.string(), z.string()).nullish(), Env: z.array(z.string()).nullish() })
    .nullish(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(digestField) }).optional(),
  created: z.string().optional(),
});

/** A document's problem in one line: the first issue, with the field it is about (`layers[0].digest`). */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const field = issue.path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
  return `${field || '(top level)'}: ${issue.message}`;
}

/** JSON bytes checked against a schema; the error names `what` (a reference, a file) and the field. */
export function parseJsonDocument<T>(schema: z.ZodType, bytes: Uint8Array | string, what: string, kind: string): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new Error(`${what}: the ${kind} is not valid JSON (${(err as Error).message})`);
  }
  return validateDocument<T>(schema, value, what, kind);
}

/** Parsed JSON checked against a schema, with the same one-line error. */
export function validateDocument<T>(schema: z.ZodType, value: unknown, what: string, kind: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what}: malformed ${kind}: ${describeSchemaError(result.error)}`);
  return result.data as T;
}

export function parseImageConfig(bytes: Uint8Array | string, what: string): ImageConfig {
  return parseJsonDocument<ImageConfig>(ImageConfigSchema, bytes, what, 'image config');
}

export function validateImageConfig(value: unknown, what: string): ImageConfig {
  return validateDocument<ImageConfig>(ImageConfigSchema, value, what, 'image config');
}

/**
 * Parse and validate manifest JSON, checking that its declared media type agrees with the one the registry
 * sent. `what` names the reference in errors.
 */
export function parseManifestBytes(bytes: Uint8Array, contentType: string | undefined, what = 'manifest'): { mediaType: string; manifest: ImageManifest | ImageIndex } {
  const raw = parseJsonDocument<{ mediaType?: unknown; manifests?: unknown }>(z.looseObject({ mediaType: z.string().optional() }), bytes, what, 'manifest');
  const declared = raw.mediaType as string | undefined;
  const sent = contentType?.split(';')[0]!.trim();
  const generic = !sent || sent === 'application/json' || sent === 'text/plain' || sent === 'application/octet-stream';
  if (declared && !generic && declared !== sent) {
    throw new Error(`${what}: the manifest says its media type is ${declared} but the registry sent ${sent}`);
  }
  const mediaType = declared ?? (generic ? undefined : sent) ?? ('manifests' in raw ? MediaType.OciIndex : MediaType.OciManifest);
  if (isIndexMediaType(mediaType)) return { mediaType, manifest: parseJsonDocument<ImageIndex>(ImageIndexSchema, bytes, what, 'index') };
  if (isManifestMediaType(mediaType)) return { mediaType, manifest: parseJsonDocument<ImageManifest>(ImageManifestSchema, bytes, what, 'manifest') };
  throw new Error(`${what}: unsupported manifest media type ${mediaType} (expected an OCI or Docker v2 image manifest or index)`);
}

/** The image manifest a reference must name (a child of an index, an image to check): an index is an error. */
export function asImageManifest(parsed: { mediaType: string; manifest: ImageManifest | ImageIndex }, what: string): ImageManifest {
  if (isIndexMediaType(parsed.mediaType)) throw new Error(`${what}: expected an image manifest, found an index (${parsed.mediaType})`);
  return parsed.manifest as ImageManifest;
}
