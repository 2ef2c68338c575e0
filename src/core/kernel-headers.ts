/**
 * Kernel headers as a driver build sees them, from file lists and file contents the adapters read. Pure.
 *
 *  - layout: which directories of an unpacked headers set are kernel build dirs (a Makefile next to a .config),
 *    and which top-level trees must be mounted at their own absolute paths: Debian's arch tree includes
 *    `/usr/src/linux-headers-<version>-common/Makefile` by absolute path and links its scripts to
 *    `/usr/lib/linux-kbuild-<major.minor>`;
 *  - release: `utsrelease.h` first. Debian's `include/config/kernel.release` holds the upstream version
 *    (`6.1.192`) while utsrelease.h and every module's vermagic hold the package's release (`6.1.0-56-amd64`);
 *  - arch: the .config (CONFIG_X86_64 / CONFIG_ARM64), else a package's arch (amd64, arm64, x86_64, aarch64);
 *  - make: the command line a driver builder runs, with the kernel's ARCH (x86, arm64) and no CROSS_COMPILE when
 *    the image runs natively for the kernel's arch.
 */
import { posix } from 'node:path';
import type { Arch } from './names.js';

/** A directory of the staged headers and where it goes in the container. */
export interface HeadersMount {
  /** Relative to the staging root, e.g. `usr/src/linux-headers-6.1.0-56-common`. */
  path: string;
  /** Absolute path inside the container, e.g. `/usr/src/linux-headers-6.1.0-56-common`. */
  target: string;
}

export interface HeadersLayout {
  /** Kernel build dirs (where `make -C` goes), relative to the staging root. */
  buildDirs: string[];
  mounts: HeadersMount[];
}

/** Trees that live at fixed absolute paths: /usr/src/kernels/<release> (RPM), /usr/src/<tree>, kbuild's. */
const ROOTED = [/^usr\/src\/kernels\/[^/]+(?=\/|$)/, /^usr\/src\/(?!kernels(?:\/|$))[^/]+(?=\/|$)/, /^(?:usr\/)?lib\/linux-kbuild-[^/]+(?=\/|$)/];

/**
 * Find the build dirs and mounts of an unpacked headers set from its file list (paths relative to the staging
 * root, `./` and leading `/` tolerated). A build dir outside those trees (a bare kernel tree, as a tarball or a
 * directory may hold) is mounted as `/usr/src/<its name>`.
 */
export function detectHeadersLayout(files: string[]): HeadersLayout {
  const paths = files.map(normalize);
  const set = new Set(paths);
  const buildDirs = [...new Set(paths.filter((p) => posix.basename(p) === '.config').map((p) => posix.dirname(p)))]
    .filter((dir) => set.has(dir === '.' ? 'Makefile' : `${dir}/Makefile`))
    .sort();
  const mounts = new Map<string, HeadersMount>();
  for (const p of paths) {
    const top = ROOTED.map((r) => r.exec(p)?.[0]).find(Boolean);
    if (top && !mounts.has(top)) mounts.set(top, { path: top, target: `/${top}` });
  }
  for (const dir of buildDirs) {
    if ([...mounts.keys()].some((m) => dir === m || dir.startsWith(`${m}/`))) continue;
    mounts.set(dir, { path: dir, target: `/usr/src/${dir === '.' ? 'linux-headers' : posix.basename(dir)}` });
  }
  return { buildDirs, mounts: [...mounts.values()].sort((a, b) => a.target.localeCompare(b.target)) };
}

function normalize(p: string): string {
  const n = posix.normalize(p.replace(/^(\.\/|\/)+/, '')).replace(/\/$/, '');
  return n === '' ? '.' : n;
}

/** Where a build dir is inside the container, given the layout's mounts. */
export function containerPathOf(buildDir: string, mounts: HeadersMount[]): string {
  const mount = mounts.find((m) => buildDir === m.path || buildDir.startsWith(`${m.path}/`));
  return mount ? mount.target + buildDir.slice(mount.path.length) : `/${buildDir}`;
}

/** `#define UTS_RELEASE "6.1.0-56-amd64"` -> `6.1.0-56-amd64`. */
export function parseUtsRelease(text: string): string | undefined {
  return /^\s*#\s*define\s+UTS_RELEASE\s+"([^"\s]+)"/m.exec(text)?.[1];
}

