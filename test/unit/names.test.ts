import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  diagnoseDockerfileName,
  formatArchTag,
  formatDockerfileName,
  formatImageTag,
  formatIndexTag,
  parseDockerfileName,
  parseImageTag,
  platformString,
  type BuilderName,
} from '../../src/core/names.js';
import { compareGccVersions, parseGccVersion, widenVersion } from '../../src/core/version.js';

const target = fc.stringMatching(/^[a-z0-9]{1,12}$/);
const arch = fc.constantFrom('x86_64' as const, 'aarch64' as const);
const num = fc.integer({ min: 0, max: 40 }).map(String);
const gcc = fc.tuple(num, num, num).map((p) => p.join('.'));
const gccs = fc.uniqueArray(gcc, { minLength: 1, maxLength: 4 });
const builderName = fc.record({ target, arch, gccVersions: gccs });
const version = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/);

describe('versions', () => {
  it('accepts only full X.Y.Z without leading zeros', () => {
    expect(parseGccVersion('12.2.0')).toEqual({ major: 12, minor: 2, patch: 0 });
    for (const bad of ['12', '12.2', '12.02.0', '12.2.0.1', 'v12.2.0', '12x2x0', ' 12.2.0', '']) {
      expect(parseGccVersion(bad)).toBeNull();
    }
  });
  it('orders numerically and widens short versions', () => {
    expect(compareGccVersions(parseGccVersion('4.10.0')!, parseGccVersion('4.9.4')!)).toBe(1);
    expect(widenVersion('4.8')).toEqual({ major: 4, minor: 8, patch: 0 });
    expect(widenVersion('a.b')).toBeNull();
  });
});

