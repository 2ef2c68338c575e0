/**
 * The builder index as a registry holds it: what the driver builder sees when `--builderrepo` names a repository
 * instead of an index file, and whether a published image agrees with the index entry that names it. Pure.
 *
 * The driver builder (driverkit) lists the repository's tags and keeps, for a build of target T, arch A and
 * builder image tag V, those matching
 *
 *   ^(?P<target>T|any)-A(?P<gccVers>(_gcc[0-9]+.[0-9]+.[0-9]+)+)-V$
 *
 * built by string formatting, so the dots of the GCC part and of V match any character. Multi-arch index tags
 * (`<target>_gcc…-V`) match nothing. Each GCC is parsed with semver.ParseTolerant, which panics on failure.
 *
 * API: driverkitTagPattern(target, arch, tag), indexFromTags(repository, tags, versions) -> { entries, unusable },
 *      entryLabelProblems(entry, config) -> string[], LABEL_TARGET / LABEL_ARCH / LABEL_GCC_VERSIONS.
 */
import type { IndexEntry } from './index-schema.js';
import { ARCHES, platformOfArch, type Arch } from './names.js';
import type { ImageConfig } from './oci.js';
import { parseGccVersion } from './version.js';

export const LABEL_TARGET = 'io.builder-images.target';
export const LABEL_ARCH = 'io.builder-images.arch';
export const LABEL_GCC_VERSIONS = 'io.builder-images.gcc-versions';

/** A text put into a regular expression the way driverkit's fmt.Sprintf does: only `.` keeps its meaning. */
function asDriverkitPattern(text: string): string {
  return text.replace(/[\\^$*+?()[\]{}|/]/g, '\\$&');
}

const MAX_TAG_LENGTH = 128;

const GCC_PART = '(?<gccVers>(_gcc[0-9]+.[0-9]+.[0-9]+)+)';

/** Driverkit's registry tag regex for one build (target, arch, builder image tag). */
export function driverkitTagPattern(target: string, arch: Arch, tag: string): RegExp {
  return new RegExp(`^(?<target>${asDriverkitPattern(target)}|any)-${arch}${GCC_PART}-${asDriverkitPattern(tag)}$`);
}

/** The same regex for every build target at once: the target is whatever precedes `-<arch>_gcc`. */
function anyTargetPattern(arch: Arch, tag: string): RegExp {
  return new RegExp(`^(?<target>.+?)-${arch}${GCC_PART}-${asDriverkitPattern(tag)}$`);
}

export interface UnusableTag {
  tag: string;
  reason: string;
}

export interface RegistryIndex {
  /** One entry per matching tag and version, in the registry's tag order (the order driverkit loads them in). */
  entries: IndexEntry[];
  /** Tags driverkit matches but cannot use as builder images (it panics on their GCC list). */
  unusable: UnusableTag[];
  /** One sentence per GCC that two tags of one target, arch and version provide: driverkit takes the first listed. */
  ambiguous: string[];
}

/**
 * The index entries a driver builder reads from a repository's tag list, for the builder image tags `versions`.
 * Tags that match no version, arch or GCC list (content tags, multi-arch indexes, base images) are left out.
 */
export function indexFromTags(repository: string, tags: string[], versions: string[]): RegistryIndex {
  const entries: IndexEntry[] = [];
  const unusable: UnusableTag[] = [];
  const patterns = versions.flatMap((version) => ARCHES.map((arch) => ({ version, arch, pattern: anyTargetPattern(arch, version) })));
  for (const tag of tags) {
    // The distribution spec caps tags at 128 characters; a longer one from a hostile registry is not matched
    // (JavaScript's backtracking regexes, unlike driverkit's RE2, should not see unbounded input).
    if (tag.length > MAX_TAG_LENGTH) continue;
    for (const { version, arch, pattern } of patterns) {
      const match = pattern.exec(tag);
      if (!match) continue;
      const gccVersions = match.groups!.gccVers!.split('_gcc').slice(1);
      const bad = gccVersions.find((v) => parseGccVersion(v) === null);
      if (bad !== undefined) {
        unusable.push({ tag, reason: `GCC "${bad}" is not X.Y.Z: the driver builder's semver parse of it fails and the build panics` });
        continue;
      }
      entries.push({ name: `${repository}:${tag}`, target: match.groups!.target!, arch, tag: version, gcc_versions: gccVersions });
    }
  }
  return { entries, unusable, ambiguous: ambiguousGccs(entries) };
}

function ambiguousGccs(entries: IndexEntry[]): string[] {
  const providers = new Map<string, string[]>();
  for (const e of entries) {
    for (const gcc of e.gcc_versions) {
      const key = `GCC ${gcc} for ${e.target}/${e.arch}, tag ${e.tag}`;
      providers.set(key, [...(providers.get(key) ?? []), e.name]);
    }
  }
  return [...providers]
    .filter(([, names]) => names.length > 1)
    .map(([key, names]) => `${key} is served by ${names.join(' and ')}: the driver builder takes whichever the registry lists first; delete the stale tag`);
}

/**
 * How a published image's config disagrees with the index entry that names it: the labels every push sets
 * (target, arch, GCC list) and the config's own architecture. Empty when they agree.
 */
export function entryLabelProblems(entry: IndexEntry, config: ImageConfig): string[] {
  const labels = config.config?.Labels ?? {};
  const problems: string[] = [];
  const expect = (label: string, wanted: string) => {
    const found = labels[label];
    if (found === undefined) problems.push(`label ${label} is missing (wanted "${wanted}")`);
    else if (found !== wanted) problems.push(`label ${label} is "${found}", the index says "${wanted}"`);
  };
  expect(LABEL_TARGET, entry.target);
  expect(LABEL_ARCH, entry.arch);
  expect(LABEL_GCC_VERSIONS, entry.gcc_versions.join(','));
  const platform = platformOfArch(entry.arch);
  if (config.architecture !== platform.architecture) {
    problems.push(`the image is for ${config.os}/${config.architecture}, the index says ${entry.arch} (${platform.os}/${platform.architecture})`);
  }
  return problems;
}
