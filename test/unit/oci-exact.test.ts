// The OCI vocabulary's small functions, branch by branch: platforms, media types, schema errors, manifests.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertDigest, digestAlgorithm, digestOf, isDigest, matchesDigest } from '../../src/core/digest.js';
import {
  asImageManifest,
  describeSchemaError,
  formatPlatform,
  ImageIndexSchema,
  isIndexMediaType,
  isManifestMediaType,
  LayoutIndexSchema,
  matchPlatform,
  MediaType,
  parseImageConfig,
  parseJsonDocument,
  parseManifestBytes,
  parsePlatform,
  platformMatches,
  sha256Digest,
  validateDocument,
  validateImageConfig,
  type ImageIndex,
  type Platform,
} from '../../src/core/oci.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: A, size: 2 }, layers: [{ mediaType: MediaType.OciLayerGzip, digest: B, size: 3 }] };
const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: MediaType.OciManifest, digest: A, size: 2, platform: { os: 'linux', architecture: 'amd64' } }] };
const errorOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('media types', () => {
  it.each([
    [MediaType.OciIndex, true, false],
    [MediaType.DockerManifestList, true, false],
    [MediaType.OciManifest, false, true],
    [MediaType.DockerManifest, false, true],
    [MediaType.OciConfig, false, false],
    [undefined, false, false],
  ])('%s: index %s, manifest %s', (type, isIndex, isManifest) => {
    expect(isIndexMediaType(type)).toBe(isIndex);
    expect(isManifestMediaType(type)).toBe(isManifest);
  });
});

describe('digests', () => {
  it('hashes exact bytes with either algorithm', () => {
    expect(sha256Digest('')).toBe(EMPTY_SHA256);
    expect(sha256Digest(new Uint8Array())).toBe(EMPTY_SHA256);
    expect(digestOf('')).toBe(EMPTY_SHA256);
    expect(digestOf('', 'sha512')).toBe(`sha512:${'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'}`);
    expect(digestAlgorithm(`sha512:${'0'.repeat(128)}`)).toBe('sha512');
    expect(digestAlgorithm(A)).toBe('sha256');
    expect(digestAlgorithm(`xsha512:${'0'.repeat(128)}`)).toBe('sha256');
    expect(matchesDigest(new Uint8Array(), EMPTY_SHA256)).toBe(true);
    expect(matchesDigest(new Uint8Array([1]), EMPTY_SHA256)).toBe(false);
    expect(matchesDigest(new Uint8Array(), digestOf('', 'sha512'))).toBe(true);
  });

  it('checks the grammar and names the bad value', () => {
    expect(isDigest(A)).toBe(true);
    expect(isDigest(42)).toBe(false);
    expect(isDigest({ toString: () => A })).toBe(false); // not a string, whatever it prints as
    expect(isDigest(`${A}0`)).toBe(false);
    expect(isDigest(`x${A}`)).toBe(false);
    expect(assertDigest(A, 'here')).toBe(A);
    expect(errorOf(() => assertDigest('sha256:../x', 'the index'))).toBe('the index: "sha256:../x" is not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)');
    expect(errorOf(() => assertDigest(7, 'w'))).toBe('w: 7 is not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)');
    expect(errorOf(() => assertDigest(undefined, 'w'))).toMatch(/^w: undefined is not/);
    expect(errorOf(() => assertDigest('x'.repeat(80), 'w'))).toBe(`w: "${'x'.repeat(80)}" is not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)`);
    expect(errorOf(() => assertDigest('x'.repeat(81), 'w'))).toBe(`w: "${'x'.repeat(80)}…" is not a valid digest (expected sha256:<64 lower-case hex> or sha512:<128 lower-case hex>)`);
  });
});

