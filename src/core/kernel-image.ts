/**
 * Where a kernel's bootable image is, for `verify --boot`: the distro package that ships it, next to the headers
 * package it was built from, and the member of that package that is the image. Debian ships the image as
 * `linux-image-<release>-unsigned` (same source package and pool directory as `linux-headers-<release>`) and the
 * signed `linux-image-<release>` (from `linux-signed-<arch>`); Red Hat's family as `kernel-core` (el8 and later,
 * Fedora; next to `kernel-devel`, or in BaseOS where kernel-devel is in AppStream) or `kernel` (el7). Pure.
 */
import type { Arch } from './names.js';

/** Candidate package URLs for a kernel's image, best first; empty when no headers package was given by URL. */
export function kernelImagePackageUrls(headerUrls: string[], release: string): string[] {
  const out: string[] = [];
  for (const text of headerUrls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue;
    }
    const slash = url.pathname.lastIndexOf('/');
    const dir = url.pathname.slice(0, slash + 1);
    const file = decodeURIComponent(url.pathname.slice(slash + 1));
    const at = (path: string, name: string) => new URL(`${path}${name}`, url).href;
    const deb = /^linux-headers-(.+)_([^_]+)_([a-z0-9]+)\.deb$/.exec(file);
    if (deb && deb[1] === release) {
      const [, rel, version, debArch] = deb;
      out.push(at(dir, `linux-image-${rel}-unsigned_${version}_${debArch}.deb`), at(dir, `linux-image-${rel}_${version}_${debArch}.deb`));
      // The signed image's source package is linux-signed-<arch> (linux-signed-6.12-amd64 for linux-6.12).
      const source = /\/([^/]+)\/$/.exec(dir)?.[1];
      if (source?.startsWith('linux')) out.push(at(dir.replace(/\/[^/]+\/$/, `/${source.replace(/^linux/, 'linux-signed')}-${debArch}/`), `linux-image-${rel}_${version}_${debArch}.deb`));
      continue;
    }
    const rpm = /^kernel-devel-(.+)\.rpm$/.exec(file);
    if (rpm && rpm[1] === release) {
      const dirs = [dir, ...(dir.includes('/AppStream/') ? [dir.replace('/AppStream/', '/BaseOS/')] : [])];
      for (const d of dirs) out.push(at(d, `kernel-core-${release}.rpm`), at(d, `kernel-${release}.rpm`));
    }
  }
  return [...new Set(out)];
}

/** The package members that can be the image of `release`, best first (a release of `*` matches any). */
export function kernelImageMember(name: string, release: string | undefined): number | undefined {
  const rel = name.replace(/^(\.\/|\/)+/, '');
  const any = '[^/]+';
  const r = release ? release.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : any;
  const patterns = [new RegExp(`^boot/vmlinuz-${r}$`), new RegExp(`^(usr/)?lib/modules/${r}/vmlinuz$`), new RegExp(`^boot/(vmlinux|Image|zImage)-${r}$`)];
  const i = patterns.findIndex((p) => p.test(rel));
  return i < 0 ? undefined : i;
}

export type KernelImageKind = 'bzImage' | 'arm64-Image' | 'gzip' | 'efi-zboot' | 'unknown';

/** What a kernel image file is, from its first bytes (at least 0x210 of them). */
export function kernelImageKind(head: Uint8Array): KernelImageKind {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 0x206 && b.toString('latin1', 0x202, 0x206) === 'HdrS') return 'bzImage';
  if (b.length >= 0x3c && b.readUInt32LE(0x38) === 0x644d5241) return 'arm64-Image';
  if (b.length >= 8 && b.toString('latin1', 0, 2) === 'MZ' && b.toString('latin1', 4, 8) === 'zimg') return 'efi-zboot';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  return 'unknown';
}

/** Whether qemu can boot this kind of image for this arch directly (`-kernel`), or why not. */
export function checkKernelImage(kind: KernelImageKind, arch: Arch, what: string): string | undefined {
  if (arch === 'x86_64') return kind === 'bzImage' ? undefined : `${what} is not an x86 bzImage (${kind === 'unknown' ? 'no "HdrS" header at 0x202' : kind}): not a kernel for x86_64`;
  if (kind === 'arm64-Image' || kind === 'gzip') return undefined;
  if (kind === 'efi-zboot') return `${what} is an EFI zboot image, which qemu's -kernel cannot load without firmware: give the uncompressed Image (--kernel-image)`;
  return `${what} is not an arm64 Image (${kind === 'bzImage' ? 'it is an x86 bzImage' : 'no "ARM\\x64" magic at 0x38'}): not a kernel for aarch64`;
}
