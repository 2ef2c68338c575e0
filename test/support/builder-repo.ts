/**
 * A small builder-images repository whose images need no emulation to build: FROM scratch + COPY of
 * per-arch files (a file with a real ELF header for the arch, and gcc links), chosen with TARGETARCH.
 * Its config turns the driver builder's contract off (`check: { contract: none }`): these images hold a compiler
 * and nothing else, and the tests using them are about building, checking the GCC links and publishing.
 */
import { chmodSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from './cli.js';
import { AARCH64, elfHeader, X86_64 } from './elf.js';
import { gitInitCommit } from './git.js';

export const SCRATCH_DOCKERFILE = 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH}/ /usr/bin/\n';

export function makeBuilderRepo(repository: string, extra: Record<string, string | Buffer | { link: string }> = {}): { root: string; cleanup: () => void } {
  const r = makeRepo({
    'builder-images.yaml': `repositories: [${repository}]\nengine: buildah\ncheck: { contract: none }\n`,
    'images/builder-any-x86_64_gcc12.0.0.Dockerfile': SCRATCH_DOCKERFILE,
    'images/builder-any-aarch64_gcc12.0.0.Dockerfile': { link: 'builder-any-x86_64_gcc12.0.0.Dockerfile' },
    'images/bin/amd64/x86_64-linux-gnu-gcc-12': elfHeader(X86_64),
    'images/bin/arm64/aarch64-linux-gnu-gcc-12': elfHeader(AARCH64),
    ...extra,
  });
  for (const [arch, real] of [['amd64', 'x86_64-linux-gnu-gcc-12'], ['arm64', 'aarch64-linux-gnu-gcc-12']] as const) {
    const dir = join(r.root, 'images/bin', arch);
    chmodSync(join(dir, real), 0o755);
    symlinkSync(real, join(dir, 'gcc-12'));
    symlinkSync('gcc-12', join(dir, 'gcc-12.0.0'));
  }
  gitInitCommit(r.root);
  return r;
}
