/**
 * An image's SBOM, read from its layers as check reads them: the dpkg status file(s), os-release, the dpkg file
 * lists (who owns each GCC link's compiler) and DEP-5 copyright files, then the SPDX document (core/sbom.ts).
 * RPM databases (Amazon Linux, CentOS) are not read: no well-kept npm library reads their bdb/sqlite/ndb forms
 * from bytes, so an RPM image's SBOM lists no packages and says so.
 */
import { normalizePath, resolvePath, type FileTree, type LayerEntry } from '../core/filetree.js';
import { dep5Licenses, parseDpkgStatus, parseOsRelease, type DebPackage } from '../core/dpkg.js';
import { LABEL_GCC_VERSIONS } from '../core/registry-index.js';
import { cleanPath } from '../core/reproduce.js';
import { SPDX_MEDIA_TYPE, spdxDocument, type GccLink } from '../core/sbom.js';
import { formatPlatform, type Platform } from '../core/oci.js';
import { parseReference, repositoryName } from '../core/reference.js';
import { attachArtifact, listReferrers, type AttachedArtifact, type RegistryClient, type Subject } from '../adapters/registry/index.js';
import { openImageSource, type SourceImage } from '../adapters/sources/index.js';
import { RegistrySource } from '../adapters/sources/registry.js';
import { UsageError } from '../errors.js';
import { readImageTree } from './check.js';

export const SBOM_TOOL = 'builder-images';
const MAX_DB_BYTES = 64 * 1024 * 1024;
const MAX_SMALL_BYTES = 4 * 1024 * 1024;

const STATUS = '/var/lib/dpkg/status';
const STATUS_D = /^\/var\/lib\/dpkg\/status\.d\/[^/]+$/;
const LIST = /^\/var\/lib\/dpkg\/info\/([^/]+)\.list$/;
const COPYRIGHT = /^\/usr\/share\/doc\/([^/]+)\/copyright$/;
const OS_RELEASE = ['/etc/os-release', '/usr/lib/os-release'];
const RPM_DBS = ['/var/lib/rpm/Packages', '/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages.db', '/usr/lib/sysimage/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/Packages.db'];

function wanted(path: string, size: number): number {
  const p = cleanPath(path);
  if (p === STATUS || STATUS_D.test(p)) return MAX_DB_BYTES;
  if (LIST.test(p) || COPYRIGHT.test(p) || OS_RELEASE.includes(p)) return size <= MAX_SMALL_BYTES ? MAX_SMALL_BYTES : 0;
  return 0;
}

/** The bodies the tree's final state holds (a later layer's file wins, a deleted one is gone). */
function currentBodies(tree: FileTree, bodies: Map<string, Map<number, Uint8Array>>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [path, byLayer] of bodies) {
    const node = tree.lookup(normalizePath(path));
    const body = node?.type === 'file' ? byLayer.get(node.layer) : undefined;
    if (body) out.set(path, body);
  }
  return out;
}

export interface ImageSbom {
  document: Record<string, unknown>;
  packages: DebPackage[];
  gccLinks: GccLink[];
  /** RPM databases the image has and this SBOM does not read. */
  unreadRpmDatabases: string[];
}

export async function imageSbom(image: SourceImage, repository: string, gccVersions?: string[]): Promise<ImageSbom> {
  const bodies = new Map<string, Map<number, Uint8Array>>();
  const observe = (layer: number, entries: LayerEntry[]) => {
    for (const e of entries) {
      if (!e.body) continue;
      const path = cleanPath(e.path);
      const byLayer = bodies.get(path) ?? new Map<number, Uint8Array>();
      byLayer.set(layer, e.body);
      bodies.set(path, byLayer);
    }
  };
  const { tree } = await readImageTree(image, undefined, { details: { keepBody: wanted }, observe });
  const files = currentBodies(tree, bodies);
  const text = (path: string) => Buffer.from(files.get(path)!).toString('utf8');
  const packages: DebPackage[] = [];
  for (const path of [...files.keys()].sort()) if (path === STATUS || STATUS_D.test(path)) packages.push(...parseDpkgStatus(text(path)));
  const osRelease = OS_RELEASE.map((p) => resolvePath(tree, p)).find((r) => r.ok && files.has(r.path));
  const distro = osRelease?.ok ? parseOsRelease(text(osRelease.path)) : undefined;
  const licenses = new Map<string, string[]>();
  for (const [path] of files) {
    const name = COPYRIGHT.exec(path)?.[1];
    const names = name ? dep5Licenses(text(path)) : undefined;
    if (name && names?.length) licenses.set(name, names);
  }
  const versions = gccVersions ?? image.config.config?.Labels?.[LABEL_GCC_VERSIONS]?.split(',').filter(Boolean) ?? [];
  const gccLinks = versions.map((v) => gccLink(tree, files, `/usr/bin/gcc-${v}`));
  const created = typeof image.config.created === 'string' ? image.config.created : new Date(0).toISOString();
  const document = spdxDocument({ repository, digest: image.digest, created, tool: SBOM_TOOL, distro, packages, licenses, gccLinks });
  const unreadRpmDatabases = RPM_DBS.filter((p) => tree.lookup(normalizePath(p))?.type === 'file');
  return { document, packages, gccLinks, unreadRpmDatabases };
}

