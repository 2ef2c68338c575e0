/**
 * Builder names: the Dockerfile names in images/ and the image tags built from them. Pure.
 *
 *   Dockerfile  builder-<target>-<arch>_gcc<X.Y.Z>[_gcc<X.Y.Z>…].Dockerfile
 *   per arch    <target>-<arch>_gcc<X.Y.Z>[…]-<version>
 *   multi-arch  <target>_gcc<X.Y.Z>[…]-<version>
 *
 * <target> is [a-z0-9]+ (`any` = fallback for every target), <arch> x86_64 or aarch64, each GCC a full X.Y.Z,
 * no GCC twice; the author's GCC order is kept. <version> is latest, a commit, a tree id or a ref name.
 *
 * API: parseDockerfileName, formatDockerfileName, diagnoseDockerfileName (near-miss hints),
 *      parseImageTag, formatArchTag, formatIndexTag, platformOfArch, archOfPlatform, sameImageSet.
 */
import { parseGccVersion } from './version.js';

export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];
export const ANY_TARGET = 'any';

export interface Platform {
  os: 'linux';
  architecture: 'amd64' | 'arm64';
}

const PLATFORMS: Record<Arch, Platform> = {
  x86_64: { os: 'linux', architecture: 'amd64' },
  aarch64: { os: 'linux', architecture: 'arm64' },
};

export function platformOfArch(arch: Arch): Platform {
  return PLATFORMS[arch];
}

/** `linux/amd64` for x86_64, `linux/arm64` for aarch64. */
export function platformString(arch: Arch): string {
  const p = PLATFORMS[arch];
  return `${p.os}/${p.architecture}`;
}

export function archOfPlatform(platform: string): Arch | undefined {
  const arch = platform.split('/')[1] ?? platform;
  if (arch === 'amd64' || arch === 'x86_64') return 'x86_64';
  if (arch === 'arm64' || arch === 'aarch64') return 'aarch64';
  return undefined;
}

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}

/** What a builder name promises: a target, an arch and the GCC versions inside, in the author's order. */
export interface BuilderName {
  target: string;
  arch: Arch;
  gccVersions: string[];
}

const TARGET = '[a-z0-9]+';
const ARCH = 'x86_64|aarch64';
const GCC = '_gcc(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)';
const DOCKERFILE_NAME = new RegExp(`^builder-(${TARGET})-(${ARCH})((?:${GCC})+)\\.Dockerfile$`);
const ARCH_TAG = new RegExp(`^(${TARGET})-(${ARCH})((?:${GCC})+)-([A-Za-z0-9_][A-Za-z0-9_.-]*)$`);
const INDEX_TAG = new RegExp(`^(${TARGET})((?:${GCC})+)-([A-Za-z0-9_][A-Za-z0-9_.-]*)$`);

function splitGccs(text: string): string[] | null {
  const versions = text.split('_gcc').slice(1);
  if (versions.some((v) => parseGccVersion(v) === null)) return null;
  if (new Set(versions).size !== versions.length) return null;
  return versions;
}

export function parseDockerfileName(fileName: string): BuilderName | null {
  const m = DOCKERFILE_NAME.exec(fileName);
  if (!m) return null;
  const gccVersions = splitGccs(m[3]!);
  return gccVersions ? { target: m[1]!, arch: m[2] as Arch, gccVersions } : null;
}

function gccPart(gccVersions: string[]): string {
  return gccVersions.map((v) => `_gcc${v}`).join('');
}

export function formatDockerfileName(name: BuilderName): string {
  return `builder-${name.target}-${name.arch}${gccPart(name.gccVersions)}.Dockerfile`;
}

/** An image tag, per arch (with `arch`) or multi-arch (without). */
export interface ImageTag {
  target: string;
  arch?: Arch;
  gccVersions: string[];
  version: string;
}

/** A version as images are tagged with it (`latest`, `v1.2.3`, a content id): Docker's tag grammar. */
export function isVersionTag(value: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value);
}

export function formatArchTag(name: BuilderName, version: string): string {
  return `${name.target}-${name.arch}${gccPart(name.gccVersions)}-${version}`;
}

export function formatIndexTag(name: Pick<BuilderName, 'target' | 'gccVersions'>, version: string): string {
  return `${name.target}${gccPart(name.gccVersions)}-${version}`;
}

export function formatImageTag(tag: ImageTag): string {
  return tag.arch
    ? formatArchTag({ target: tag.target, arch: tag.arch, gccVersions: tag.gccVersions }, tag.version)
    : formatIndexTag(tag, tag.version);
}

export function parseImageTag(tag: string): ImageTag | null {
  if (tag.length > 128) return null;
  const perArch = ARCH_TAG.exec(tag);
  if (perArch) {
    const gccVersions = splitGccs(perArch[3]!);
    return gccVersions ? { target: perArch[1]!, arch: perArch[2] as Arch, gccVersions, version: perArch[4]! } : null;
  }
  const multi = INDEX_TAG.exec(tag);
  if (multi) {
    const gccVersions = splitGccs(multi[2]!);
    return gccVersions ? { target: multi[1]!, gccVersions, version: multi[3]! } : null;
  }
  return null;
}

