/**
 * A tiny image for the sandbox tests, made from this machine's own files with no network: busybox-static (sh,
 * cat, kill, setsid, wget, ps…) and GNU make with the libraries it links. Enough for verify's in-image script and
 * a hostile headers Makefile; nothing compiles in it. Committed once per test run into the run's storage.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const APPLETS = ['sh', 'cat', 'cp', 'rm', 'mkdir', 'ls', 'wc', 'printf', 'find', 'tar', 'echo', 'kill', 'setsid', 'sleep', 'wget', 'ps', 'tr', 'grep', 'head', 'id', 'env', 'true'];

function librariesOf(bin: string): string[] {
  const out = execFileSync('ldd', [bin], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
}

export function buildSandboxImage(name = 'localhost/bi-sandbox-test:1'): string {
  const root = mkdtempSync(join(tmpdir(), 'bi-sandbox-img-'));
  try {
    mkdirSync(join(root, 'bin'), { recursive: true });
    mkdirSync(join(root, 'tmp'), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    copyFileSync('/usr/bin/make', join(root, 'usr/bin/make'));
    for (const lib of librariesOf('/usr/bin/make')) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    const c = execFileSync('buildah', ['from', 'scratch'], { encoding: 'utf8' }).trim();
    try {
      execFileSync('buildah', ['copy', c, `${root}/.`, '/'], { stdio: 'ignore' });
      execFileSync('buildah', ['config', '--env', 'PATH=/usr/bin:/bin', c], { stdio: 'ignore' });
      execFileSync('buildah', ['commit', '--quiet', c, name], { stdio: 'ignore' });
    } finally {
      execFileSync('buildah', ['rm', c], { stdio: 'ignore' });
    }
    return name;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
