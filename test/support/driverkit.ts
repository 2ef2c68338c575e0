/**
 * The driver builder's (driverkit v0.23) loading and choice of builder images, modelled from the facts of its
 * source (pkg/driverbuilder/builder/image.go, builders.go, build.go; cmd/root_options.go) so tests can compare
 * its view with `select`'s. Our own code, written from those facts:
 *
 *  - flags: `--builderrepo` is an index file when the path exists, else a repository; `--builderimage auto:<tag>`
 *    sets the builder image tag, which otherwise is driverkit's own build commit; `--architecture` is amd64/arm64
 *    and becomes x86_64/aarch64; `--gccversion` keeps only images providing exactly that GCC.
 *  - index file: YAML into `images: [{target, gcc_versions: [string], name, arch, tag}]` with yaml.v3, which reads
 *    a plain scalar into a string field as its text and ignores unknown keys; an entry is skipped when its arch is
 *    not the build's, its tag is not the builder image tag, its target is neither `any` nor the build target, or its
 *    name or GCC list is empty; a file that does not decode gives no images.
 *  - repository: every tag matching ^(?P<target>T|any)-A(?P<gccVers>(_gcc[0-9]+.[0-9]+.[0-9]+)+)-TAG$ (made with
 *    Sprintf: dots match anything), GCCs split on `_gcc`.
 *  - every GCC goes through semver.ParseTolerant, which panics on failure; images are kept in a map keyed by
 *    target and GCC, the first one loaded winning.
 *  - choice: an image of the target with the target GCC, else an `any` one; else the largest loaded GCC not above
 *    the target GCC (the smallest when all are above), then the target's image for it, else the `any` one.
 */
import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';
import { parse } from 'yaml';

export interface DriverkitImage {
  target: string;
  gccVersion: string;
  name: string;
}

export interface DriverkitBuild {
  target: string;
  /** x86_64 or aarch64 (driverkit's "non-deb" arch). */
  arch: string;
  /** The builder image tag in use. */
  imageTag: string;
  /** --gccversion, when given. */
  gccVersion?: string;
}

export class DriverkitPanic extends Error {}

/** semver.ParseTolerant: trim, drop a leading v, strip leading zeros, pad missing parts; panics on failure. */
export function parseTolerant(text: string): string {
  const parts = text.trim().replace(/^v/, '').split('.');
  const head = parts.slice(0, 2).concat(parts.length > 2 ? [parts.slice(2).join('.')] : []);
  const stripped = head.map((p) => (p.length > 1 && /^0+[0-9]/.test(p) ? p.replace(/^0+/, '') || '0' : p));
  while (stripped.length < 3) stripped.push('0');
  const parsed = semver.parse(stripped.join('.'));
  if (!parsed) throw new DriverkitPanic(`semver: cannot parse "${text}"`);
  return parsed.version;
}

/** FileImagesLister.LoadImages. */
export function loadIndexFile(text: string, build: DriverkitBuild): DriverkitImage[] {
  let doc: unknown;
  try {
    // The failsafe schema reads every scalar as its text, as yaml.v3 does for string fields.
    doc = parse(text, { schema: 'failsafe' });
  } catch {
    return [];
  }
  const images = (doc as { images?: unknown })?.images;
  if (images === undefined) return [];
  if (!Array.isArray(images)) return []; // yaml.v3: cannot unmarshal into []YAMLImage: the whole file is skipped
  const decoded: { target: string; gcc_versions: string[]; name: string; arch: string; tag: string }[] = [];
  for (const raw of images) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
    const field = (key: string): string => {
      const value = (raw as Record<string, unknown>)[key];
      if (value === undefined || value === null) return '';
      if (typeof value !== 'string') throw new TypeError(key);
      return value;
    };
    const gccs = (raw as Record<string, unknown>).gcc_versions ?? [];
    try {
      if (!Array.isArray(gccs) || gccs.some((g) => typeof g !== 'string')) return [];
      decoded.push({ target: field('target'), gcc_versions: gccs as string[], name: field('name'), arch: field('arch'), tag: field('tag') });
    } catch {
      return [];
    }
  }
  const out: DriverkitImage[] = [];
  for (const image of decoded) {
    if (image.arch !== build.arch || image.tag !== build.imageTag) continue;
    if (image.target !== 'any' && image.target !== build.target) continue;
    if (image.name === '' || image.gcc_versions.length === 0) continue;
    for (const gcc of image.gcc_versions) out.push({ name: image.name, target: image.target, gccVersion: parseTolerant(gcc) });
  }
  return out;
}

