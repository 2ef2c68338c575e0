import { describe, expect, it } from 'vitest';
import { candidateForImage, pickFromIndex, type VerifyKernel } from '../../src/app/verify.js';
import type { IndexEntry } from '../../src/core/index-schema.js';

const kernel = (release: string, arch: 'x86_64' | 'aarch64' = 'x86_64', target = 'debian'): VerifyKernel => ({
  release,
  releaseFrom: 'test',
  arch,
  target,
  packaging: 'deb',
  buildDir: `/usr/src/linux-headers-${release}`,
  mounts: [],
  sources: [],
});

describe('which image and GCC verify builds with', () => {
  it('from the index: the driver builder default GCC for the release, then select', () => {
    const entries: IndexEntry[] = [
      { name: 'r/b:any-x86_64_gcc11.0.0-latest', target: 'any', arch: 'x86_64', tag: 'latest', gcc_versions: ['11.0.0'] },
      { name: 'r/b:debian-x86_64_gcc12.0.0-latest', target: 'debian', arch: 'x86_64', tag: 'latest', gcc_versions: ['12.0.0'] },
    ];
    expect(pickFromIndex(kernel('6.1.0-56-amd64'), entries, 'latest')).toMatchObject({ image: 'r/b:debian-x86_64_gcc12.0.0-latest', gcc: '12.0.0' });
    expect(pickFromIndex(kernel('5.10.0-28-amd64'), entries, 'latest')).toMatchObject({ image: 'r/b:any-x86_64_gcc11.0.0-latest', gcc: '11.0.0' });
    expect(pickFromIndex(kernel('6.1.0-56-arm64', 'aarch64'), entries, 'latest')).toMatch(/no image in the index for target debian \(or any\), arch aarch64/);
  });

  it('for a built image (push --verify): only kernels of its arch and target, exact when it has the wanted GCC', () => {
    const gcc12 = { image: 'localhost/x', engine: 'buildah' as const, arch: 'x86_64' as const, target: 'any', gccVersions: ['12.0.0'] };
    expect(candidateForImage(kernel('6.1.0-56-amd64'), gcc12)).toMatchObject({ gcc: '12.0.0', exact: true, engine: 'buildah' });
    expect(candidateForImage(kernel('6.12.0-1-amd64'), gcc12)).toMatchObject({ gcc: '12.0.0', exact: false }); // wants 14
    expect(candidateForImage(kernel('6.1.0-56-arm64', 'aarch64'), gcc12)).toBeUndefined();
    expect(candidateForImage(kernel('6.1.0-56-amd64'), { ...gcc12, target: 'centos' })).toBeUndefined();
    expect(candidateForImage(kernel('6.1.0-56-amd64'), { image: 'docker.io/x:1' })).toMatch(/pass --gcc/);
  });
});
