/**
 * Kernel lists: what the driver build grid builds for. Pure.
 *
 * Two formats come in:
 * - kernel-crawler's `kernels/<arch>/list.json`: `{"<Distro>": [{kernelversion, kernelrelease, target, headers}]}`,
 *   one file per arch (the arch is not written in an entry: it comes from the packages, the release or the caller);
 * - a plain list of our own (YAML or JSON): `kernels: [{release, target, arch, headers, kernelImage?, sha256?}]`.
 * Both become KernelListEntry. Filters, a deterministic sample spread over kernel series, and shards (each pair in
 * exactly one) live here too, so `select --kernels` and `verify --kernels` cut a list the same way.
 */
import { z } from 'zod';
import { archFromPackageFile } from './kernel-headers.js';
import { parseKernelRelease } from './kernel.js';
import { archOfPlatform, type Arch } from './names.js';

export interface KernelListEntry {
  release: string;
  target: string;
  arch: Arch;
  /** Package URLs or paths, each optionally with its sha256; the driver builder keeps those that answer. */
  headers: { source: string; sha256?: string }[];
  kernelImage?: { source: string; sha256?: string };
  /** kernel-crawler's distro key (`Debian`, `Ubuntu`…), or the plain list's `distro`. */
  distro?: string;
  /** kernel-crawler's `kernelversion` (Ubuntu's build number, …), as a string. */
  kernelVersion?: string;
}

export class KernelListError extends Error {}

/** A bounded list: kernel-crawler's biggest file lists a few thousand kernels per arch. */
export const MAX_KERNELS = 100_000;
const MAX_HEADERS_PER_KERNEL = 64;

const sourceSchema = z.union([z.string().min(1), z.object({ source: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() }).strict()]);

const crawlerEntrySchema = z
  .object({
    kernelversion: z.union([z.string(), z.number()]).optional(),
    kernelrelease: z.string().min(1),
    target: z.string().regex(/^[a-z0-9]+$/),
    headers: z.array(z.string().min(1)).max(MAX_HEADERS_PER_KERNEL).default([]),
    kernelconfigdata: z.string().optional(),
  })
  .passthrough();
const crawlerSchema = z.record(z.string(), z.array(crawlerEntrySchema).max(MAX_KERNELS));

const plainEntrySchema = z
  .object({
    release: z.string().min(1),
    target: z.string().regex(/^[a-z0-9]+$/),
    arch: z.string().optional(),
    distro: z.string().optional(),
    headers: z.array(sourceSchema).min(1).max(MAX_HEADERS_PER_KERNEL),
    kernelImage: sourceSchema.optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  })
  .strict();
const plainSchema = z.object({ kernels: z.array(plainEntrySchema).max(MAX_KERNELS) }).strict();

function source(s: z.infer<typeof sourceSchema>): { source: string; sha256?: string } {
  return typeof s === 'string' ? { source: s } : s;
}