/** Two names build one multi-arch set when target and GCC list agree and only the arch differs. */
export function sameImageSet(a: BuilderName, b: BuilderName): boolean {
  return a.target === b.target && a.gccVersions.join() === b.gccVersions.join();
}

// ---------------------------------------------------------------------------------------------------------------
// Near misses: say which part is wrong and, where it is obvious, the name that was meant.

export interface NameDiagnosis {
  /** Each wrong part, in words. */
  problems: string[];
  /** The corrected name when the fix is unambiguous. */
  suggestion?: string;
}

const ARCH_ALIASES: Record<string, Arch> = {
  x86_64: 'x86_64', 'x86-64': 'x86_64', x8664: 'x86_64', amd64: 'x86_64', x64: 'x86_64',
  aarch64: 'aarch64', arm64: 'aarch64', 'aarch-64': 'aarch64', armv8: 'aarch64',
};

/**
 * Explain why `fileName` is not a valid builder Dockerfile name. Returns null when it is valid.
 * Works part by part on a lenient reading of the name, so each mistake gets its own sentence.
 */
export function diagnoseDockerfileName(fileName: string): NameDiagnosis | null {
  if (parseDockerfileName(fileName)) return null;
  const problems: string[] = [];
  let rest = fileName;

  const ext = /\.dockerfile$/i.exec(rest);
  if (!ext) {
    problems.push('the name must end in ".Dockerfile"');
  } else {
    if (ext[0] !== '.Dockerfile') problems.push(`the ending must be ".Dockerfile" (not "${ext[0]}")`);
    rest = rest.slice(0, -ext[0].length);
  }
  if (rest !== rest.toLowerCase()) problems.push('names are lower case (except the ".Dockerfile" ending)');
  rest = rest.toLowerCase();

  if (!rest.startsWith('builder-')) {
    problems.push('the name must start with "builder-"');
    rest = rest.replace(/^builder[_-]?/, '');
  } else {
    rest = rest.slice('builder-'.length);
  }

  // target-arch, then the GCC list (which may use a wrong separator)
  const gccStart = rest.search(/[_-]gcc/);
  const head = gccStart >= 0 ? rest.slice(0, gccStart) : rest;
  const gccText = gccStart >= 0 ? rest.slice(gccStart) : '';
  const dash = head.indexOf('-');
  const target = dash >= 0 ? head.slice(0, dash) : head;
  const archText = dash >= 0 ? head.slice(dash + 1) : '';
  let fixable = true;

  if (!/^[a-z0-9]+$/.test(target)) {
    problems.push(`the target "${target}" must be letters and digits only ([a-z0-9]+; "any" for every target)`);
    fixable = false;
  }
  const arch = ARCH_ALIASES[archText]; // no arch, no suggestion
  if (!arch) {
    problems.push(`the arch "${archText}" must be x86_64 or aarch64`);
  } else if (arch !== archText) {
    problems.push(`the arch "${archText}" must be written "${arch}"`);
  }

  const versions: string[] = []; // no versions, no suggestion
  if (gccText === '') problems.push('at least one GCC version is needed, as "_gccX.Y.Z"');
  for (const m of gccText.matchAll(/([_-]?)gcc-?([^_-]*)/g)) {
    if (m[1] !== '_' || m[0].includes('gcc-')) problems.push(`write "_gcc${m[2]}", with an underscore before "gcc" and nothing between "gcc" and the version`);
    const widened = widen(m[2]!);
    if (widened === null) {
      problems.push(`"${m[2]}" is not a GCC version: use a full X.Y.Z such as 12.2.0`);
      fixable = false;
    } else {
      if (widened !== m[2]) problems.push(`the GCC version "${m[2]}" must be a full X.Y.Z: "${widened}"`);
      if (versions.includes(widened)) problems.push(`GCC ${widened} is listed twice`);
      else versions.push(widened);
    }
  }
  if (problems.length === 0) problems.push('the name does not match builder-<target>-<arch>_gcc<X.Y.Z>[_gcc<X.Y.Z>…].Dockerfile');

  const diagnosis: NameDiagnosis = { problems };
  // A valid target, an arch and widened unique versions always make a valid name, and never `fileName` (it did not parse).
  if (fixable && arch && versions.length > 0) diagnosis.suggestion = formatDockerfileName({ target, arch, gccVersions: versions });
  return diagnosis;
}

/** `6` -> 6.0.0, `6.0` -> 6.0.0, `6.0.0` stays; anything else is not a version. */
function widen(text: string): string | null {
  if (!/^\d+(?:\.\d+){0,2}$/.test(text)) return null;
  const parts = text.split('.').map((p) => String(Number(p)));
  while (parts.length < 3) parts.push('0');
  const joined = parts.join('.');
  return parseGccVersion(joined) ? joined : null;
}
