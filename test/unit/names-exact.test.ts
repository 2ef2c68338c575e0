// Builder names: every near-miss hint of diagnoseDockerfileName exactly, tag length limits, platforms and arches.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  archOfPlatform,
  diagnoseDockerfileName,
  isArch,
  isVersionTag,
  parseDockerfileName,
  parseImageTag,
  platformOfArch,
  sameImageSet,
} from '../../src/core/names.js';

const GENERIC = 'the name does not match builder-<target>-<arch>_gcc<X.Y.Z>[_gcc<X.Y.Z>…].Dockerfile';
const GOOD = 'builder-any-x86_64_gcc8.0.0.Dockerfile';
const notVersion = (v: string) => `"${v}" is not a GCC version: use a full X.Y.Z such as 12.2.0`;
const widenTo = (v: string, w: string) => `the GCC version "${v}" must be a full X.Y.Z: "${w}"`;
const separator = (v: string) => `write "_gcc${v}", with an underscore before "gcc" and nothing between "gcc" and the version`;
const badArch = (a: string) => `the arch "${a}" must be x86_64 or aarch64`;
const badTarget = (t: string) => `the target "${t}" must be letters and digits only ([a-z0-9]+; "any" for every target)`;

describe('diagnoseDockerfileName, exactly', () => {
  it.each<[string, string[], string | undefined]>([
    ['builder-any-x86_64_gcc8.0.0', ['the name must end in ".Dockerfile"'], GOOD],
    ['builder-any-x86_64_gcc8.0.0.DOCKERFILE', ['the ending must be ".Dockerfile" (not ".DOCKERFILE")'], GOOD],
    ['BUILDER-any-x86_64_gcc8.0.0.Dockerfile', ['names are lower case (except the ".Dockerfile" ending)'], GOOD],
    ['builder_any-x86_64_gcc8.0.0.Dockerfile', ['the name must start with "builder-"'], GOOD],
    ['builderany-x86_64_gcc8.0.0.Dockerfile', ['the name must start with "builder-"'], GOOD],
    ['any-x86_64_gcc8.0.0.Dockerfile', ['the name must start with "builder-"'], GOOD],
    ['xbuilder-any-x86_64_gcc8.0.0.Dockerfile', ['the name must start with "builder-"', badArch('any-x86_64')], undefined],
    ['builder-cent_os-x86_64_gcc8.0.0.Dockerfile', [badTarget('cent_os')], undefined],
    ['builder-cent.os-x86_64_gcc8.0.0.Dockerfile', [badTarget('cent.os')], undefined],
    ['builder--x86_64_gcc8.0.0.Dockerfile', [badTarget('')], undefined],
    ['builder-_gcc8.0.0.Dockerfile', [badTarget(''), badArch('')], undefined],
    ['builder-any_gcc8.0.0.Dockerfile', [badArch('')], undefined],
    ['builder-cent.os_gcc8.0.0.Dockerfile', [badTarget('cent.os'), badArch('')], undefined],
    ['builder-gcc-amd64_gcc8.0.0.Dockerfile', ['the arch "amd64" must be written "x86_64"'], 'builder-gcc-x86_64_gcc8.0.0.Dockerfile'],
    ['builder-any-x86_64-gcc-8.0.0.Dockerfile', [separator('8.0.0')], GOOD],
    ['builder-any-x86_64_gcc-8.0.0.Dockerfile', [separator('8.0.0')], GOOD],
    ['builder-any-x86_64-gcc8.0.0.Dockerfile', [separator('8.0.0')], GOOD],
    ['builder-any-x86_64_gcc8.0.0-xgcc9.0.0.Dockerfile', [separator('9.0.0')], 'builder-any-x86_64_gcc8.0.0_gcc9.0.0.Dockerfile'],
    ['builder-any-x86_64gcc8.0.0.Dockerfile', [badArch('x86_64gcc8.0.0'), 'at least one GCC version is needed, as "_gccX.Y.Z"'], undefined],
    ['builder-any-x86_64.Dockerfile', ['at least one GCC version is needed, as "_gccX.Y.Z"'], undefined],
    ['builder-any-x86_64_gcc8.0.0_gcc6.Dockerfile', [widenTo('6', '6.0.0')], 'builder-any-x86_64_gcc8.0.0_gcc6.0.0.Dockerfile'],
    ['builder-any-x86_64_gcc08.0.0.Dockerfile', [widenTo('08.0.0', '8.0.0')], GOOD],
    ['builder-any-x86_64_gcc8.10.Dockerfile', [widenTo('8.10', '8.10.0')], 'builder-any-x86_64_gcc8.10.0.Dockerfile'],
    ['builder-any-x86_64_gcc12345.0.0.Dockerfile', [notVersion('12345.0.0')], undefined],
    ['builder-any-x86_64_gcc.Dockerfile', [notVersion('')], undefined],
    ['builder-any-x86_64_gcc.8.Dockerfile', [notVersion('.8')], undefined],
    ['builder-any-x86_64_gcc+8.0.0.Dockerfile', [notVersion('+8.0.0')], undefined],
    ['builder-any-x86_64_gcc8.0e1.Dockerfile', [notVersion('8.0e1')], undefined],
    ['builder-any-x86_64_gcc1.2.3.4.Dockerfile', [notVersion('1.2.3.4')], undefined],
    ['builder-any-x86_64_gcc8.0.0x.Dockerfile', [notVersion('8.0.0x')], undefined],
    ['builder-any-x86_64_gcc8.0.0_gcc9.x.Dockerfile', [notVersion('9.x')], undefined],
    ['builder-any-x64_gcc8.Dockerfile', ['the arch "x64" must be written "x86_64"', widenTo('8', '8.0.0')], GOOD],
    ['builder-any-amd64_gcc8.0.0.Dockerfile', ['the arch "amd64" must be written "x86_64"'], GOOD],
    ['builder-any-aarch-64_gcc8.0.0.Dockerfile', ['the arch "aarch-64" must be written "aarch64"'], 'builder-any-aarch64_gcc8.0.0.Dockerfile'],
    ['builder-any-sparc_gcc8.0.0.Dockerfile', [badArch('sparc')], undefined],
    ['builder-any-x86_64_gcc8.0_gcc8.Dockerfile', [widenTo('8.0', '8.0.0'), widenTo('8', '8.0.0'), 'GCC 8.0.0 is listed twice'], GOOD],
    ['builder-any-x86_64_gcc8.0.0_gcc8.0.0_gcc8.0.0.Dockerfile', ['GCC 8.0.0 is listed twice', 'GCC 8.0.0 is listed twice'], GOOD],
    ['builder-any-x86_64_gcc8.0.0-.Dockerfile', [GENERIC], GOOD],
    ['builder-any-x86_64_gcc8.0.0.Dockerfile.bak', ['the name must end in ".Dockerfile"', 'names are lower case (except the ".Dockerfile" ending)', notVersion('8.0.0.dockerfile.bak')], undefined],
    ['Builder-Any-X64_gcc8.dockerfile', ['the ending must be ".Dockerfile" (not ".dockerfile")', 'names are lower case (except the ".Dockerfile" ending)', 'the arch "x64" must be written "x86_64"', widenTo('8', '8.0.0')], GOOD],
  ])('%s', (name, problems, suggestion) => {
    const d = diagnoseDockerfileName(name);
    expect(d).toStrictEqual(suggestion === undefined ? { problems } : { problems, suggestion });
  });

  it('is null for a valid name', () => {
    expect(diagnoseDockerfileName(GOOD)).toBeNull();
  });

  it('suggests only valid names (property)', () => {
    const piece = fc.constantFrom('builder', 'Builder', '-', '_', 'any', 'x86_64', 'x64', 'arm64', 'gcc', '-gcc', '_gcc', '8', '.', '0', '12', '.Dockerfile', '.dockerfile', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const d = diagnoseDockerfileName(pieces.join(''));
        if (d?.suggestion !== undefined) {
          expect(parseDockerfileName(d.suggestion)).not.toBeNull();
          expect(d.suggestion).not.toBe(pieces.join(''));
        }
      }),
    );
  });
});

