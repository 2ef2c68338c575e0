/**
 * Real Debian kernels for the boot tests, pinned by sha256 (the amd64 ones are the mirror's signed Packages
 * entries, `apt-cache show`; the arm64 one was recorded from the same pool over https), downloaded once into the
 * repository's .cache/kernels (the cache `verify --boot` uses), and real modules for them: in-tree modules read
 * out of the kernel's own image package (built by Debian for exactly that kernel, no compiler needed).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { extractMember } from '../../src/adapters/kernels/extract.js';
import { fetchFile } from '../../src/adapters/kernels/image.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const KERNEL_CACHE = join(REPO_ROOT, '.cache', 'kernels');
const SEC = 'https://deb.debian.org/debian-security/pool/updates/main/l';

export interface TestKernel {
  release: string;
  arch: 'x86_64' | 'aarch64';
  /** The headers packages (the image package is derived from the arch one). */
  headers: string[];
  image: { location: string; sha256: string };
}

export const KERNELS = {
  bookworm61amd64: {
    release: '6.1.0-56-amd64',
    arch: 'x86_64',
    headers: [`${SEC}/linux/linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb`, `${SEC}/linux/linux-headers-6.1.0-56-common_6.1.192-2_all.deb`, `${SEC}/linux/linux-kbuild-6.1_6.1.192-2_amd64.deb`],
    image: { location: `${SEC}/linux/linux-image-6.1.0-56-amd64-unsigned_6.1.192-2_amd64.deb`, sha256: '530631662c9ad84758eca2d7609cf40623309afd4bccbeb563f33e9c7f220bdf' },
  },
  bookworm612amd64: {
    release: '6.12.107+deb12-amd64',
    arch: 'x86_64',
    headers: [],
    image: { location: `${SEC}/linux-6.12/linux-image-6.12.107+deb12-amd64-unsigned_6.12.107-1~deb12u1_amd64.deb`, sha256: 'ef903673810c7054dd49c60f79fa7d11bb5d67b6839d94981ec679279126f399' },
  },
  bookworm61arm64: {
    release: '6.1.0-56-arm64',
    arch: 'aarch64',
    headers: [`${SEC}/linux/linux-headers-6.1.0-56-arm64_6.1.192-2_arm64.deb`],
    image: { location: `${SEC}/linux/linux-image-6.1.0-56-arm64-unsigned_6.1.192-2_arm64.deb`, sha256: 'f8357fc813e879efb7f467f5b8a37e2426e177bb3d683fac644d70a8343e6a49' },
  },
} satisfies Record<string, TestKernel>;

/** An in-tree module of the kernel (e.g. `kernel/lib/crc7.ko`, no dependencies), read out of its image package once. */
export async function inTreeModule(kernel: TestKernel, member: string): Promise<string> {
  const pkg = await fetchFile(kernel.image, 'test kernel package', { cacheDir: KERNEL_CACHE, cwd: REPO_ROOT, maxBytes: 768 * 1024 ** 2 });
  const path = join(REPO_ROOT, '.cache', 'boot-test', pkg.sha256, member.split('/').pop()!);
  if (await stat(path).then((s) => s.isFile(), () => false)) return path;
  const want = `lib/modules/${kernel.release}/${member}`;
  const found = await extractMember(pkg.path, (name) => (name.replace(/^\.\//, '') === want ? 0 : undefined), { what: kernel.image.location, maxBytes: 64 * 1024 ** 2 });
  if (!found) throw new Error(`${kernel.image.location} has no ${want}`);
  await writeFileAtomic(path, found.data);
  return path;
}
