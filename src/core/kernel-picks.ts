/**
 * For every kernel of a list, the image and GCC the driver builder would pick, and how many kernels each image
 * serves: the question a maintainer asks before merging a new GCC image. Pure.
 */
import type { IndexEntry } from './index-schema.js';
import { defaultGccForKernel, parseKernelRelease } from './kernel.js';
import type { KernelListEntry } from './kernel-list.js';
import { selectBuilder, type SelectionReason } from './select.js';
import { formatGccVersion } from './version.js';

export interface KernelPick {
  kernel: KernelListEntry;
  /** The GCC the driver builder's table wants for the kernel. */
  wanted: string;
  image?: string;
  gcc?: string;
  reason: SelectionReason | 'none' | 'bad-release';
  /** The picked image holds the wanted GCC (exact, or the `any` fallback). */
  exact: boolean;
}

export function pickForKernel(entries: IndexEntry[], kernel: KernelListEntry, tag: string): KernelPick {
  const parsed = parseKernelRelease(kernel.release);
  if (!parsed) return { kernel, wanted: '-', reason: 'bad-release', exact: false };
  const gcc = defaultGccForKernel(kernel.target, parsed).gcc;
  const wanted = formatGccVersion(gcc);
  const pick = selectBuilder(entries, { target: kernel.target, arch: kernel.arch, tag, gcc });
  if (!pick) return { kernel, wanted, reason: 'none', exact: false };
  return { kernel, wanted, image: pick.image.name, gcc: pick.gcc, reason: pick.reason, exact: pick.gcc === wanted };
}

export interface ImageLoad {
  image: string;
  kernels: number;
  /** Of those, the kernels it serves without the GCC they want. */
  inexact: number;
  /** Of those, the kernels it serves as the `any` fallback. */
  fallback: number;
}

export interface KernelPickSummary {
  picks: KernelPick[];
  perImage: ImageLoad[];
  /** Kernels no image serves (no image of the arch and target or any, or a release that does not parse). */
  unserved: KernelPick[];
}

export function pickForKernels(entries: IndexEntry[], kernels: KernelListEntry[], tag: string): KernelPickSummary {
  const picks = kernels.map((k) => pickForKernel(entries, k, tag));
  const load = new Map<string, ImageLoad>();
  for (const p of picks) {
    if (!p.image) continue;
    const l = load.get(p.image) ?? { image: p.image, kernels: 0, inexact: 0, fallback: 0 };
    l.kernels++;
    if (!p.exact) l.inexact++;
    if (p.reason === 'fallback') l.fallback++;
    load.set(p.image, l);
  }
  const perImage = [...load.values()].sort((a, b) => b.kernels - a.kernels || a.image.localeCompare(b.image));
  return { picks, perImage, unserved: picks.filter((p) => !p.image) };
}

/** The kernels `select` sends to one of these images (`--image`: a full name, or a tag or its prefix). */
export function kernelsForImages(summary: KernelPickSummary, images: string[]): KernelPick[] {
  const matches = imageMatcher(images);
  return summary.picks.filter((p) => p.image !== undefined && matches(p.image));
}

/** `--image`: an image name matches a full name, its tag, or the start of its tag. */
export function imageMatcher(images: string[]): (name: string) => boolean {
  return (name) => images.some((want) => name === want || name.endsWith(`:${want}`) || name.slice(name.lastIndexOf(':') + 1).startsWith(want));
}

/** The kernels whose pick (image or GCC) differs between two builder indexes: what a change moves. */
export function movedKernels(before: IndexEntry[], after: IndexEntry[], kernels: KernelListEntry[], tag: string): { kernel: KernelListEntry; before: KernelPick; after: KernelPick }[] {
  return kernels
    .map((kernel) => ({ kernel, before: pickForKernel(before, kernel, tag), after: pickForKernel(after, kernel, tag) }))
    .filter((m) => m.before.image !== m.after.image || m.before.gcc !== m.after.gcc);
}