describe('names: limits and small helpers', () => {
  it('refuses GCC parts the strict version grammar does not take', () => {
    expect(parseDockerfileName('builder-any-x86_64_gcc12345.0.0.Dockerfile')).toBeNull();
    expect(parseDockerfileName('builder-any-x86_64_gcc1234.0.0.Dockerfile')).toEqual({ target: 'any', arch: 'x86_64', gccVersions: ['1234.0.0'] });
    expect(parseImageTag('any-x86_64_gcc12345.0.0-latest')).toBeNull();
    expect(parseImageTag('any_gcc8.0.0_gcc12345.0.0-latest')).toBeNull();
    expect(parseImageTag('any_gcc8.0.0_gcc8.0.0-latest')).toBeNull();
  });

  it('takes tags up to 128 characters', () => {
    const prefix = 'any-x86_64_gcc8.0.0-';
    const at = prefix + 'v'.repeat(128 - prefix.length);
    expect(at).toHaveLength(128);
    expect(parseImageTag(at)).toEqual({ target: 'any', arch: 'x86_64', gccVersions: ['8.0.0'], version: 'v'.repeat(128 - prefix.length) });
    expect(parseImageTag(`${at}v`)).toBeNull();
  });

  it('knows version tags', () => {
    expect(isVersionTag('latest')).toBe(true);
    expect(isVersionTag('_1.2-3')).toBe(true);
    expect(isVersionTag('v'.repeat(128))).toBe(true);
    expect(isVersionTag('v'.repeat(129))).toBe(false);
    expect(isVersionTag('.x')).toBe(false);
    expect(isVersionTag('-x')).toBe(false);
    expect(isVersionTag('x/y')).toBe(false);
    expect(isVersionTag('x y')).toBe(false);
    expect(isVersionTag('')).toBe(false);
    expect(isVersionTag('ab')).toBe(true);
  });

  it('maps platforms and arches both ways', () => {
    expect(platformOfArch('x86_64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(platformOfArch('aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(archOfPlatform('linux/amd64')).toBe('x86_64');
    expect(archOfPlatform('linux/arm64')).toBe('aarch64');
    expect(archOfPlatform('linux/arm64/v8')).toBe('aarch64');
    expect(archOfPlatform('amd64')).toBe('x86_64');
    expect(archOfPlatform('x86_64')).toBe('x86_64');
    expect(archOfPlatform('arm64')).toBe('aarch64');
    expect(archOfPlatform('aarch64')).toBe('aarch64');
    expect(archOfPlatform('linux/aarch64')).toBe('aarch64');
    expect(archOfPlatform('linux/x86_64')).toBe('x86_64');
    expect(archOfPlatform('linux/riscv64')).toBeUndefined();
    expect(archOfPlatform('amd64/linux')).toBeUndefined();
    expect(archOfPlatform('')).toBeUndefined();
    expect(isArch('x86_64')).toBe(true);
    expect(isArch('aarch64')).toBe(true);
    expect(isArch('amd64')).toBe(false);
    expect(isArch('')).toBe(false);
  });

  it('groups names into one image set by target and GCC list', () => {
    const a = { target: 'any', arch: 'x86_64' as const, gccVersions: ['8.0.0', '6.0.0'] };
    expect(sameImageSet(a, { ...a, arch: 'aarch64' })).toBe(true);
    expect(sameImageSet(a, { ...a, target: 'centos' })).toBe(false);
    expect(sameImageSet(a, { ...a, gccVersions: ['6.0.0', '8.0.0'] })).toBe(false);
    expect(sameImageSet(a, { ...a, gccVersions: ['8.0.0'] })).toBe(false);
  });
});