/** The arch the driver builder would build a kernel for: its packages' arch, else its release's, else the file's. */
export function archOfKernel(release: string, headers: string[], fallback?: Arch): Arch | undefined {
  const fromPackages = new Set(headers.map((h) => archFromPackageFile(h.replace(/[?#].*$/, ''))).filter((a): a is Arch => a !== undefined));
  if (fromPackages.size === 1) return [...fromPackages][0];
  const fromRelease = /(?:^|[-.+_])(amd64|x86_64|arm64|aarch64)(?:$|[-.+_])/.exec(release);
  if (fromRelease) return archOfPlatform(fromRelease[1]!);
  return fallback;
}

/**
 * Read a kernel list. `doc` is the parsed JSON or YAML; `shown` names it in errors; `arch` is the caller's arch for
 * a kernel-crawler file (its path says `kernels/<arch>/`), used when an entry's packages and release say nothing.
 */
export function parseKernelList(doc: unknown, shown: string, arch?: Arch): KernelListEntry[] {
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'kernels' in doc) return parsePlain(doc, shown);
  const parsed = crawlerSchema.safeParse(doc);
  if (!parsed.success) throw new KernelListError(`${shown}: not a kernel list: ${zodProblem(parsed.error)}; expected kernel-crawler's {"<Distro>": [{"kernelrelease", "target", "headers"}]} or kernels: [{release, target, arch, headers}]`);
  const out: KernelListEntry[] = [];
  for (const [distro, entries] of Object.entries(parsed.data)) {
    entries.forEach((e, i) => {
      const entryArch = archOfKernel(e.kernelrelease, e.headers, arch);
      if (!entryArch) throw new KernelListError(`${shown}: ${distro}[${i}] (${e.kernelrelease}): cannot tell its arch from its packages or release: pass --arch`);
      out.push({ release: e.kernelrelease, target: e.target, arch: entryArch, headers: e.headers.map((h) => ({ source: h })), distro, ...(e.kernelversion !== undefined ? { kernelVersion: String(e.kernelversion) } : {}) });
    });
    if (out.length > MAX_KERNELS) throw new KernelListError(`${shown}: more than ${MAX_KERNELS} kernels`);
  }
  return out;
}

function parsePlain(doc: object, shown: string): KernelListEntry[] {
  const parsed = plainSchema.safeParse(doc);
  if (!parsed.success) throw new KernelListError(`${shown}: ${zodProblem(parsed.error)}`);
  return parsed.data.kernels.map((k, i) => {
    const headers = k.headers.map(source);
    const named = k.arch === undefined ? undefined : archOfPlatform(k.arch);
    if (k.arch !== undefined && !named) throw new KernelListError(`${shown}: kernels[${i}].arch "${k.arch}" is not x86_64/amd64 or aarch64/arm64`);
    const arch = named ?? archOfKernel(k.release, headers.map((h) => h.source));
    if (!arch) throw new KernelListError(`${shown}: kernels[${i}] (${k.release}): give its arch`);
    const image = k.kernelImage ? source(k.kernelImage) : undefined;
    return {
      release: k.release,
      target: k.target,
      arch,
      headers,
      ...(image ? { kernelImage: k.sha256 && !image.sha256 ? { ...image, sha256: k.sha256 } : image } : {}),
      ...(k.distro ? { distro: k.distro } : {}),
    };
  });
}

function zodProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`;
}

/** The package file name a URL or path names (what two mirrors of one package share). */
export function packageFileName(location: string): string {
  const path = location.replace(/[?#].*$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Ubuntu's flavor from a release (`5.15.0-91-generic` → `generic`, `6.8.0-1012-aws` → `aws`), as the driver builder
 * reads it; undefined when the release has none.
 */
export function ubuntuFlavor(release: string): string | undefined {
  const m = /^\d+\.\d+\.\d+-\d+(?:\.\d+)?-([a-z][a-z0-9-]*)$/.exec(release);
  return m?.[1];
}

/**
 * The headers packages the driver builder uses for a kernel: those whose URL answers (`answers`, the HEAD probe;
 * all when undefined), one per package file (the same package from two mirrors counts once, the first listed),
 * of the kernel's arch or arch-independent, and for Ubuntu only its flavor's arch-specific package (the list also
 * carries other flavors' packages).
 */
export function chooseHeaders(kernel: KernelListEntry, answers?: (source: string) => boolean): { source: string; sha256?: string }[] {
  const seen = new Set<string>();
  const flavor = kernel.target === 'ubuntu' ? ubuntuFlavor(kernel.release) : undefined;
  const flavorStem = flavor === 'hwe' || flavor === 'lts' ? 'generic' : flavor?.split('-')[0];
  return kernel.headers.filter((h) => {
    const file = packageFileName(h.source);
    if (seen.has(file)) return false;
    const arch = archFromPackageFile(file);
    if (arch && arch !== kernel.arch) return false;
    if (flavorStem && arch && !file.includes(flavorStem)) return false;
    if (answers && !answers(h.source)) return false;
    seen.add(file);
    return true;
  });
}

export interface KernelFilter {
  target?: string;
  arch?: Arch;
  release?: RegExp;
}

export function filterKernels(kernels: KernelListEntry[], f: KernelFilter): KernelListEntry[] {
  return kernels.filter((k) => (!f.target || k.target === f.target) && (!f.arch || k.arch === f.arch) && (!f.release || f.release.test(k.release)));
}

/** A kernel's series: `6.1`, `5.10`… (`?` when the release does not parse). */
export function kernelSeries(release: string): string {
  const k = parseKernelRelease(release);
  return k ? `${k.version}.${k.patchlevel}` : '?';
}

/** Releases in version order (numbers compared as numbers), then as text. */
export function compareReleases(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = i % 2 === 1 ? Number(pa[i]) : NaN;
    const nb = i % 2 === 1 ? Number(pb[i]) : NaN;
    if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
    return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

function kernelKey(k: KernelListEntry): string {
  return `${k.arch}/${k.target}/${k.release}`;
}

/** One entry per (arch, target, release): a list that names a kernel twice (two distros' keys) builds it once. */
export function uniqueKernels(kernels: KernelListEntry[]): KernelListEntry[] {
  const seen = new Map<string, KernelListEntry>();
  for (const k of kernels) if (!seen.has(kernelKey(k))) seen.set(kernelKey(k), k);
  return [...seen.values()];
}

/**
 * N kernels spread over the list's series: groups by (target, arch, series), then takes round-robin one from each
 * group in turn, each group's kernels spread evenly over its releases (first, last, middle…). Deterministic: the
 * same list gives the same sample, whatever its order.
 */
export function sampleKernels(kernels: KernelListEntry[], n: number): KernelListEntry[] {
  if (n >= kernels.length) return sortKernels(kernels);
  const groups = new Map<string, KernelListEntry[]>();
  for (const k of sortKernels(kernels)) {
    const key = `${k.target}/${k.arch}/${kernelSeries(k.release)}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  }
  const ordered = [...groups.keys()].sort().map((key) => spreadOrder(groups.get(key)!));
  const picked: KernelListEntry[] = [];
  for (let round = 0; picked.length < n; round++) {
    for (const group of ordered) {
      if (round < group.length && picked.length < n) picked.push(group[round]!);
    }
  }
  return sortKernels(picked);
}

/** A group's members in the order that covers its range soonest: ends first, then halves, quarters… */
function spreadOrder<T>(items: T[]): T[] {
  if (items.length <= 2) return items.length === 2 ? [items[1]!, items[0]!] : items;
  const order: number[] = [items.length - 1, 0];
  const taken = new Set(order);
  let segments: [number, number][] = [[0, items.length - 1]];
  while (order.length < items.length) {
    const next: [number, number][] = [];
    for (const [lo, hi] of segments) {
      if (hi - lo < 2) continue;
      const mid = Math.floor((lo + hi) / 2);
      if (!taken.has(mid)) {
        taken.add(mid);
        order.push(mid);
      }
      next.push([lo, mid], [mid, hi]);
    }
    if (next.length === 0) break;
    segments = next;
  }
  for (let i = 0; i < items.length; i++) if (!taken.has(i)) order.push(i);
  return order.map((i) => items[i]!);
}

export function sortKernels(kernels: KernelListEntry[]): KernelListEntry[] {
  return [...kernels].sort((a, b) => a.arch.localeCompare(b.arch) || a.target.localeCompare(b.target) || compareReleases(a.release, b.release));
}

export interface Shard {
  index: number;
  count: number;
}

/** `--shard I/N`: 1 <= I <= N <= 1000. */
export function parseShard(text: string): Shard | undefined {
  const m = /^([1-9]\d{0,3})\/([1-9]\d{0,3})$/.exec(text);
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return index <= count && count <= 1000 ? { index, count } : undefined;
}

/**
 * The items of shard I of N: items sorted by their key, then dealt round-robin, so every item is in exactly one
 * shard, the shards differ in size by at most one, and the split does not depend on the list's order.
 */
export function shardOf<T>(items: T[], shard: Shard, key: (item: T) => string): T[] {
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return sorted.filter((_, i) => i % shard.count === shard.index - 1);
}
