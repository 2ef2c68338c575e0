// Exact messages and boundaries of the reference parser (mutation tests: each case tells one branch apart).
import { describe, expect, it } from 'vitest';
import { apiHost, formatReference, isLoopbackRegistry, isSha256Digest, parseReference, repositoryName } from '../../src/core/reference.js';

const D = 'sha256:' + 'c'.repeat(64);
const message = (text: string): string => {
  try {
    parseReference(text);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('parseReference, exact results', () => {
  it.each([
    ['  debian:12  ', { registry: 'docker.io', repository: 'library/debian', tag: '12' }],
    ['debian', { registry: 'docker.io', repository: 'library/debian' }],
    ['localhost', { registry: 'docker.io', repository: 'library/localhost' }],
    ['a.b', { registry: 'docker.io', repository: 'library/a.b' }],
    ['a.b:1', { registry: 'docker.io', repository: 'library/a.b', tag: '1' }],
    ['org/img', { registry: 'docker.io', repository: 'org/img' }],
    ['Foo/bar', { registry: 'Foo', repository: 'bar' }],
    ['host:5000/bar', { registry: 'host:5000', repository: 'bar' }],
    ['registry-1.docker.io/x', { registry: 'docker.io', repository: 'library/x' }],
    ['registry-1.docker.io/o/x', { registry: 'docker.io', repository: 'o/x' }],
    ['index.docker.io/o/x', { registry: 'docker.io', repository: 'o/x' }],
    ['ghcr.io/x', { registry: 'ghcr.io', repository: 'x' }],
    [`x@${D}`, { registry: 'docker.io', repository: 'library/x', digest: D }],
    [`x@sha512:${'a'.repeat(128)}`, { registry: 'docker.io', repository: 'library/x', digest: `sha512:${'a'.repeat(128)}` }],
    ['a/b/c:t', { registry: 'docker.io', repository: 'a/b/c', tag: 't' }],
    ['a__b/c-d--e', { registry: 'docker.io', repository: 'a__b/c-d--e' }],
    [`x:${'t'.repeat(128)}`, { registry: 'docker.io', repository: 'library/x', tag: 't'.repeat(128) }],
    ['x:_t', { registry: 'docker.io', repository: 'library/x', tag: '_t' }],
  ])('%s', (text, expected) => {
    const ref = parseReference(text);
    expect(ref).toStrictEqual(expected);
    expect(Object.keys(ref)).toEqual(Object.keys(expected));
  });

  it.each([
    ['', 'invalid image reference "": it is empty'],
    ['   ', 'invalid image reference "   ": it is empty'],
    ['a\tb', 'invalid image reference "a\tb": it contains white space'],
    ['a b', 'invalid image reference "a b": it contains white space'],
    ['x@sha256:abc', 'invalid image reference "x@sha256:abc": "sha256:abc" is not a digest (expected sha256:<64 hex>)'],
    ['x@', 'invalid image reference "x@": "" is not a digest (expected sha256:<64 hex>)'],
    [`x@sha256:${'C'.repeat(64)}`, `invalid image reference "x@sha256:${'C'.repeat(64)}": "sha256:${'C'.repeat(64)}" is not a sha256 digest (expected 64 lower-case hex digits)`],
    [`x@sha256:${'c'.repeat(65)}`, `invalid image reference "x@sha256:${'c'.repeat(65)}": "sha256:${'c'.repeat(65)}" is not a sha256 digest (expected 64 lower-case hex digits)`],
    [`@${D}`, `invalid image reference "@${D}": the repository path is empty`],
    ['x:-t', 'invalid image reference "x:-t": "-t" is not a valid tag'],
    ['x:', 'invalid image reference "x:": "" is not a valid tag'],
    [`x:${'t'.repeat(129)}`, `invalid image reference "x:${'t'.repeat(129)}": "${'t'.repeat(129)}" is not a valid tag`],
    ['a_b.c/x', 'invalid image reference "a_b.c/x": "a_b.c" is not a valid registry host'],
    ['-a.b/x', 'invalid image reference "-a.b/x": "-a.b" is not a valid registry host'],
    ['ghcr.io/', 'invalid image reference "ghcr.io/": the repository path is empty'],
    ['a/', 'invalid image reference "a/": the repository path is empty'],
    ['/a', 'invalid image reference "/a": the repository path is empty'],
    ['ghcr.io/Org/x', 'invalid image reference "ghcr.io/Org/x": repository names must be lower case ("Org")'],
    ['a/-b', 'invalid image reference "a/-b": "-b" is not a valid repository path component'],
    ['a/b.', 'invalid image reference "a/b.": "b." is not a valid repository path component'],
  ])('rejects %j', (text, expected) => {
    expect(message(text)).toBe(expected);
  });

  it('limits the repository name to 255 characters, library/ included', () => {
    expect(parseReference(`ghcr.io/${'a'.repeat(255)}`).repository).toHaveLength(255);
    expect(message(`ghcr.io/${'a'.repeat(256)}`)).toBe(`invalid image reference "ghcr.io/${'a'.repeat(256)}": the repository name is longer than 255 characters`);
    expect(parseReference('a'.repeat(247)).repository).toHaveLength(255);
    expect(message('a'.repeat(248))).toMatch(/longer than 255 characters$/);
  });

  it('knows a sha256 digest', () => {
    expect(isSha256Digest(D)).toBe(true);
    expect(isSha256Digest(`sha256:${'c'.repeat(63)}`)).toBe(false);
    expect(isSha256Digest(`xsha256:${'c'.repeat(64)}`)).toBe(false);
    expect(isSha256Digest(`${D}x`)).toBe(false);
  });
});

describe('formatting and hosts', () => {
  it('formats every combination of tag and digest', () => {
    expect(formatReference({ registry: 'ghcr.io', repository: 'org/img' })).toBe('ghcr.io/org/img');
    expect(formatReference({ registry: 'ghcr.io', repository: 'org/img' }, { familiar: true })).toBe('ghcr.io/org/img');
    expect(formatReference({ registry: 'ghcr.io', repository: 'org/img', tag: '1' }, { familiar: true })).toBe('ghcr.io/org/img:1');
    expect(formatReference({ registry: 'ghcr.io', repository: 'org/img', digest: D })).toBe(`ghcr.io/org/img@${D}`);
    expect(formatReference({ registry: 'docker.io', repository: 'org/img', tag: 't' }, { familiar: true })).toBe('org/img:t');
    expect(formatReference({ registry: 'docker.io', repository: 'library/debian', tag: 't' }, { familiar: true })).toBe('debian:t');
    expect(formatReference({ registry: 'docker.io', repository: 'library/debian', tag: 't' }, { familiar: false })).toBe('docker.io/library/debian:t');
    expect(formatReference({ registry: 'docker.io', repository: 'library/debian', tag: 't' })).toBe('docker.io/library/debian:t');
    expect(formatReference({ registry: 'docker.io', repository: 'xlibrary/debian' }, { familiar: true })).toBe('xlibrary/debian');
    expect(repositoryName({ registry: 'r:1', repository: 'a/b' })).toBe('r:1/a/b');
  });

  it('maps only docker.io to its API host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('ghcr.io')).toBe('ghcr.io');
  });

  it.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['[::2]:5000', false],
    ['127.0.0.1', true],
    ['127.1.2.3:80', true],
    ['127.10.100.255', true],
    ['127.0.0.1234', false],
    ['127.0.1', false],
    ['1127.0.0.1', false],
    ['127.0.0.1.5', false],
    ['127a0.0.1', false],
    ['notlocalhost', false],
    ['localhost.example', false],
    ['10.0.0.1', false],
  ])('loopback %s: %s', (registry, expected) => {
    expect(isLoopbackRegistry(registry)).toBe(expected);
  });
});
