/**
 * verify --boot's cost per kernel against its peer: a plain qemu boot of the same kernel image with the same
 * busybox initramfs and no module (init mounts, reports and powers off). Target: booting with the module
 * (insmod, /proc/modules, taint, rmmod) within 15 % of the plain boot, plus 1 s. Both under the same accelerator
 * (KVM where it boots, else TCG; the row says which). Called by bench/verify.ts for every kernel it builds; run
 * alone (`npx tsx bench/boot.ts`) it boots Debian's crc7.ko in its own 6.1 kernel.
 */
import { pathToFileURL } from 'node:url';
import { bootKernel, type BootKernel, type BootOptions } from '../src/app/boot.js';
import { median, row, verdict } from './lib.js';

export async function benchBoot(kernel: BootKernel, modulePath: string, runs: number, cacheDir: string): Promise<void> {
  const options: BootOptions = { cacheDir, cwd: process.cwd() };
  const first = await bootKernel(kernel, modulePath, options);
  if (!first.ok) throw new Error(`boot did not load the module: ${first.message}`);
  const loaded = await median(runs, async () => {
    const r = await bootKernel(kernel, modulePath, options);
    if (!r.ok) throw new Error(r.message);
  });
  const plain = await median(runs, async () => {
    const r = await bootKernel(kernel, undefined, options);
    if (!r.ok) throw new Error(r.message);
  });
  row(`${kernel.release}: boot + insmod + rmmod (${first.accel})`, loaded);
  row(`${kernel.release}: plain boot, same image and initramfs`, plain, `ratio ${(loaded / plain).toFixed(2)}`);
  const limit = plain * 1.15 + 1000;
  verdict(`boot ${kernel.release}`, loaded <= limit, `${(loaded / 1000).toFixed(2)} s vs limit ${(limit / 1000).toFixed(2)} s (plain boot x 1.15 + 1 s); ${first.accelWhy}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { inTreeModule, KERNELS, KERNEL_CACHE } = await import('../test/support/boot-kernels.js');
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  console.log(`verify --boot per kernel vs a plain boot of the same kernel and initramfs, median of ${runs}`);
  for (const kernel of [KERNELS.bookworm61amd64, KERNELS.bookworm61arm64]) {
    await benchBoot(kernel, await inTreeModule(kernel, 'kernel/lib/crc7.ko'), runs, KERNEL_CACHE);
  }
}
