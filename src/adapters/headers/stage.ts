/**
 * Kernel headers sources (directories, .deb, .rpm, tarballs; local paths or https URLs) made into kernels a
 * container can build against: each set is unpacked into its own staging tree, laid out as the packages lay it
 * out (/usr/src/…, /usr/lib/linux-kbuild-…), and every kernel build dir in it is read for its release and arch.
 *
 * Debian packages are grouped by their arch: `linux-headers-<rel>-amd64` and `linux-kbuild-6.1_…_amd64` form
 * one tree with the arch-independent `-common`, the arm64 ones another (their kbuild programs share paths).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { tempDir } from '../../util/cleanup.js';
import { removeDeadRunsLeftovers } from '../../util/leftovers.js';
import { basename, join, resolve, sep } from 'node:path';
import {
  archFromConfig,
  archFromPackageArch,
  archFromPackageFile,
  containerPathOf,
  detectHeadersLayout,
  kernelReleaseOf,
} from '../../core/kernel-headers.js';
import type { Arch } from '../../core/names.js';
import { download, isSha256, sha256OfFile } from './download.js';
import { debArchitecture, packageKind, readAr, readHead, unpackDeb, unpackRpm, unpackTarFile, type PackageKind } from './packages.js';
import { StagingTree } from './staging.js';

export interface HeadersSource {
  /** A local path or an https URL. */
  location: string;
  sha256?: string;
}

/** `PATH_OR_URL` or `PATH_OR_URL#sha256=<64 hex>`. */
export function parseHeadersSource(text: string): HeadersSource {
  const m = /^(.*)#sha256=(.*)$/.exec(text);
  if (!m) return { location: text };
  if (!isSha256(m[2]!)) throw new Error(`headers source ${text}: the sha256 after "#sha256=" must be 64 lower-case hex digits`);
  return { location: m[1]!, sha256: m[2]! };
}

export interface StagedKernel {
  release: string;
  /** Where the release was read. */
  releaseFrom: string;
  arch?: Arch;
  packaging: 'deb' | 'rpm' | 'other';
  /** The build dir inside the container (`make -C`). */
  buildDir: string;
  /** Host dirs mounted read-only at the same paths the packages use. */
  mounts: { source: string; target: string }[];
  /** The sources this kernel's tree came from, as given. */
  sources: string[];
}

export interface StagedHeaders {
  kernels: StagedKernel[];
  /** Remove what was staged for this run only (cached trees and downloads stay). */
  cleanup(): Promise<void>;
}

export interface StageOptions {
  cwd: string;
  cacheDir: string;
  onProgress?: (line: string) => void;
  /** Where unpacked trees are kept (default: <cacheDir>/trees). */
  workDir?: string;
}

interface Unit {
  given: string;
  path: string;
  kind: PackageKind | 'dir';
  arch?: Arch;
  /** A .deb for every arch (`all`): joins each arch's group. */
  anyArch?: boolean;
}