/** The kernel release of a build dir: utsrelease.h wins over include/config/kernel.release (the Debian trap). */
export function kernelReleaseOf(files: { utsrelease?: string; kernelRelease?: string }): { release: string; from: string } | undefined {
  const uts = files.utsrelease !== undefined ? parseUtsRelease(files.utsrelease) : undefined;
  if (uts) return { release: uts, from: 'include/generated/utsrelease.h' };
  const plain = files.kernelRelease?.trim().split('\n')[0]?.trim();
  if (plain && /^\d+\.\d+/.test(plain)) return { release: plain, from: 'include/config/kernel.release' };
  return undefined;
}

/** The arch a kernel .config was made for. */
export function archFromConfig(config: string): Arch | undefined {
  if (/^CONFIG_X86_64=y$/m.test(config)) return 'x86_64';
  if (/^CONFIG_ARM64=y$/m.test(config)) return 'aarch64';
  return undefined;
}

/** A package's arch name (Debian's amd64/arm64, RPM's x86_64/aarch64); `all`/`noarch` say nothing. */
export function archFromPackageArch(name: string): Arch | undefined {
  if (name === 'amd64' || name === 'x86_64') return 'x86_64';
  if (name === 'arm64' || name === 'aarch64') return 'aarch64';
  return undefined;
}

/** A package file's arch from its name: `…_arm64.deb`, `….x86_64.rpm`; undefined for all/noarch or unknown. */
export function archFromPackageFile(fileName: string): Arch | undefined {
  const deb = /_([a-z0-9]+)\.deb$/.exec(fileName);
  if (deb) return archFromPackageArch(deb[1]!);
  const rpm = /\.([a-z0-9_]+)\.rpm$/.exec(fileName);
  return rpm ? archFromPackageArch(rpm[1]!) : undefined;
}

/** The kernel's own name for an arch: what `make ARCH=` takes. */
export function kernelArch(arch: Arch): 'x86' | 'arm64' {
  return arch === 'x86_64' ? 'x86' : 'arm64';
}

/** The GNU triplet prefix of a cross toolchain for an arch. */
export function crossCompilePrefix(arch: Arch): string {
  return arch === 'x86_64' ? 'x86_64-linux-gnu-' : 'aarch64-linux-gnu-';
}

export interface MakeRequest {
  /** The kernel build dir inside the container. */
  buildDir: string;
  /** The module dir inside the container (writable). */
  moduleDir: string;
  /** The compiler, e.g. /usr/bin/gcc-12.0.0. */
  cc: string;
  kernel: Arch;
  /** The arch the image runs as: equal to the kernel's for a native build, as a driver builder runs it. */
  image: Arch;
}

/** `make -C <build> M=<module> CC=… ARCH=… [CROSS_COMPILE=…] modules`, as a driver builder would run it. */
export function moduleMakeArgs(req: MakeRequest): string[] {
  const args = ['-C', req.buildDir, `M=${req.moduleDir}`, `CC=${req.cc}`, `ARCH=${kernelArch(req.kernel)}`];
  if (req.image !== req.kernel) args.push(`CROSS_COMPILE=${crossCompilePrefix(req.kernel)}`);
  return [...args, 'modules'];
}

/** The driver builder's target for a kernel, from how its headers are packaged and its release. */
export function targetForKernel(release: string, packaging: 'deb' | 'rpm' | 'other'): string {
  if (/\.amzn2\./.test(release)) return 'amazonlinux2';
  if (/\.amzn2023\./.test(release)) return 'amazonlinux2023';
  if (/\.el\d+/.test(release)) return 'centos';
  if (/\.fc\d+/.test(release)) return 'fedora';
  if (packaging === 'deb') return /-generic|-aws|-azure|-gcp|-lowlatency/.test(release) ? 'ubuntu' : 'debian';
  return 'any';
}

/** The first lines of a failed build that say why: compiler errors first, then make's own, else the tail. */
export function firstErrorLines(output: string, max = 5): string[] {
  // The engine's own echo of the exit status (buildah's) says nothing the verdict does not.
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l && !/^(Error: exit status \d+|subprocess exited with status \d+)$/.test(l));
  const errors = lines.filter((l) => /\berror\b|not found|No such file|\*\*\*|cannot|can.t |denied|unrecognized/i.test(l));
  return (errors.length ? errors : lines.slice(-max)).slice(0, max);
}
