/**
 * An image's software as an SPDX 2.3 JSON document: the image itself (a CONTAINER package with its OCI purl),
 * every installed dpkg package (name, version, arch, source package, purl), the GCC links check resolves and
 * the package that owns each link's compiler. Licences: dpkg's database carries none; a package whose
 * /usr/share/doc/<pkg>/copyright is machine-readable (DEP-5) has its licence names recorded as a comment, since
 * Debian's short names (`GPL-2+`) are not SPDX identifiers; licenseDeclared stays NOASSERTION.
 * Deterministic: the same image gives the same bytes (no clock, namespace from the digest).
 */
import type { DebPackage } from './dpkg.js';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';

export interface GccLink {
  /** The path the driver builder runs, e.g. /usr/bin/gcc-12.0.0. */
  path: string;
  /** Where it resolves to in the image. */
  target: string;
  /** The dpkg package whose file list has the target. */
  owner?: string;
}

export interface SbomInput {
  /** registry/repository, e.g. ghcr.io/org/builders. */
  repository: string;
  digest: string;
  /** The image's created time (its SOURCE_DATE_EPOCH): the document's creation time. */
  created: string;
  tool: string;
  distro?: { id?: string; versionId?: string };
  packages: DebPackage[];
  /** Licence names from DEP-5 copyright files, by package name. */
  licenses?: Map<string, string[]>;
  gccLinks: GccLink[];
}

/** purl for a Debian-family package: pkg:deb/debian/gcc-12@12.2.0-14?arch=amd64&distro=debian-12. */
export function debPurl(pkg: DebPackage, distro?: { id?: string; versionId?: string }): string {
  const namespace = encodeURIComponent((distro?.id ?? 'debian').toLowerCase());
  const qualifiers = [`arch=${encodeURIComponent(pkg.architecture)}`];
  if (distro?.id && distro.versionId) qualifiers.push(`distro=${encodeURIComponent(`${distro.id}-${distro.versionId}`)}`);
  if (pkg.source && pkg.source !== pkg.name) qualifiers.push(`upstream=${encodeURIComponent(pkg.sourceVersion ? `${pkg.source}@${pkg.sourceVersion}` : pkg.source)}`);
  return `pkg:deb/${namespace}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}?${qualifiers.join('&')}`;
}

/** purl of the image: pkg:oci/<last path part>@sha256%3A…?repository_url=<registry/repository>. */
export function ociPurl(repository: string, digest: string): string {
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(digest)}?repository_url=${encodeURIComponent(repository)}`;
}

/** SPDX dates: UTC, seconds, Z (the schema's pattern has no fraction). */
function spdxDate(iso: string): string {
  const d = new Date(iso);
  return (Number.isNaN(d.getTime()) ? new Date(0) : d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function spdxId(prefix: string, name: string, used: Set<string>): string {
  const base = `SPDXRef-${prefix}-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}

export function spdxDocument(input: SbomInput): Record<string, unknown> {
  const used = new Set<string>();
  const created = spdxDate(input.created);
  const imageId = spdxId('image', input.repository.slice(input.repository.lastIndexOf('/') + 1), used);
  const annotations = input.gccLinks.map((link) => ({
    annotationDate: created,
    annotationType: 'OTHER',
    annotator: `Tool: ${input.tool}`,
    comment: `GCC link ${link.path} -> ${link.target}${link.owner ? ` (package ${link.owner})` : ' (no dpkg package owns it)'}`,
  }));
  const image = {
    SPDXID: imageId,
    name: input.repository,
    versionInfo: input.digest,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    primaryPackagePurpose: 'CONTAINER',
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: ociPurl(input.repository, input.digest) }],
    ...(annotations.length ? { annotations } : {}),
  };
  const sorted = [...input.packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : 1));
  const packages = sorted.map((pkg) => {
    const licenses = input.licenses?.get(pkg.name);
    const out: Record<string, unknown> = {
      SPDXID: spdxId('deb', pkg.name, used),
      name: pkg.name,
      versionInfo: pkg.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: debPurl(pkg, input.distro) }],
    };
    if (pkg.maintainer) out.supplier = `Person: ${pkg.maintainer.replace(/[\n\r]/g, ' ')}`;
    if (pkg.homepage) out.homepage = pkg.homepage;
    if (pkg.source) out.sourceInfo = `built from the ${input.distro?.id ?? 'Debian'} source package ${pkg.source}${pkg.sourceVersion ? ` ${pkg.sourceVersion}` : ''}`;
    if (licenses?.length) out.licenseComments = `The package's machine-readable (DEP-5) copyright file names: ${licenses.join('; ')}`;
    return out;
  });
  const relationships = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
    ...packages.map((p) => ({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID as string })),
  ];
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${input.repository}@${input.digest}`,
    documentNamespace: `https://spdx.org/spdxdocs/builder-images/${input.repository}/${input.digest.replace(':', '-')}`,
    creationInfo: { created, creators: [`Tool: ${input.tool}`] },
    packages: [image, ...packages],
    relationships,
  };
}
