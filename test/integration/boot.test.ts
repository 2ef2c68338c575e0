/**
 * verify --boot's core, for real: Debian's own kernels (from the mirror, cached in .cache/kernels) booted in
 * qemu (KVM where it boots, else TCG) with an initramfs of Debian's busybox-static, loading modules Debian built
 * for 6.1. The kernel's verdicts come from its console: a load, a refusal with its own line, and boots that never
 * reach init, each with the reason.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootKernel, type BootOptions } from '../../src/app/boot.js';
import { runQemu } from '../../src/adapters/qemu/run.js';
import { CleanupScope, runInScope } from '../../src/util/cleanup.js';
import { inTreeModule, KERNEL_CACHE, KERNELS, REPO_ROOT } from '../support/boot-kernels.js';

const options: BootOptions = { cacheDir: KERNEL_CACHE, cwd: REPO_ROOT, timeoutMs: 240_000 };
const CRC7 = 'kernel/lib/crc7.ko';

describe('boot: a module Debian built for 6.1', () => {
  it('loads in its own kernel (amd64), whose image comes from the package next to its headers; says which accelerator', async () => {
    const kernel = KERNELS.bookworm61amd64;
    const ko = await inTreeModule(kernel, CRC7);
    const r = await bootKernel(kernel, ko, { ...options, accel: 'auto' });
    expect(r.message).toMatch(/^loads in 6\.1\.0-56-amd64 \(/);
    expect(r).toMatchObject({ verdict: 'loads', ok: true, release: '6.1.0-56-amd64', unloaded: true });
    expect(r.kernelImage).toBe(`${kernel.image.location} (boot/vmlinuz-6.1.0-56-amd64)`);
    expect(['kvm', 'tcg']).toContain(r.accel);
    expect(r.accelWhy).toBeTruthy();
  }, 300_000);

  it('is refused by a 6.12 kernel, with the kernel\'s own line', async () => {
    const ko = await inTreeModule(KERNELS.bookworm61amd64, CRC7);
    const r = await bootKernel({ ...KERNELS.bookworm61amd64 }, ko, { ...options, kernelImage: KERNELS.bookworm612amd64.image });
    expect(r.verdict).toBe('refused');
    expect(r.ok).toBe(false);
    expect(r.release).toBe('6.12.107+deb12-amd64');
    expect(r.message).toMatch(/^refused: .*crc7: \.gnu\.linkonce\.this_module section size must match the kernel's built struct module size at run time$/);
    expect(r.kernelImage).toMatch(/\(boot\/vmlinuz-6\.12\.107\+deb12-amd64\)$/);
  }, 300_000);

  it('loads in its own kernel on arm64 (TCG on this host)', async () => {
    const kernel = KERNELS.bookworm61arm64;
    const ko = await inTreeModule(kernel, CRC7);
    const r = await bootKernel(kernel, ko, options);
    expect(r).toMatchObject({ verdict: 'loads', ok: true, release: '6.1.0-56-arm64', unloaded: true });
  }, 300_000);
});

describe('boot: a boot that never comes up is reported with its reason', () => {
  it('a kernel that cannot run init (a dynamic binary with no loader in the initramfs) panics: the panic line', async () => {
    const r = await bootKernel(KERNELS.bookworm61amd64, undefined, { ...options, busybox: { location: '/usr/bin/true' } });
    expect(r.verdict).toBe('no-boot');
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^boot failed: init never ran \(qemu exited 0\): Kernel panic - not syncing: No working init found/);
    expect(r.lastLines.some((l) => /Failed to execute \/init/.test(l))).toBe(true);
    expect(r.lastLines[r.lastLines.length - 1]).toMatch(/Kernel panic - not syncing: No working init found/);
  }, 300_000);

  it('a boot that does not finish within the limit is killed and reported with the last console lines', async () => {
    const ko = await inTreeModule(KERNELS.bookworm61amd64, CRC7);
    const r = await bootKernel(KERNELS.bookworm61amd64, ko, { ...options, accel: 'tcg', timeoutMs: 1500 });
    expect(r.verdict).toBe('no-boot');
    expect(r.message).toMatch(/^boot failed: init never ran \(killed at the 1\.5s limit\): /);
    expect(r.lastLines.length).toBeGreaterThan(0);
  }, 60_000);

  it('refuses a kernel image of the wrong arch before booting', async () => {
    const r = await bootKernel(KERNELS.bookworm61amd64, undefined, { ...options, kernelImage: KERNELS.bookworm61arm64.image });
    expect(r.verdict).toBe('error');
    expect(r.message).toMatch(/^boot not run: the kernel image .* is not an x86 bzImage \(arm64-Image\)/);
  }, 120_000);
});

describe('qemu process', () => {
  it('at the limit, the whole process group is killed and reaped (nothing qemu started lives on)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bi-qemu-group-'));
    try {
      const pidFile = join(dir, 'child.pid');
      const r = await runQemu('sh', ['-c', `sleep 600 & echo $! > ${pidFile}; echo "Linux version fake"; sleep 600`], { timeoutMs: 1000, maxConsoleBytes: 1024 });
      expect(r.outcome).toEqual({ kind: 'timeout', seconds: 1 });
      expect(r.kernelStarted).toBe(true);
      const grandchild = Number(await readFile(pidFile, 'utf8'));
      // Gone, or a zombie waiting for pid 1 to reap it: either way no longer running.
      const state = await readFile(`/proc/${grandchild}/stat`, 'utf8').then((t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3), () => 'gone');
      expect(['gone', 'Z']).toContain(state);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an interruption (SIGINT/SIGTERM through the run\'s scope) kills the group and nothing new starts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bi-qemu-int-'));
    try {
      const pidFile = join(dir, 'child.pid');
      const scope = new CleanupScope();
      const run = runInScope(scope, () => runQemu('sh', ['-c', `sleep 600 & echo $! > ${pidFile}; echo ready; sleep 600`], { timeoutMs: 120_000, maxConsoleBytes: 1024 }));
      for (let i = 0; i < 100 && !(await readFile(pidFile, 'utf8').catch(() => '')).trim(); i++) await new Promise((r) => setTimeout(r, 50));
      await scope.interrupt('SIGINT');
      const r = await run;
      expect(r.outcome.kind).toBe('exited');
      const grandchild = Number(await readFile(pidFile, 'utf8'));
      const state = await readFile(`/proc/${grandchild}/stat`, 'utf8').then((t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3), () => 'gone');
      expect(['gone', 'Z']).toContain(state);
      await expect(runInScope(scope, () => runQemu('sh', ['-c', 'true'], { timeoutMs: 1000, maxConsoleBytes: 10 }))).rejects.toThrow(/interrupted by SIGINT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops at the console cap and when the kernel prints nothing in the first-line window', async () => {
    const loud = await runQemu('sh', ['-c', 'while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done'], { timeoutMs: 30_000, maxConsoleBytes: 64 * 1024 });
    expect(loud.outcome).toEqual({ kind: 'output-cap', bytes: 64 * 1024 });
    expect(loud.console.length).toBeLessThanOrEqual(64 * 1024);
    const silent = await runQemu('sh', ['-c', 'echo Booting from ROM...; sleep 600'], { timeoutMs: 30_000, maxConsoleBytes: 1024, firstKernelLineMs: 500 });
    expect(silent).toMatchObject({ silent: true, kernelStarted: false, outcome: { kind: 'timeout', seconds: 0.5 } });
  });
});
