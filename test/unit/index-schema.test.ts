import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
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

describe('index.yaml for YAML 1.1 readers', () => {
  const yaml11Booleans = ['yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'Y', 'n', 'N'];

  it.each(yaml11Booleans)('quotes %s wherever a string holds it', (word) => {
    const entries = buildIndex([{ target: word.toLowerCase(), arch: 'x86_64', gccVersions: ['8.0.0'] }], ['ghcr.io/o/b'], [word]);
    const text = renderIndex(entries);
    expect(text).toContain(`tag: "${word}"`);
    expect(text).toContain(`target: "${word.toLowerCase()}"`);
    // A YAML 1.1 reader gets the strings back, not booleans.
    const read = parse(text, { version: '1.1' }) as { images: Record<string, unknown>[] };
    expect(read.images[0]!.tag).toBe(word);
    expect(parseIndex(text)).toEqual(entries);
  });

  it('quotes what either YAML 1.1 or 1.2 reads as another type, and nothing else', () => {
    for (const tag of ['1:20', '0b1', '1_000', '0o17', '0777', 'true', 'null', '1234567', '2001-12-14']) {
      expect(renderIndex(buildIndex(NAMES.slice(0, 1), ['r/o'], [tag])), tag).toContain(`tag: "${tag}"`);
    }
    for (const tag of ['latest', 'v1.2.3', 'main', 'yesterday', 'on-call', 'a1b2c3d']) {
      expect(renderIndex(buildIndex(NAMES.slice(0, 1), ['r/o'], [tag])), tag).toContain(`tag: ${tag}\n`);
    }
  });

  it('YAML 1.1 reads every value of a rendered index as the string it is (property)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/);
    fc.assert(
      fc.property(word, (tag) => {
        const text = renderIndex(buildIndex(NAMES.slice(0, 1), ['r/o'], [tag]));
        const read = parse(text, { version: '1.1' }) as { images: Record<string, unknown>[] };
        const core = parse(text) as { images: Record<string, unknown>[] };
        return read.images[0]!.tag === tag && core.images[0]!.tag === tag;
      }),
    );
  });
});
