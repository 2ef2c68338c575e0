/**
 * busybox-static for the guest's arch, from the distro's own package (the host's /bin/busybox is the host's arch
 * only): Debian bookworm's busybox-static .deb, downloaded from the mirror with the headers' discipline and
 * checked against the sha256 pinned here (the amd64 one is the mirror's signed Packages index entry; the arm64
 * one was recorded from the same pool over https). The binary read out of it is cached by the package's content.
 * A newer busybox: give another package or a static binary (`busybox` option: PATH|URL[#sha256=]).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Arch } from '../../core/names.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { readElfHeader, ARCH_MACHINE } from '../../core/elf.js';
import { packageKind, readHead } from '../headers/packages.js';
import { extractMember } from './extract.js';
import { fetchFile, KernelImageError, type FetchOptions, type FileSource } from './image.js';

const POOL = 'https://deb.debian.org/debian/pool/main/b/busybox';
const VERSION = '1.35.0-4+deb12u1+b1';

export const BUSYBOX_PACKAGES: Record<Arch, FileSource> = {
  x86_64: { location: `${POOL}/busybox-static_${VERSION}_amd64.deb`, sha256: '3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744' },
  aarch64: { location: `${POOL}/busybox-static_${VERSION}_arm64.deb`, sha256: '732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5' },
};

const MAX_BYTES = 32 * 1024 ** 2;

/** The path of a static busybox for `arch`: from the package (default: the pinned Debian one) or a binary given. */
export async function busyboxFor(arch: Arch, options: FetchOptions & { source?: FileSource }): Promise<string> {
  const source = options.source ?? BUSYBOX_PACKAGES[arch];
  const file = await fetchFile(source, 'busybox', { ...options, maxBytes: MAX_BYTES });
  let path = file.path;
  if (['deb', 'rpm'].includes(packageKind(await readHead(file.path, 8)))) {
    path = join(options.cacheDir, 'busybox', file.sha256, 'busybox');
    if (!(await stat(path).then((s) => s.isFile(), () => false))) {
      const found = await extractMember(file.path, (name) => (/^(\.\/)?(usr\/)?bin\/busybox$/.test(name) ? 0 : undefined), { what: source.location, maxBytes: MAX_BYTES });
      if (!found) throw new KernelImageError(`busybox ${source.location}: no bin/busybox in the package`);
      await writeFileAtomic(path, found.data);
    }
  }
  const elf = readElfHeader(await readHead(path, 64));
  if (!elf || elf.machine !== ARCH_MACHINE[arch]) throw new KernelImageError(`busybox ${source.location}: not an ELF executable for ${arch}${elf ? ` (it is for ${elf.machineName})` : ''}`);
  return path;
}