/** Where a GCC link resolves, and which package's file list holds that file (dpkg -S, from the lists). */
function gccLink(tree: FileTree, files: Map<string, Uint8Array>, path: string): GccLink {
  const r = resolvePath(tree, path);
  if (!r.ok) return { path, target: `(${r.problem})` };
  const owners: string[] = [];
  for (const [file, body] of files) {
    const pkg = LIST.exec(file)?.[1];
    if (pkg && Buffer.from(body).toString('utf8').split('\n').includes(r.path)) owners.push(pkg.split(':')[0]!);
  }
  return owners.length ? { path, target: r.path, owner: owners.sort().join(', ') } : { path, target: r.path };
}

/** Attach the SBOM to the image in the registry (an OCI artifact with the image as subject). */
export function attachSbom(client: RegistryClient, subject: Subject, document: Record<string, unknown>) {
  const bytes = new TextEncoder().encode(`${JSON.stringify(document, null, 2)}\n`);
  const created = (document.creationInfo as { created: string }).created;
  return attachArtifact(client, subject, {
    artifactType: SPDX_MEDIA_TYPE,
    layers: [{ mediaType: SPDX_MEDIA_TYPE, bytes, annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } }],
    annotations: { 'org.opencontainers.image.created': created },
  });
}

/** The SBOM attached to an image, newest last; undefined when none is. */
export async function attachedSbom(client: RegistryClient, subject: Pick<Subject, 'repo' | 'digest'>): Promise<Record<string, unknown> | undefined> {
  const found = await listReferrers(client, subject, { artifactType: SPDX_MEDIA_TYPE });
  const last = found[found.length - 1];
  if (!last) return undefined;
  const m = await client.getManifest({ ...subject.repo, digest: last.digest });
  const layer = (m.manifest as { layers?: { mediaType: string; digest: string }[] }).layers?.find((l) => l.mediaType === SPDX_MEDIA_TYPE);
  if (!layer) return undefined;
  return JSON.parse(Buffer.from(await client.getBlob(subject.repo, layer.digest)).toString('utf8')) as Record<string, unknown>;
}

export interface SbomRequest {
  spec: string;
  platform?: Platform;
  /** Read the layers even when the registry has an SBOM attached. */
  generate?: boolean;
  /** Generate and attach it to the image in its registry. */
  attach?: boolean;
  cwd: string;
  onProgress?: (line: string) => void;
}

export interface SbomAnswer {
  document: Record<string, unknown>;
  /** `attached`: read from the registry's referrers; `layers`: made from the image's layers now. */
  from: 'attached' | 'layers';
  image: string;
  digest: string;
  attachedAs?: AttachedArtifact;
  packages?: number;
  unreadRpmDatabases?: string[];
}

/** `sbom REF`: the attached SBOM, or one made from the layers (and attached with `attach`). */
export async function sbomOf(client: RegistryClient, request: SbomRequest): Promise<SbomAnswer> {
  const source = openImageSource(request.spec, client, request.cwd);
  const ref = source instanceof RegistrySource ? parseReference(request.spec) : undefined;
  if (request.attach && !ref) throw new UsageError(`${request.spec}: --attach needs an image in a registry (REGISTRY/REPO:TAG), not ${source.label}`);
  try {
    const images = await source.images(request.platform);
    if (images.length !== 1) throw new UsageError(`${source.label} holds ${images.length} images (${images.map((i) => formatPlatform(i.platform)).join(', ')}): say which with --platform`);
    const image = images[0]!;
    const repo = ref ? { registry: ref.registry, repository: ref.repository } : undefined;
    if (repo && !request.generate && !request.attach) {
      const attached = await attachedSbom(client, { repo, digest: image.digest });
      if (attached) return { document: attached, from: 'attached', image: source.label, digest: image.digest };
      request.onProgress?.(`${source.label}: no SBOM attached; reading the layers`);
    }
    request.onProgress?.(`reading the layers of ${image.description}`);
    const made = await imageSbom(image, repo ? repositoryName(repo) : source.label, undefined);
    const answer: SbomAnswer = { document: made.document, from: 'layers', image: source.label, digest: image.digest, packages: made.packages.length, unreadRpmDatabases: made.unreadRpmDatabases };
    if (request.attach && repo) {
      const head = await client.headManifest({ ...repo, digest: image.digest });
      answer.attachedAs = await attachSbom(client, { repo, digest: image.digest, mediaType: head.mediaType, size: head.size }, made.document);
    }
    return answer;
  } finally {
    await source.close?.();
  }
}
