/**
 * A real compiler image for the module and driver-builder-flow tests: the Debian bookworm base that
 * scripts/make-bases.sh makes (BASES_CACHE, default .cache/bases), plus from the Debian mirror what the driver
 * builder's flow runs (make, gcc-12 as /usr/bin/gcc-12.2.0, cc, cmake, curl, ar, xz, strip, modinfo). Built once
 * and kept as an OCI archive under .cache/test-images (keyed by this recipe); loaded into the test run's storage.
 * undefined when no base is there (the tests that need it say so and skip).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACKAGES = ['make', 'gcc-12', 'libc6-dev', 'cmake', 'curl', 'ca-certificates', 'binutils', 'xz-utils', 'kmod', 'bc', 'flex', 'bison', 'libelf-dev', 'cpio'];
const SETUP = `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${PACKAGES.join(' ')} && ln -sf gcc-12 /usr/bin/cc && ln -sf gcc-12 /usr/bin/gcc && ln -sf gcc-12 /usr/bin/gcc-12.2.0 && rm -rf /var/lib/apt/lists/*`;

export function toolchainImage(name = 'localhost/bi-toolchain-test:1'): string | undefined {
  const base = join(resolve(process.env.BASES_CACHE ?? '.cache/bases'), 'bookworm-amd64.tar');
  const key = createHash('sha256').update(SETUP).digest('hex').slice(0, 16);
  const archive = resolve('.cache/test-images', `toolchain-${key}.tar`);
  if (!existsSync(archive)) {
    if (!existsSync(base)) return undefined;
    const c = execFileSync('buildah', ['from', 'scratch'], { encoding: 'utf8' }).trim();
    try {
      execFileSync('buildah', ['add', c, base, '/'], { stdio: 'ignore' });
      execFileSync('buildah', ['run', '--isolation', 'chroot', c, '--', 'sh', '-c', SETUP], { stdio: 'ignore', timeout: 900_000 });
      execFileSync('buildah', ['commit', '--quiet', c, name], { stdio: 'ignore' });
    } finally {
      execFileSync('buildah', ['rm', c], { stdio: 'ignore' });
    }
    mkdirSync(resolve('.cache/test-images'), { recursive: true });
    execFileSync('buildah', ['push', '--quiet', name, `oci-archive:${archive}.part`], { stdio: 'ignore' });
    renameSync(`${archive}.part`, archive);
    return name;
  }
  const id = execFileSync('buildah', ['pull', '--quiet', `oci-archive:${archive}`], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('buildah', ['tag', id, name], { stdio: 'ignore' });
  return name;
}

/** bookworm's kernel headers packages, downloaded once with apt into .cache/test-headers (the mirror is reachable). */
export function bookwormHeaders(): string[] {
  const dir = resolve('.cache/test-headers');
  mkdirSync(dir, { recursive: true });
  const depends = execFileSync('apt-cache', ['depends', 'linux-headers-amd64'], { encoding: 'utf8' });
  const abi = /Depends: linux-headers-(.*)-amd64$/m.exec(depends)?.[1];
  if (!abi) throw new Error('apt knows no linux-headers-amd64 (apt-get update?)');
  const pkgs = [`linux-headers-${abi}-amd64`, `linux-headers-${abi}-common`, `linux-kbuild-${abi.replace(/\.0-.*/, '')}`];
  const uris = execFileSync('apt-get', ['download', '--print-uris', ...pkgs], { encoding: 'utf8' });
  const files = [...uris.matchAll(/^'\S+' (\S+)/gm)].map((m) => join(dir, m[1]!));
  if (!files.every((f) => existsSync(f))) execFileSync('apt-get', ['download', ...pkgs], { cwd: dir, stdio: 'ignore' });
  return files;
}
