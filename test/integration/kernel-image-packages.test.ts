/**
 * The kernel image read out of packages made here (real ar/tar/cpio framing, real xz/zstd/gzip): the best member
 * wins, other releases are not taken, a .deb's reading stops at the image, RPMs find lib/modules/<rel>/vmlinuz,
 * the result is cached by the package's content, and a wrong arch or a missing image is refused with the reason.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractMember } from '../../src/adapters/kernels/extract.js';
import { kernelImageFor } from '../../src/adapters/kernels/image.js';
import { kernelImageMember } from '../../src/core/kernel-image.js';
import { makeDeb, makeRpm } from '../support/kernel-packages.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bi-kimage-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A bzImage's first bytes: "HdrS" at 0x202, then a tag to tell images apart. */
function bzImage(tag: string): string {
  return `${'\0'.repeat(0x202)}HdrS${tag}`;
}

describe('kernel image from a package', () => {
  for (const how of ['xz', 'zst', 'gz'] as const) {
    it(`.deb (data.tar.${how}): boot/vmlinuz-<release>, not another release's, not config`, async () => {
      const deb = join(dir, `linux-image-${how}.deb`);
      await writeFile(
        deb,
        await makeDeb(
          [
            { path: './boot/', dir: true },
            { path: './boot/config-6.1.0-56-amd64', body: 'CONFIG_X86_64=y\n' },
            { path: './boot/vmlinuz-6.1.0-57-amd64', body: bzImage('57') },
            { path: './boot/vmlinuz-6.1.0-56-amd64', body: bzImage('56') },
            { path: './lib/modules/6.1.0-56-amd64/kernel/lib/crc7.ko', body: 'module' },
          ],
          'amd64',
          how,
        ),
      );
      const found = await extractMember(deb, (n) => kernelImageMember(n, '6.1.0-56-amd64'), { what: deb, maxBytes: 1 << 20 });
      expect(found?.name).toBe('boot/vmlinuz-6.1.0-56-amd64');
      expect(found?.data.toString('latin1').endsWith('HdrS56')).toBe(true);
      const image = await kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: [] }, { location: deb }, { cacheDir: join(dir, `cache-${how}`), cwd: dir });
      expect(image).toMatchObject({ kind: 'bzImage', from: `${deb} (boot/vmlinuz-6.1.0-56-amd64)` });
      const again: string[] = [];
      await kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: [] }, { location: deb }, { cacheDir: join(dir, `cache-${how}`), cwd: dir, onProgress: (l) => again.push(l) });
      expect(again).toEqual(['boot: kernel image vmlinuz-6.1.0-56-amd64 from the cache']);
    });
  }

  it('.rpm (kernel-core): lib/modules/<release>/vmlinuz', async () => {
    const rpm = join(dir, 'kernel-core.rpm');
    await writeFile(rpm, await makeRpm([{ path: './lib/modules/5.14.0-427.el9.x86_64/vmlinuz', body: bzImage('el9') }, { path: './lib/modules/5.14.0-427.el9.x86_64/config', body: 'x' }], 'xz'));
    const found = await extractMember(rpm, (n) => kernelImageMember(n, '5.14.0-427.el9.x86_64'), { what: rpm, maxBytes: 1 << 20 });
    expect(found?.name).toBe('lib/modules/5.14.0-427.el9.x86_64/vmlinuz');
  });

  it('refuses an image of another arch, a package without one, and a wrong sha256', async () => {
    const deb = join(dir, 'arm.deb');
    const arm = Buffer.alloc(0x40);
    arm.writeUInt32LE(0x644d5241, 0x38);
    await writeFile(deb, await makeDeb([{ path: './boot/vmlinuz-6.1.0-56-arm64', body: arm.toString('latin1') }], 'arm64', 'gz'));
    const opts = { cacheDir: join(dir, 'cache-bad'), cwd: dir };
    await expect(kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: [] }, { location: deb }, opts)).rejects.toThrow(/is not an x86 bzImage \(arm64-Image\): not a kernel for x86_64/);
    const empty = join(dir, 'empty.deb');
    await writeFile(empty, await makeDeb([{ path: './usr/share/doc/x', body: 'x' }], 'amd64', 'gz'));
    await expect(kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: [] }, { location: empty }, opts)).rejects.toThrow(/no kernel image in the package \(looked for boot\/vmlinuz-\*/);
    await expect(kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: [] }, { location: empty, sha256: '0'.repeat(64) }, opts)).rejects.toThrow(/sha256 is [0-9a-f]{64}, not the expected 0{64}/);
    await expect(kernelImageFor({ release: '6.1.0-56-amd64', arch: 'x86_64', headers: ['./linux-headers-6.1.0-56-amd64_6.1.192-2_amd64.deb'] }, undefined, opts)).rejects.toThrow(/no kernel image package to derive .*: pass --kernel-image PATH\|URL/);
  });
});
