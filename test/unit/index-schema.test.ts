import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildIndex, IndexParseError, parseIndex, renderIndex } from '../../src/core/index-schema.js';
import type { BuilderName } from '../../src/core/names.js';

const NAMES: BuilderName[] = [
  { target: 'any', arch: 'x86_64', gccVersions: ['8.0.0', '6.0.0'] },
  { target: 'any', arch: 'aarch64', gccVersions: ['12.0.0', '11.0.0'] },
  { target: 'centos', arch: 'x86_64', gccVersions: ['4.8.5'] },
  { target: 'any', arch: 'x86_64', gccVersions: ['12.0.0', '11.0.0'] },
];
const golden = (name: string) => readFileSync(new URL(`../fixtures/golden/${name}`, import.meta.url), 'utf8');

describe('index.yaml', () => {
  it('renders the golden file, in a stable order whatever the input order', () => {
    const text = renderIndex(buildIndex(NAMES, ['docker.io/falcosecurity/driverkit-builder'], ['latest', '0123456']));
    expect(text).toBe(golden('index.yaml'));
    expect(renderIndex(buildIndex([...NAMES].reverse(), ['docker.io/falcosecurity/driverkit-builder'], ['0123456', 'latest']))).toBe(text);
  });

  it('parses what it renders, keeping every value a string', () => {
    const entries = buildIndex(NAMES, ['ghcr.io/o/b'], ['1234567']);
    const parsed = parseIndex(renderIndex(entries));
    expect(parsed).toEqual(entries);
    expect(renderIndex(entries)).toContain('tag: "1234567"');
  });

  it.each([
    ['images:\n  - name: r:any-x86_64_gcc8.0.0-latest\n    target: any\n    arch: x86_64\n    tag: latest\n    gcc_versions: [8.0]\n', 2, /"gcc_versions.0" must be a string X\.Y\.Z/],
    ['images:\n  - name: a\n    target: any\n    arch: x86_64\n    tag: latest\n    gcc_versions: [8.0.0]\n  - name: b\n    target: any\n    arch: arm64\n    tag: latest\n    gcc_versions: [8.0.0]\n', 7, /image 2: "arch"/],
    ['images:\n  - name: b\n    target: any\n    tag: latest\n    gcc_versions: [8.0.0]\n', 2, /"arch"/],
    ['images:\n  - name: b\n    target: any\n    arch: x86_64\n    tag: latest\n    gcc_versions: [8.0.0]\n    extra: 1\n', 2, /extra/],
    ['images: [\n', 2, /not valid YAML/],
    ['imagez: []\n', 1, /"images"/],
  ])('reports the line of a bad entry (%#)', (text, line, message) => {
    try {
      parseIndex(text, 'idx.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IndexParseError);
      expect((err as IndexParseError).line).toBe(line);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message.startsWith(`idx.yaml:${line}: `)).toBe(true);
    }
  });
});
