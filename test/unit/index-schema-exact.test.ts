// index.yaml: ordering rules one by one and the exact error of each way an index can be wrong.
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { buildIndex, IndexParseError, renderIndex, MAX_ALIAS_COUNT, parseIndex, readsAsStringInYaml11, sortEntries, toPlainValue, type IndexEntry } from '../../src/core/index-schema.js';

const entry = (over: Partial<IndexEntry>): IndexEntry => ({ name: 'r/o:t', target: 'any', arch: 'x86_64', tag: 'latest', gcc_versions: ['8.0.0'], ...over });
const errorOf = (text: string): string => {
  try {
    parseIndex(text, 'i.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(IndexParseError);
    return (err as Error).message;
  }
  return 'no error';
};
const image = (fields: string) => `images:\n  - ${fields.split('\n').join('\n    ')}\n`;
const good = 'name: r:any-x86_64_gcc8.0.0-latest\ntarget: any\narch: x86_64\ntag: latest\ngcc_versions: ["8.0.0"]';

describe('sortEntries', () => {
  const order = (entries: IndexEntry[]) => sortEntries(entries).map((e) => entries.indexOf(e));

  it('orders by repository first, the tag after the last colon not being part of it', () => {
    const a = entry({ name: 'r/a:z', target: 'zz' });
    const b = entry({ name: 'r/b:a', target: 'aa' });
    expect(order([b, a])).toEqual([1, 0]);
    // a port is not a tag: localhost:5000/x without a tag sorts as its whole name
    const port = entry({ name: 'localhost:5000/x', target: 'zz' });
    const portTagged = entry({ name: 'localhost:5000/x:t', target: 'aa' });
    expect(order([port, portTagged])).toEqual([1, 0]);
    const plain = entry({ name: 'x', target: 'zz' });
    const tagged = entry({ name: 'x:t', target: 'aa' });
    expect(order([plain, tagged])).toEqual([1, 0]);
  });

  it('puts target any last, then orders targets, arches, GCC lists and tags', () => {
    expect(order([entry({ target: 'any' }), entry({ target: 'zzz' })])).toEqual([1, 0]);
    expect(order([entry({ target: 'zzz' }), entry({ target: 'any' })])).toEqual([0, 1]);
    expect(order([entry({ target: 'b' }), entry({ target: 'a' })])).toEqual([1, 0]);
    expect(order([entry({ arch: 'x86_64' }), entry({ arch: 'aarch64' })])).toEqual([1, 0]);
    expect(order([entry({ gcc_versions: ['10.0.0'] }), entry({ gcc_versions: ['9.0.0'] })])).toEqual([1, 0]);
    expect(order([entry({ gcc_versions: ['9.0.0', '1.0.0'] }), entry({ gcc_versions: ['9.0.0'] })])).toEqual([1, 0]);
    expect(order([entry({ gcc_versions: ['9.0.0', '2.0.0'] }), entry({ gcc_versions: ['9.0.0', '1.0.0'] })])).toEqual([1, 0]);
    expect(order([entry({ gcc_versions: ['9.0.0'] }), entry({ gcc_versions: ['9.0.0', '1.0.0'] })])).toEqual([0, 1]);
    expect(order([entry({ tag: 'b' }), entry({ tag: 'a' })])).toEqual([1, 0]);
    expect(order([entry({ tag: 'a' }), entry({ tag: 'b' })])).toEqual([0, 1]);
    expect(order([entry({ tag: 'a' }), entry({ tag: 'a' })])).toEqual([0, 1]);
  });

  it('builds one entry per repository, name and version with the per-arch tag', () => {
    const entries = buildIndex([{ target: 'c', arch: 'aarch64', gccVersions: ['4.8.5', '4.0.0'] }], ['r2', 'r1'], ['v2', 'v1']);
    expect(entries).toEqual([
      { name: 'r1:c-aarch64_gcc4.8.5_gcc4.0.0-v1', target: 'c', arch: 'aarch64', tag: 'v1', gcc_versions: ['4.8.5', '4.0.0'] },
      { name: 'r1:c-aarch64_gcc4.8.5_gcc4.0.0-v2', target: 'c', arch: 'aarch64', tag: 'v2', gcc_versions: ['4.8.5', '4.0.0'] },
      { name: 'r2:c-aarch64_gcc4.8.5_gcc4.0.0-v1', target: 'c', arch: 'aarch64', tag: 'v1', gcc_versions: ['4.8.5', '4.0.0'] },
      { name: 'r2:c-aarch64_gcc4.8.5_gcc4.0.0-v2', target: 'c', arch: 'aarch64', tag: 'v2', gcc_versions: ['4.8.5', '4.0.0'] },
    ]);
    expect(buildIndex([], ['r'], ['v'])).toEqual([]);
  });
});

describe('readsAsStringInYaml11', () => {
  it.each([
    ['latest', true],
    ['v1.2.3', true],
    ['yes', false],
    ['Off', false],
    ['null', false],
    ['~', false],
    ['123', false],
    ['1.5', false],
    ['abc', true],
    ['a1', true],
    ['1a', true],
    ['.inf', false],
    ['-', false],
    ['a-', true],
    ['@x', false],
    ['"q"', false],
    ['e0', false],
    ['E5', false],
    ['e+1', false],
    ['e1x', true],
    ['d0', true],
    ['f0', true],
    ['D0', true],
    ['F0', true],
  ])('%s: %s', (text, expected) => {
    expect(readsAsStringInYaml11(text)).toBe(expected);
  });
});

describe('parseIndex errors', () => {
  it('quotes tags the yaml library reads as floats in YAML 1.1 (e0), found by the YAML 1.1 property', () => {
    const text = renderIndex(buildIndex([{ target: 'any', arch: 'x86_64', gccVersions: ['8.0.0'] }], ['r'], ['e0']));
    expect(text).toContain('tag: "e0"');
    expect((parse(text, { version: '1.1' }) as { images: { tag: unknown }[] }).images[0]!.tag).toBe('e0');
  });

  it('accepts a good entry and an empty list', () => {
    expect(parseIndex(image(good))).toEqual([{ name: 'r:any-x86_64_gcc8.0.0-latest', target: 'any', arch: 'x86_64', tag: 'latest', gcc_versions: ['8.0.0'] }]);
    expect(parseIndex('images: []\n')).toEqual([]);
    // a name whose tag is not a builder tag is not checked against target and arch
    expect(parseIndex(image(good.replace('r:any-x86_64_gcc8.0.0-latest', 'r:custom')))).toHaveLength(1);
  });

  it.each([
    ['', 'i.yaml:1: expected a map with an "images" list'],
    ['- a\n', 'i.yaml:1: expected a map with an "images" list'],
    ['other: 1\n', 'i.yaml:1: expected a map with an "images" list'],
    ['images: []\nextra: 1\n', 'i.yaml:1: unknown key "extra" (only "images" is allowed)'],
    ['\n\nimages: 5\n', 'i.yaml:3: "images" must be a list'],
    ['? images\n', 'i.yaml:1: "images" must be a list'],
    ['images: []\n: 1\n', 'i.yaml:1: unknown key "null" (only "images" is allowed)'],
    ['images: [\n', 'i.yaml:2: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['images:\n  -\n', 'i.yaml:2: image 1: Invalid input: expected object, received null'],
    ['images:\n  - 5\n', 'i.yaml:2: image 1: Invalid input: expected object, received number'],
    [image(good.replace('target: any', 'target: Any')), 'i.yaml:2: image 1: "target" must be [a-z0-9]+ ("any" for every target)'],
    [image(good.replace('"8.0.0"', '"8.0"')), 'i.yaml:2: image 1: "gcc_versions.0" must be a full X.Y.Z version'],
    [image(good.replace('arch: x86_64', 'arch: aarch64')), 'i.yaml:2: image 1: name "r:any-x86_64_gcc8.0.0-latest" does not match its target/arch'],
    [image(good.replace('r:any-x86_64_gcc8.0.0-latest', 'r:any_gcc8.0.0-latest')), 'i.yaml:2: image 1: name "r:any_gcc8.0.0-latest" does not match its target/arch'],
    [image(good.replace('target: any', 'target: centos')), 'i.yaml:2: image 1: name "r:any-x86_64_gcc8.0.0-latest" does not match its target/arch'],
  ])('%j', (text, expected) => {
    expect(errorOf(text)).toMatch(new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('names index.yaml when no file is given', () => {
    expect(() => parseIndex('images: 5\n')).toThrow(/^index\.yaml:1: "images" must be a list$/);
  });

  it('says why YAML is not valid on the first line of the message only', () => {
    const message = errorOf('images:\n  - a: [\n');
    expect(message).toMatch(/^i\.yaml:\d+: not valid YAML: /);
    expect(message).not.toContain('\n');
  });

  it('refuses aliases that expand too far, and takes a small one', () => {
    const anchors = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 6; i++) anchors.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const doc = parseDocument(anchors.join('\n'));
    let caught: unknown;
    try {
      toPlainValue(doc, 'bomb.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IndexParseError);
    expect((caught as Error).message).toBe(`bomb.yaml:1: refused: its YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} times): write the values out`);
    expect(toPlainValue(parseDocument('a: &a [1]\nb: *a\n'), 'f')).toEqual({ a: [1], b: [1] });
    const text = `v: &v "8.0.0"\nimages:\n  - name: r:any-x86_64_gcc8.0.0-latest\n    target: any\n    arch: x86_64\n    tag: latest\n    gcc_versions: [*v]\n`;
    expect(errorOf(text)).toBe('i.yaml:1: unknown key "v" (only "images" is allowed)');
  });

  it('keeps the error class fields', () => {
    const err = new IndexParseError('f', 7, 'why');
    expect(err.name).toBe('IndexParseError');
    expect(err.message).toBe('f:7: why');
    expect([err.file, err.line, err.detail]).toEqual(['f', 7, 'why']);
  });
});
