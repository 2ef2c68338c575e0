/**
 * `verify --boot` through the CLI: the build runs in a real buildah image and the module boots in the real
 * Debian kernel. The image is a stand-in builder (Debian's busybox-static and a `make` that writes, where Kbuild
 * would, the crc7.ko Debian built for 6.1.0-56-amd64): the compile is not what these tests are about, the boot
 * and its report are. The temporary repository's .cache is the repository's own, so packages download once.
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxFor } from '../../src/adapters/kernels/busybox.js';
import { makeRepo, runCli } from '../support/cli.js';
import { inTreeModule, KERNEL_CACHE, KERNELS, REPO_ROOT } from '../support/boot-kernels.js';

const IMAGE = 'localhost/bi-boot-standin:1';
const MAKE = ['#!/bin/sh', '# a stand-in builder: the module Debian built for this kernel, where Kbuild would write it', 'for a in "$@"; do case "$a" in M=*) cp /fixture/crc7.ko "${a#M=}/crc7.ko" ;; esac; done', ''].join('\n');
const kernel = KERNELS.bookworm61amd64;
let root: string;
let cleanup: () => void;

beforeAll(async () => {
  const busybox = await busyboxFor('x86_64', { cacheDir: KERNEL_CACHE, cwd: REPO_ROOT });
  const ko = await inTreeModule(kernel, 'kernel/lib/crc7.ko');
  const dir = mkdtempSync(join(tmpdir(), 'bi-standin-'));
  try {
    writeFileSync(join(dir, 'make'), MAKE, { mode: 0o755 });
    const ctr = (await execa('buildah', ['from', '--quiet', 'scratch'])).stdout.trim();
    await execa('buildah', ['copy', '--chmod', '0755', ctr, busybox, '/bin/busybox']);
    await execa('buildah', ['copy', ctr, ko, '/fixture/crc7.ko']);
    await execa('buildah', ['copy', '--chmod', '0755', ctr, join(dir, 'make'), '/usr/bin/make']);
    await execa('buildah', ['run', '--isolation', 'chroot', ctr, '--', '/bin/busybox', '--install', '-s', '/bin']);
    // A builder image has a /tmp: the sandboxed build (no capabilities) cannot create one in a root it may not write.
    await execa('buildah', ['run', '--isolation', 'chroot', ctr, '--', '/bin/busybox', 'mkdir', '-m', '1777', '/tmp']);
    await execa('buildah', ['commit', '--quiet', '--rm', ctr, IMAGE]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ({ root, cleanup } = makeRepo({ 'builder-images.yaml': 'repositories: [127.0.0.1:5000/builders]\nengine: buildah\n' }));
  symlinkSync(join(REPO_ROOT, '.cache'), join(root, '.cache'));
}, 300_000);
afterAll(() => cleanup?.());

const verify = (...extra: string[]) => runCli(['verify', `buildah:${IMAGE}`, '--gcc', '12.0.0', '--boot', ...extra, '--headers', ...kernel.headers], root);

describe('verify --boot (real buildah, real qemu, real Debian kernels)', () => {
  it('a module built for the kernel loads in it: the row passes with the boot verdict (json)', async () => {
    const r = await verify('--json');
    expect(r.code).toBe(0);
    const [row] = JSON.parse(r.stdout) as { verdict: string; message: string; boot: string; bootDetail: Record<string, unknown> }[];
    expect(row!.verdict).toBe('pass');
    expect(row!.message).toMatch(/^crc7\.ko: vermagic 6\.1\.0-56-amd64 .*; boot: loads in 6\.1\.0-56-amd64 \(.*\); unloads$/);
    expect(row!.boot).toBe('loads');
    expect(row!.bootDetail).toMatchObject({ verdict: 'loads', ok: true, release: '6.1.0-56-amd64', unloaded: true, kernelImage: `${kernel.image.location} (boot/vmlinuz-6.1.0-56-amd64)` });
    expect(r.stderr).toMatch(/^boot: 6\.1\.0-56-amd64 \(x86_64\) under (kvm|tcg) \(/m);
  }, 300_000);

  it('booted with a 6.12 kernel it is refused: the kernel\'s line in the table, exit 1', async () => {
    const r = await verify('--kernel-image', `${KERNELS.bookworm612amd64.image.location}#sha256=${KERNELS.bookworm612amd64.image.sha256}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^KERNEL\s+ARCH\s+IMAGE\s+GCC\s+VERDICT\s+SECONDS\s+BOOT$/m);
    expect(r.stdout).toMatch(/6\.1\.0-56-amd64\s+x86_64\s+localhost\/bi-boot-standin:1\s+12\.0\.0\s+fail\s+\S+\s+refused \((kvm|tcg), /);
    expect(r.stdout).toMatch(/boot: refused: module crc7: \.gnu\.linkonce\.this_module section size must match the kernel's built struct module size at run time/);
    expect(r.stdout).toMatch(/^ {4}\| module crc7: \.gnu\.linkonce\.this_module section size must match/m);
    expect(r.stdout).toMatch(/1 build\(s\): 0 passed, 1 failed/);
  }, 300_000);

  it('usage: the boot flags need --boot, the limit a number, a sha256 64 hex digits', async () => {
    const noBoot = await runCli(['verify', `buildah:${IMAGE}`, '--gcc', '12.0.0', '--kernel-image', 'x', '--headers', ...kernel.headers], root);
    expect(noBoot.code).toBe(2);
    expect(noBoot.stderr).toMatch(/--kernel-image needs --boot/);
    const badLimit = await verify('--boot-timeout', 'soon');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/--boot-timeout soon: give a number of seconds/);
    const badSha = await verify('--kernel-image', 'k#sha256=abc');
    expect(badSha.code).toBe(2);
    expect(badSha.stderr).toMatch(/--kernel-image k#sha256=abc: the sha256 after "#sha256=" must be 64 lower-case hex digits/);
  });
});