/** RepoImagesLister.LoadImages over a repository's tag list, in the order the registry lists them. */
export function loadRepositoryTags(repository: string, tags: string[], build: DriverkitBuild): DriverkitImage[] {
  const pattern = new RegExp(`^(?<target>${build.target}|any)-${build.arch}(?<gccVers>(_gcc[0-9]+.[0-9]+.[0-9]+)+)-${build.imageTag}$`);
  const out: DriverkitImage[] = [];
  for (const tag of tags) {
    const match = pattern.exec(tag);
    if (!match) continue;
    for (const gcc of match.groups!.gccVers!.split('_gcc').slice(1)) {
      out.push({ name: `${repository}:${tag}`, target: match.groups!.target!, gccVersion: parseTolerant(gcc) });
    }
  }
  return out;
}

/** Build.LoadImages: the first image loaded for a target and GCC wins; --gccversion keeps only that GCC. */
export function imagesMap(loaded: DriverkitImage[][], build: DriverkitBuild): Map<string, DriverkitImage> {
  const map = new Map<string, DriverkitImage>();
  for (const list of loaded) {
    for (const image of list) {
      if (build.gccVersion && build.gccVersion !== image.gccVersion) continue;
      const key = `${image.target}_${image.gccVersion}`;
      if (!map.has(key)) map.set(key, image);
    }
  }
  if (map.size === 0) throw new DriverkitPanic('Could not load any builder image. Leaving.');
  return map;
}

function findImage(map: Map<string, DriverkitImage>, target: string, gcc: string): DriverkitImage | undefined {
  return map.get(`${target}_${gcc}`) ?? map.get(`any_${gcc}`);
}

/** setGCCVersion then GetBuilderImage: the image and GCC driverkit builds with, for a target GCC. */
export function chooseImage(map: Map<string, DriverkitImage>, build: DriverkitBuild, targetGcc: string): { name: string; gcc: string } {
  let gcc: string;
  if (build.gccVersion) gcc = build.gccVersion;
  else if (findImage(map, build.target, targetGcc)) gcc = targetGcc;
  else {
    const proposed = [...map.values()].map((i) => i.gccVersion).sort(semver.compare);
    gcc = proposed[0]!;
    for (const candidate of proposed) {
      if (semver.gt(candidate, targetGcc)) break;
      gcc = candidate;
    }
  }
  const image = findImage(map, build.target, gcc);
  if (!image) throw new DriverkitPanic(`no image for ${build.target} GCC ${gcc}`);
  return { name: image.name, gcc };
}

/** Where the flags of one driverkit build point it; `defaultImageTag` is driverkit's own build commit. */
export function buildFromFlags(flags: string[], defaultImageTag: string): { build: DriverkitBuild; builderRepos: string[] } {
  const values = (name: string) => flags.flatMap((f, i) => (f === name ? [flags[i + 1]!] : []));
  const one = (name: string) => values(name)[0];
  const deb = one('--architecture') ?? 'amd64';
  const arch = { amd64: 'x86_64', arm64: 'aarch64' }[deb];
  if (!arch) throw new Error(`unsupported --architecture ${deb}`);
  const builderImage = one('--builderimage');
  const parts = builderImage?.split(':') ?? [];
  const imageTag = parts.length > 1 ? parts[1]! : defaultImageTag;
  return { build: { target: one('--target') ?? '', arch, imageTag, gccVersion: one('--gccversion') }, builderRepos: values('--builderrepo') };
}

/** Every lister of a build's `--builderrepo` list: a file when the path exists, else a repository. */
export function loadAll(builderRepos: string[], build: DriverkitBuild, tagsOf: (repository: string) => string[], cwd: string): DriverkitImage[][] {
  return builderRepos.map((repo) => {
    const path = repo.startsWith('/') ? repo : `${cwd}/${repo}`;
    return existsSync(path) ? loadIndexFile(readFileSync(path, 'utf8'), build) : loadRepositoryTags(repo, tagsOf(repo), build);
  });
}
