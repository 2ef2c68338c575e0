/**
 * The driverkit flags that make its builder image choice the one `select` shows. Pure.
 *
 * Driverkit only considers builder images whose tag is its builder image tag: by default the commit driverkit
 * itself was built from (set through ldflags), so `--builderimage auto:<tag>` is needed for an index or a
 * registry tagged `latest` or with our own versions. `--builderrepo` takes an index file (when the path exists)
 * or a repository, and replaces driverkit's default repository. With `--gccversion` driverkit loads only images
 * that provide exactly that GCC, so it is given the GCC of the pick, never a wanted one no image has.
 */
import { platformOfArch, type Arch } from './names.js';

/**
 * The targets driverkit builds for (its builder.Type constants, pkg/driverbuilder/builder/*.go). It refuses any
 * other `--target` ("target must be a valid target"); `any` is only an image's fallback target, never a build's.
 */
export const DRIVERKIT_TARGETS = [
  'alinux', 'almalinux', 'amazonlinux', 'amazonlinux2', 'amazonlinux2022', 'amazonlinux2023', 'arch', 'bottlerocket',
  'centos', 'debian', 'fedora', 'flatcar', 'minikube', 'ol', 'opensuse', 'photon', 'redhat', 'rocky', 'sles', 'talos',
  'ubuntu', 'vanilla',
] as const;

export function isDriverkitTarget(target: string): boolean {
  return (DRIVERKIT_TARGETS as readonly string[]).includes(target);
}

export interface DriverkitRequest {
  target: string;
  arch: Arch;
  /** The builder image tag (version) chosen among. */
  tag: string;
  kernelRelease?: string;
  /** Set when the GCC was forced (`select --gcc`): the GCC of the pick. */
  gccVersion?: string;
}

/** Flags for one driverkit build, with `--builderrepo` naming an index file or a repository. */
export function driverkitFlags(req: DriverkitRequest, builderRepo: string): string[] {
  return [
    '--target', req.target,
    '--architecture', platformOfArch(req.arch).architecture,
    ...(req.kernelRelease ? ['--kernelrelease', req.kernelRelease] : []),
    ...(req.gccVersion ? ['--gccversion', req.gccVersion] : []),
    '--builderrepo', builderRepo,
    '--builderimage', `auto:${req.tag}`,
  ];
}

/** Flags as a shell would take them: anything outside a safe set is single-quoted. */
export function shellWords(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