describe('platforms', () => {
  it('parses and formats os/arch[/variant]', () => {
    expect(parsePlatform('linux/arm64/v8')).toStrictEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    const plain = parsePlatform('linux/amd64');
    expect(plain).toStrictEqual({ os: 'linux', architecture: 'amd64' });
    expect(Object.keys(plain)).toEqual(['os', 'architecture']);
    expect(Object.keys(parsePlatform('linux/amd64/'))).toEqual(['os', 'architecture']);
    for (const bad of ['linux', 'linux/', '/amd64', '']) {
      expect(errorOf(() => parsePlatform(bad))).toBe(`"${bad}" is not a platform: use os/arch[/variant], e.g. linux/arm64`);
    }
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64', variant: '' })).toBe('linux/amd64');
  });

  const p = (os: string, architecture: string, variant?: string): Platform => (variant === undefined ? { os, architecture } : { os, architecture, variant });
  it.each([
    [undefined, p('linux', 'amd64'), false],
    [p('linux', 'amd64'), p('linux', 'amd64'), true],
    [p('windows', 'amd64'), p('linux', 'amd64'), false],
    [p('linux', 'arm64'), p('linux', 'amd64'), false],
    [p('linux', 'amd64'), p('linux', 'arm64'), false],
    [p('linux', 'arm64'), p('linux', 'arm64', 'v8'), true],
    [p('linux', 'arm64', 'v8'), p('linux', 'arm64'), true],
    [p('linux', 'arm64', 'v9'), p('linux', 'arm64'), false],
    [p('linux', 'arm64'), p('linux', 'arm64', 'v9'), false],
    [p('linux', 'arm64', 'v9'), p('linux', 'arm64', 'v9'), true],
    [p('linux', 'arm', 'v7'), p('linux', 'arm', 'v7'), true],
    [p('linux', 'arm', 'v7'), p('linux', 'arm'), false],
    [p('linux', 'arm'), p('linux', 'arm', 'v8'), false],
    [p('linux', 'amd64', 'v8'), p('linux', 'amd64'), false],
    [p('linux', 'amd64', 'v2'), p('linux', 'amd64', 'v2'), true],
    [p('unknown', 'unknown'), p('linux', 'amd64'), false],
    [p('linux', 'arm', 'v7'), p('linux', 'arm64', 'v7'), false],
    [p('linux', '386'), p('linux', 'amd64'), false],
  ])('%j matches %j: %s', (candidate, wanted, expected) => {
    expect(platformMatches(candidate, wanted)).toBe(expected);
  });

  it('picks the first matching child of an index', () => {
    const idx: ImageIndex = {
      schemaVersion: 2,
      manifests: [
        { mediaType: MediaType.OciManifest, digest: A, size: 1, platform: p('unknown', 'unknown') },
        { mediaType: MediaType.OciManifest, digest: B, size: 1 },
        { mediaType: MediaType.OciManifest, digest: A, size: 2, platform: p('linux', 'arm64', 'v8') },
        { mediaType: MediaType.OciManifest, digest: B, size: 3, platform: p('linux', 'arm64') },
      ],
    };
    expect(matchPlatform(idx, p('linux', 'arm64'))).toBe(idx.manifests[2]);
    expect(matchPlatform(idx, p('linux', 'amd64'))).toBeUndefined();
  });
});

describe('schema errors', () => {
  it('names the field path, array indexes in brackets', () => {
    const schema = z.object({ a: z.object({ b: z.array(z.object({ c: z.string() })) }) });
    const r = schema.safeParse({ a: { b: [{ c: 'x' }, { c: 1 }] } });
    expect(r.success).toBe(false);
    expect(describeSchemaError(r.error!)).toMatch(/^a\.b\[1\]\.c: /);
    const top = z.string().safeParse(1);
    expect(describeSchemaError(top.error!)).toMatch(/^\(top level\): /);
    const arr = z.array(z.string()).safeParse([1]);
    expect(describeSchemaError(arr.error!)).toMatch(/^\[0\]: /);
    expect(describeSchemaError(new z.ZodError([]))).toBe('invalid');
  });

  it('parses JSON from text or bytes and says what is wrong', () => {
    const schema = z.object({ n: z.number() });
    expect(parseJsonDocument(schema, '{"n":1}', 'w', 'k')).toEqual({ n: 1 });
    expect(parseJsonDocument(schema, Buffer.from('{"n":2}'), 'w', 'k')).toEqual({ n: 2 });
    expect(parseJsonDocument(schema, new TextEncoder().encode('{"n":3}'), 'w', 'k')).toEqual({ n: 3 });
    // text is parsed as given, not round-tripped through UTF-8 (which would replace a lone surrogate)
    expect(parseJsonDocument(z.string(), '"\uD800"', 'w', 'k')).toBe('\uD800');
    expect(errorOf(() => parseJsonDocument(schema, '{', 'file.json', 'thing'))).toMatch(/^file\.json: the thing is not valid JSON \(.+\)$/);
    expect(errorOf(() => parseJsonDocument(schema, '{"n":"x"}', 'file.json', 'thing'))).toMatch(/^file\.json: malformed thing: n: /);
    expect(errorOf(() => validateDocument(schema, {}, 'w', 'k'))).toMatch(/^w: malformed k: n: /);
    expect(validateImageConfig({ architecture: 'amd64', os: 'linux' }, 'c')).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(errorOf(() => validateImageConfig({ os: 'linux' }, 'c'))).toMatch(/^c: malformed image config: architecture: /);
    expect(parseImageConfig('{"architecture":"arm64","os":"linux","config":{"Labels":null}}', 'c').config).toEqual({ Labels: null });
  });
});