describe('Dockerfile names', () => {
  it('parses the documented example and keeps GCC order', () => {
    expect(parseDockerfileName('builder-any-x86_64_gcc8.0.0_gcc6.0.0.Dockerfile')).toEqual({
      target: 'any',
      arch: 'x86_64',
      gccVersions: ['8.0.0', '6.0.0'],
    });
    expect(platformString('aarch64')).toBe('linux/arm64');
  });

  it.each([
    'builder-any-x86_64_gcc8x0x0.Dockerfile', // unescaped dots in the published regex
    'builder-any-x86_64_gcc8.0.0.dockerfile',
    'xbuilder-any-x86_64_gcc8.0.0.Dockerfile', // unanchored start in the published regex
    'builder-any-x86_64_gcc8.0.0.Dockerfile.bak',
    'builder-any-x86_64_gcc6.0.Dockerfile',
    'builder-any-x86-64_gcc8.0.0.Dockerfile',
    'builder-any-amd64_gcc8.0.0.Dockerfile',
    'builder-Any-x86_64_gcc8.0.0.Dockerfile',
    'builder-cent-os-x86_64_gcc8.0.0.Dockerfile',
    'builder-any-x86_64_gcc8.0.0_gcc8.0.0.Dockerfile',
    'builder-any-x86_64.Dockerfile',
    'builder-any-x86_64_gcc08.0.0.Dockerfile',
    'builder-any-x86_64-gcc8.0.0.Dockerfile',
  ])('rejects %s', (name) => {
    expect(parseDockerfileName(name)).toBeNull();
    expect(diagnoseDockerfileName(name)).not.toBeNull();
  });

  it.each([
    ['builder-any-x86_64_gcc6.0.Dockerfile', 'builder-any-x86_64_gcc6.0.0.Dockerfile', /full X\.Y\.Z: "6\.0\.0"/],
    ['builder-any-x86-64_gcc8.0.0.Dockerfile', 'builder-any-x86_64_gcc8.0.0.Dockerfile', /written "x86_64"/],
    ['builder-any-arm64_gcc8.0.0.Dockerfile', 'builder-any-aarch64_gcc8.0.0.Dockerfile', /written "aarch64"/],
    ['Builder-CentOS-x86_64_gcc4.8.5.Dockerfile', 'builder-centos-x86_64_gcc4.8.5.Dockerfile', /lower case/],
    ['builder-any-x86_64_gcc8.0.0.dockerfile', 'builder-any-x86_64_gcc8.0.0.Dockerfile', /must be "\.Dockerfile"/],
    ['builder-any-x86_64-gcc8.0.0.Dockerfile', 'builder-any-x86_64_gcc8.0.0.Dockerfile', /underscore before "gcc"/],
    ['builder-any-x86_64_gcc8.0.0_gcc8.0.0.Dockerfile', 'builder-any-x86_64_gcc8.0.0.Dockerfile', /listed twice/],
    ['builder-any-x86_64_gcc12.Dockerfile', 'builder-any-x86_64_gcc12.0.0.Dockerfile', /"12\.0\.0"/],
  ])('explains %s and suggests %s', (name, suggestion, problem) => {
    const d = diagnoseDockerfileName(name)!;
    expect(d.suggestion).toBe(suggestion);
    expect(d.problems.join('\n')).toMatch(problem);
  });

  it('gives no suggestion where the fix is not obvious', () => {
    expect(diagnoseDockerfileName('builder-any-x86_64_gcc8x0x0.Dockerfile')!.suggestion).toBeUndefined();
    expect(diagnoseDockerfileName('builder-any-sparc_gcc8.0.0.Dockerfile')!.problems[0]).toMatch(/x86_64 or aarch64/);
    expect(diagnoseDockerfileName('builder-any-x86_64.Dockerfile')!.problems).toContain('at least one GCC version is needed, as "_gccX.Y.Z"');
  });

  it('round-trips every valid name (property)', () => {
    fc.assert(
      fc.property(builderName, (name: BuilderName) => {
        const file = formatDockerfileName(name);
        expect(parseDockerfileName(file)).toEqual(name);
        expect(diagnoseDockerfileName(file)).toBeNull();
      }),
    );
  });

  it('never parses a near miss (property)', () => {
    const mutations: ((s: string) => string)[] = [
      (s) => s.replace('.Dockerfile', '.dockerfile'),
      (s) => s.replace(/\.(\d+)_|\.(\d+)\.Dockerfile/, (m) => m.replace('.', 'x')),
      (s) => `x${s}`,
      (s) => `${s}~`,
      (s) => s.replace('x86_64', 'x86-64').replace('aarch64', 'arm64'),
      (s) => s.replace(/_gcc(\d+)\.(\d+)\.(\d+)/, '_gcc$1.$2'),
      (s) => s.replace('builder-', 'Builder-'),
      (s) => s.replace(/(_gcc[\d.]+)/, '$1$1'),
    ];
    fc.assert(
      fc.property(builderName, fc.integer({ min: 0, max: mutations.length - 1 }), (name, i) => {
        const mutated = mutations[i]!(formatDockerfileName(name));
        expect(parseDockerfileName(mutated)).toBeNull();
      }),
    );
  });
});

describe('image tags', () => {
  it('formats both forms', () => {
    const name: BuilderName = { target: 'any', arch: 'x86_64', gccVersions: ['8.0.0', '6.0.0'] };
    expect(formatArchTag(name, 'latest')).toBe('any-x86_64_gcc8.0.0_gcc6.0.0-latest');
    expect(formatIndexTag(name, 'abc123')).toBe('any_gcc8.0.0_gcc6.0.0-abc123');
  });

  it('parses versions that contain dashes and dots', () => {
    expect(parseImageTag('centos-x86_64_gcc4.8.5-0123abc-dirty-89abcde')).toEqual({
      target: 'centos', arch: 'x86_64', gccVersions: ['4.8.5'], version: '0123abc-dirty-89abcde',
    });
    expect(parseImageTag('any_gcc12.2.0-v1.2.3')).toEqual({ target: 'any', gccVersions: ['12.2.0'], version: 'v1.2.3' });
    expect(parseImageTag('any-x86_64_gcc12.2.0')).toBeNull();
    expect(parseImageTag('bookworm')).toBeNull();
  });

  it('round-trips per-arch and multi-arch tags (property)', () => {
    fc.assert(
      fc.property(builderName, version, fc.boolean(), (name, v, perArch) => {
        const tag = perArch ? { ...name, version: v } : { target: name.target, gccVersions: name.gccVersions, version: v };
        const text = formatImageTag(tag);
        fc.pre(text.length <= 128);
        expect(parseImageTag(text)).toEqual(tag);
      }),
    );
  });
});
