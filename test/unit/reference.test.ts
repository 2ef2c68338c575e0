import { describe, expect, it } from 'vitest';
import { apiHost, formatReference, InvalidReferenceError, isLoopbackRegistry, parseReference, tryParseReference } from '../../src/core/reference.js';

const D = 'sha256:' + 'c'.repeat(64);

describe('image references, the way Docker parses them', () => {
  it.each([
    ['debian', { registry: 'docker.io', repository: 'library/debian' }],
    ['debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
    [`debian:12@${D}`, { registry: 'docker.io', repository: 'library/debian', tag: '12', digest: D }],
    [`falcosecurity/driverkit-builder@${D}`, { registry: 'docker.io', repository: 'falcosecurity/driverkit-builder', digest: D }],
    ['docker.io/library/gcc:13', { registry: 'docker.io', repository: 'library/gcc', tag: '13' }],
    ['index.docker.io/library/gcc', { registry: 'docker.io', repository: 'library/gcc' }],
    ['localhost:5000/a/b:c', { registry: 'localhost:5000', repository: 'a/b', tag: 'c' }],
    ['localhost/a', { registry: 'localhost', repository: 'a' }],
    ['127.0.0.1:39999/x/y-z_w.v:1.0-rc', { registry: '127.0.0.1:39999', repository: 'x/y-z_w.v', tag: '1.0-rc' }],
    ['ghcr.io/org/img', { registry: 'ghcr.io', repository: 'org/img' }],
    ['[::1]:5000/img:1', { registry: '[::1]:5000', repository: 'img', tag: '1' }],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['Debian:12', /lower case/],
    ['debian:12@sha256:abc', /not a digest|sha256/],
    [`debian@sha256:${'C'.repeat(64)}`, /not a digest|sha256/],
    ['debian:-x', /not a valid tag/],
    ['ghcr.io/', /empty/],
    ['a//b', /empty/],
    ['a b', /white space/],
  ])('rejects %s', (text, message) => {
    expect(() => parseReference(text)).toThrow(message);
  });

  it('throws its own error class, not one that shadows JavaScript\'s ReferenceError', () => {
    let caught: unknown;
    try {
      parseReference('Debian:12');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidReferenceError);
    expect(caught).not.toBeInstanceOf(globalThis.ReferenceError);
    expect((caught as Error).name).toBe('InvalidReferenceError');
    expect(caught).toMatchObject({ reference: 'Debian:12' });
  });

  it('formats familiar and full forms, and knows the API host and loopback', () => {
    const ref = parseReference(`debian:12@${D}`);
    expect(formatReference(ref)).toBe(`docker.io/library/debian:12@${D}`);
    expect(formatReference(ref, { familiar: true })).toBe(`debian:12@${D}`);
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('10.0.0.1:5000')).toBe(false);
  });
});

describe('tryParseReference', () => {
  it('gives the reference, or undefined for text that is not one', () => {
    expect(tryParseReference('127.0.0.1:5000/debian:bookworm')).toMatchObject({ registry: '127.0.0.1:5000', repository: 'debian', tag: 'bookworm' });
    expect(tryParseReference('Not An Image')).toBeUndefined();
    expect(tryParseReference('')).toBeUndefined();
  });
});