describe('manifest bytes', () => {
  it('reads the media type from the document, the header, or the shape', () => {
    expect(parseManifestBytes(bytes(manifest), undefined).mediaType).toBe(MediaType.OciManifest);
    expect(parseManifestBytes(bytes(manifest), `${MediaType.OciManifest}; charset=utf-8`).mediaType).toBe(MediaType.OciManifest);
    const { mediaType: _m, ...bare } = manifest;
    const { mediaType: _i, ...bareIndex } = index;
    expect(parseManifestBytes(bytes(bare), undefined).mediaType).toBe(MediaType.OciManifest);
    expect(parseManifestBytes(bytes(bareIndex), undefined).mediaType).toBe(MediaType.OciIndex);
    expect(parseManifestBytes(bytes(bare), 'application/json').mediaType).toBe(MediaType.OciManifest);
    expect(parseManifestBytes(bytes(bareIndex), 'text/plain').mediaType).toBe(MediaType.OciIndex);
    expect(parseManifestBytes(bytes(bareIndex), 'application/octet-stream').mediaType).toBe(MediaType.OciIndex);
    expect(parseManifestBytes(bytes(bareIndex), '').mediaType).toBe(MediaType.OciIndex);
    expect(parseManifestBytes(bytes(bare), MediaType.DockerManifest).mediaType).toBe(MediaType.DockerManifest);
    expect(parseManifestBytes(bytes(bareIndex), ` ${MediaType.DockerManifestList} ;x`).mediaType).toBe(MediaType.DockerManifestList);
    expect(parseManifestBytes(bytes(index), 'application/json').manifest).toEqual(index);
    expect(parseManifestBytes(bytes(manifest), 'text/plain').manifest).toEqual(manifest);
  });

  it('refuses a disagreement, an unknown type, a nested index and a malformed document', () => {
    expect(errorOf(() => parseManifestBytes(bytes(manifest), MediaType.DockerManifest, 'r/x:1'))).toBe(
      `r/x:1: the manifest says its media type is ${MediaType.OciManifest} but the registry sent ${MediaType.DockerManifest}`,
    );
    expect(errorOf(() => parseManifestBytes(bytes({ schemaVersion: 2 }), 'application/x-foo', 'r'))).toBe(
      'r: unsupported manifest media type application/x-foo (expected an OCI or Docker v2 image manifest or index)',
    );
    expect(errorOf(() => parseManifestBytes(bytes({ ...manifest, layers: [] }), undefined))).toBe('manifest: malformed manifest: layers: an image needs at least one layer');
    const nested = { ...index, manifests: [{ mediaType: MediaType.DockerManifestList, digest: A, size: 1 }] };
    expect(errorOf(() => parseManifestBytes(bytes(nested), undefined, 'r'))).toBe('r: malformed index: manifests[0].mediaType: an index nested in an index is not supported');
    expect(LayoutIndexSchema.safeParse(nested).success).toBe(true);
    expect(errorOf(() => parseManifestBytes(bytes({ ...manifest, mediaType: 5 }), undefined, 'r'))).toMatch(/^r: malformed manifest: mediaType: /);
    expect(ImageIndexSchema.safeParse(index).success).toBe(true);
    expect(errorOf(() => parseManifestBytes(Buffer.from('nope'), undefined, 'r'))).toMatch(/^r: the manifest is not valid JSON/);
  });

  it('wants an image manifest where one must be named', () => {
    const parsed = parseManifestBytes(bytes(manifest), undefined);
    expect(asImageManifest(parsed, 'r')).toBe(parsed.manifest);
    expect(errorOf(() => asImageManifest(parseManifestBytes(bytes(index), undefined), 'r'))).toBe(`r: expected an image manifest, found an index (${MediaType.OciIndex})`);
    expect(errorOf(() => asImageManifest({ mediaType: MediaType.DockerManifestList, manifest: { schemaVersion: 2, manifests: [] } }, 'r'))).toMatch(/found an index/);
  });
});
