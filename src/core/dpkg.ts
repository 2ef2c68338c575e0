/**
 * dpkg's database as an image holds it: /var/lib/dpkg/status (deb822 paragraphs) and the one-file-per-package
 * /var/lib/dpkg/status.d/ of distroless images; and the DEP-5 machine-readable copyright files' licence names.
 * Pure: text in, packages out.
 */

export interface DebPackage {
  name: string;
  version: string;
  architecture: string;
  /** The source package and its version, when they differ from the binary's (`Source: gcc-12 (12.2.0-14)`). */
  source?: string;
  sourceVersion?: string;
  maintainer?: string;
  homepage?: string;
}

/** deb822 paragraphs: fields by name (case as written), continuation lines joined with newlines. */
export function parseDeb822(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length) out.push(current);
      current = {};
      last = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      current[last] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    current[last] = line.slice(colon + 1).trim();
  }
  if (Object.keys(current).length) out.push(current);
  return out;
}

/**
 * Installed packages of a status file: Status `install ok installed` (or no Status at all, as distroless's
 * status.d writes them); half-installed, config-files and removed ones are not in the image's software.
 */
export function parseDpkgStatus(text: string): DebPackage[] {
  const out: DebPackage[] = [];
  for (const p of parseDeb822(text)) {
    const status = p.Status?.split(/\s+/);
    if (status && status[2] !== 'installed') continue;
    if (!p.Package || !p.Version) continue;
    const pkg: DebPackage = { name: p.Package, version: p.Version, architecture: p.Architecture ?? 'all' };
    const source = /^(\S+)(?:\s+\((\S+)\))?$/.exec(p.Source ?? '');
    if (source) {
      pkg.source = source[1]!;
      if (source[2]) pkg.sourceVersion = source[2];
    }
    if (p.Maintainer) pkg.maintainer = p.Maintainer;
    if (p.Homepage) pkg.homepage = p.Homepage;
    out.push(pkg);
  }
  return out;
}

const DEP5_FORMAT = /^Format:\s*https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/?\s*$/m;

/**
 * The licence short names a DEP-5 copyright file gives its `Files:` paragraphs (`GPL-3+`, `LGPL-2.1+`…), in
 * order of appearance; undefined for a free-form (not machine-readable) copyright file.
 */
export function dep5Licenses(text: string): string[] | undefined {
  const first = text.split('\n\n', 1)[0] ?? '';
  if (!DEP5_FORMAT.test(first)) return undefined;
  const names = new Set<string>();
  for (const p of parseDeb822(text)) {
    if (p.Files === undefined || !p.License) continue;
    const expression = p.License.split('\n')[0]!.trim();
    if (expression) names.add(expression);
  }
  return [...names];
}

/** /etc/os-release's ID and VERSION_ID (quotes removed). */
export function parseOsRelease(text: string): { id?: string; versionId?: string; prettyName?: string } {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  const out: { id?: string; versionId?: string; prettyName?: string } = {};
  if (fields.ID) out.id = fields.ID;
  if (fields.VERSION_ID) out.versionId = fields.VERSION_ID;
  if (fields.PRETTY_NAME) out.prettyName = fields.PRETTY_NAME;
  return out;
}