export async function stageHeaders(sources: HeadersSource[], options: StageOptions): Promise<StagedHeaders> {
  const resolved = await Promise.all(sources.map((s) => resolveUnit(s, options)));
  const units = resolved.filter((u, i) => resolved.findIndex((o) => o.path === u.path) === i);
  const trees: string[] = [];
  const kernels: StagedKernel[] = [];
  const cleanup = async () => {
    await Promise.all(trees.map((t) => rm(t, { recursive: true, force: true })));
  };
  try {
    for (const group of groupUnits(units)) {
      const staged = await stageGroup(group, options, trees);
      kernels.push(...(await readKernels(staged, group)));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { kernels, cleanup };
}

async function resolveUnit(source: HeadersSource, options: StageOptions): Promise<Unit> {
  const given = source.location;
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(given);
  const path = isUrl ? await download(given, { cacheDir: options.cacheDir, sha256: source.sha256, onProgress: options.onProgress }) : resolve(options.cwd, given);
  const info = await stat(path).catch(() => {
    throw new Error(`headers source ${given}: no such file or directory`);
  });
  if (info.isDirectory()) {
    if (source.sha256) throw new Error(`headers source ${given}: a directory has no sha256 to check`);
    return { given, path, kind: 'dir' };
  }
  if (!isUrl && source.sha256) {
    const actual = await sha256OfFile(path);
    if (actual !== source.sha256) throw new Error(`headers source ${given}: sha256 is ${actual}, not the expected ${source.sha256}`);
  }
  const kind = packageKind(await readHead(path, 8));
  if (kind === 'deb') {
    const arch = await debArch(path, given);
    return { given, path, kind, arch: archFromPackageArch(arch ?? ''), anyArch: arch === 'all' };
  }
  return { given, path, kind, arch: archFromPackageFile(basename(path)) };
}

/** A .deb's Architecture field, read from its control member (the file name may lie or be missing). */
async function debArch(path: string, what: string): Promise<string | undefined> {
  const fromName = /_([a-z0-9]+)\.deb$/.exec(basename(path))?.[1];
  if (fromName) return fromName;
  const control = readAr(await readFile(path), what).find((m) => m.name.startsWith('control.tar'));
  return control ? debArchitecture(control, what) : undefined;
}

/** Debian packages by arch (arch `all` in each); every other source on its own. */
export function groupUnits<T extends { kind: string; arch?: Arch; anyArch?: boolean }>(units: T[]): T[][] {
  const debs = units.filter((u) => u.kind === 'deb');
  const shared = debs.filter((u) => u.anyArch || !u.arch);
  const arches = [...new Set(debs.filter((u) => !u.anyArch && u.arch).map((u) => u.arch!))];
  const groups: T[][] = arches.map((arch) => [...shared, ...debs.filter((u) => u.arch === arch && !u.anyArch)]);
  if (arches.length === 0 && debs.length) groups.push(debs);
  for (const u of units) if (u.kind !== 'deb') groups.push([u]);
  return groups;
}

/** Unpacked trees of a group: every path, and which tree holds a path (the tree's root). */
interface StagedGroup {
  files: string[];
  rootOf(rel: string): string | undefined;
}

/**
 * Each package of a group in its own cached tree, so one `-common` serves every arch; each mount then comes from
 * the tree that holds it. Should two packages share a mounted directory, the group is unpacked into one tree.
 */
async function stageGroup(group: Unit[], options: StageOptions, temps: string[]): Promise<StagedGroup> {
  if (group.length === 1 && group[0]!.kind === 'dir') {
    const root = group[0]!.path;
    return { files: await listTree(root), rootOf: () => root };
  }
  const trees: Tree[] = [];
  for (const unit of group) trees.push(await unpackCached([unit], options, temps));
  if (trees.length === 1) return { files: trees[0]!.files, rootOf: () => trees[0]!.root };
  const files = trees.flatMap((t) => t.files);
  const owners = new Map<string, string>();
  for (const mount of detectHeadersLayout(files).mounts) {
    const holding = trees.filter((t) => t.files.some((f) => f === mount.path || f.startsWith(`${mount.path}/`)));
    if (holding.length !== 1) {
      const merged = await unpackCached(group, options, temps);
      return { files: merged.files, rootOf: () => merged.root };
    }
    owners.set(mount.path, holding[0]!.root);
  }
  return { files, rootOf: (rel) => [...owners].find(([m]) => rel === m || rel.startsWith(`${m}/`))?.[1] };
}

interface Tree {
  root: string;
  files: string[];
}

/**
 * Unpack packages into one tree, kept under the cache by the sha256 of their contents: a second run (push
 * --verify, then verify) mounts the same tree without unpacking again. Built in a temporary sibling and renamed
 * into place, so a half-unpacked tree is never used.
 */
async function unpackCached(group: Unit[], options: StageOptions, trees: string[]): Promise<Tree> {
  const treesDir = options.workDir ?? join(options.cacheDir, 'trees');
  await mkdir(treesDir, { recursive: true });
  await removeDeadRunsLeftovers(treesDir, /[0-9a-f]{32}\.tmp-/);
  const key = createHash('sha256');
  for (const unit of group) key.update(`${unit.kind}:${await sha256OfFile(unit.path)}\n`);
  const root = join(treesDir, key.digest('hex').slice(0, 32));
  const cached = await readFile(`${root}.files.json`, 'utf8').then((t) => JSON.parse(t) as string[], () => undefined);
  if (cached && (await stat(root).then((s) => s.isDirectory(), () => false))) {
    options.onProgress?.(`headers: ${group.map((u) => basename(u.path)).join(', ')}: unpacked tree from the cache`);
    return { root, files: cached };
  }
  // Named by pid and registered before it exists: an interruption or a SIGKILL removes it, or a later run does.
  const buildingDir = await tempDir(`${basename(root)}.tmp-`, { parent: treesDir });
  const building = buildingDir.path;
  trees.push(building);
  const tree = new StagingTree(building, group.map((u) => u.given).join(' + '));
  for (const unit of group) {
    const started = Date.now();
    if (unit.kind === 'deb') await unpackDeb(await readFile(unit.path), tree, unit.given);
    else if (unit.kind === 'rpm') await unpackRpm(await readFile(unit.path), tree, unit.given);
    else if (unit.kind === 'tar') await unpackTarFile(unit.path, tree, unit.given);
    options.onProgress?.(`headers: unpacked ${basename(unit.path)} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  }
  await rm(root, { recursive: true, force: true });
  await rename(building, root);
  trees.pop();
  await buildingDir.remove();
  await writeFileAtomic(`${root}.files.json`, JSON.stringify(tree.files));
  return { root, files: tree.files };
}

/** Every path under a directory, relative, symlinks not followed. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
}

/** Read a small file of the tree, refusing one whose real path leaves the tree (a symlink pointing out). */
async function readInside(root: string, rel: string): Promise<string | undefined> {
  try {
    const real = await realpath(join(root, rel));
    const realRoot = await realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    const info = await stat(real);
    if (!info.isFile() || info.size > 16 * 1024 * 1024) return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

async function readKernels(staged: StagedGroup, group: Unit[]): Promise<StagedKernel[]> {
  const layout = detectHeadersLayout(staged.files);
  const packaging = group[0]!.kind === 'deb' ? 'deb' : group[0]!.kind === 'rpm' ? 'rpm' : 'other';
  const sources = group.map((u) => u.given);
  if (layout.buildDirs.length === 0) {
    throw new Error(`headers ${sources.join(' + ')}: no kernel build dir (a Makefile next to a .config) in them${packaging === 'deb' ? ': give the arch package linux-headers-<release>-<arch> with its -common and linux-kbuild companions' : ''}`);
  }
  const read = (rel: string) => {
    const root = staged.rootOf(rel);
    return root ? readInside(root, rel) : Promise.resolve(undefined);
  };
  const mounts = layout.mounts.map((m) => ({ source: join(staged.rootOf(m.path)!, m.path), target: m.target }));
  const kernels: StagedKernel[] = [];
  for (const dir of layout.buildDirs) {
    const at = (p: string) => (dir === '.' ? p : `${dir}/${p}`);
    const [uts, utsOld, plain, config] = await Promise.all(
      ['include/generated/utsrelease.h', 'include/linux/utsrelease.h', 'include/config/kernel.release', '.config'].map((p) => read(at(p))),
    );
    const release = kernelReleaseOf({ utsrelease: uts ?? utsOld, kernelRelease: plain });
    if (!release) throw new Error(`headers ${sources.join(' + ')}: ${dir} has neither include/generated/utsrelease.h nor include/config/kernel.release: pass --kernel-release`);
    const arch = (config ? archFromConfig(config) : undefined) ?? group.find((u) => u.arch)?.arch;
    kernels.push({
      release: release.release,
      releaseFrom: `${dir === '.' ? sources[0] : dir}/${release.from}`,
      arch,
      packaging,
      buildDir: containerPathOf(dir, layout.mounts),
      mounts,
      sources,
    });
  }
  return kernels;
}
