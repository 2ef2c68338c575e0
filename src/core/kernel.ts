/**
 * The driver builder's default GCC for a kernel release, with its per-distro overrides. Pure.
 *
 *   6.9+ -> 14, 6.5+ -> 13, other 6.x -> 12, 5.15+ -> 12, other 5.x -> 11, 4.x -> 8, 3.18+ -> 5,
 *   other 3.x -> 4.9, 2.x -> 4.8, anything else -> 14;
 *   centos 3.10 -> 4.8.5, centos 4.18+ -> 9, amazonlinux2 5.10 -> 10.
 */
import type { GccVersion } from './version.js';

export interface KernelRelease {
  version: number;
  patchlevel: number;
  sublevel: number;
  /** Everything after the numbers, e.g. `-1160.el7.x86_64`. */
  extra: string;
}

export function parseKernelRelease(text: string): KernelRelease | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(.*)$/.exec(text.trim());
  if (!m) return null;
  return { version: Number(m[1]), patchlevel: Number(m[2]), sublevel: Number(m[3] ?? 0), extra: m[4] ?? '' };
}

/**
 * The arch a kernel release names at its end, if any: Debian's flavour suffix (`6.1.0-18-amd64`,
 * `6.1.0-18-rt-arm64`) or an RPM's arch (`3.10.0-1160.el7.x86_64`). Ubuntu's and vanilla releases name none.
 */
export function archOfKernelRelease(text: string): { arch: 'x86_64' | 'aarch64'; named: string } | undefined {
  const m = /[-.](amd64|x86_64|arm64|aarch64)$/.exec(text.trim());
  if (!m) return undefined;
  const named = m[1]!;
  return { arch: named === 'amd64' || named === 'x86_64' ? 'x86_64' : 'aarch64', named };
}

/** One kernel per series, at every boundary of the table below, from 2.6 to 6.x (what `select --matrix` walks). */
export const KERNEL_SERIES = [
  '2.6.32', '3.0.0', '3.10.0', '3.16.0', '3.18.0', '4.4.0', '4.9.0', '4.14.0', '4.18.0', '4.19.0',
  '5.4.0', '5.10.0', '5.14.0', '5.15.0', '6.1.0', '6.5.0', '6.6.0', '6.8.0', '6.9.0', '6.12.0',
] as const;

export interface KernelGccRule {
  /** Which branch of the table applied, for the `why`. */
  rule: string;
  gcc: GccVersion;
}

const v = (major: number, minor = 0, patch = 0): GccVersion => ({ major, minor, patch });

export function defaultGccForKernel(target: string, kernel: KernelRelease): KernelGccRule {
  const { version: major, patchlevel: minor } = kernel;
  if (target === 'centos') {
    if (major === 3 && minor === 10) return { rule: 'centos 3.10', gcc: v(4, 8, 5) };
    if (major > 4 || (major === 4 && minor >= 18)) return { rule: 'centos 4.18+', gcc: v(9) };
  }
  if (target === 'amazonlinux2' && major === 5 && minor === 10) return { rule: 'amazonlinux2 5.10', gcc: v(10) };
  switch (major) {
    case 6:
      if (minor >= 9) return { rule: '6.9+', gcc: v(14) };
      if (minor >= 5) return { rule: '6.5+', gcc: v(13) };
      return { rule: '6.x', gcc: v(12) };
    case 5:
      return minor >= 15 ? { rule: '5.15+', gcc: v(12) } : { rule: '5.x', gcc: v(11) };
    case 4:
      return { rule: '4.x', gcc: v(8) };
    case 3:
      return minor >= 18 ? { rule: '3.18+', gcc: v(5) } : { rule: '3.x', gcc: v(4, 9) };
    case 2:
      return { rule: '2.x', gcc: v(4, 8) };
    default:
      return { rule: 'default', gcc: v(14) };
  }
}
