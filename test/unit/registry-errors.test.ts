import { describe, expect, it } from 'vitest';
import { AuthError, describeErrorBody, DigestMismatchError, NotFoundError, orAbsent, RegistryError } from '../../src/adapters/registry/errors.js';

describe('registry error bodies', () => {
  it('reads the first error of the distribution spec body as code and message', () => {
    expect(describeErrorBody('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"OTHER"}]}')).toEqual({ code: 'MANIFEST_UNKNOWN', text: 'MANIFEST_UNKNOWN: manifest unknown' });
    expect(describeErrorBody('{"errors":[{"code":"DENIED"}]}')).toEqual({ code: 'DENIED', text: 'DENIED' });
    expect(describeErrorBody('{"errors":[{"message":"only a message"}]}')).toEqual({ code: undefined, text: 'only a message' });
  });

  it('falls back to the text, trimmed and cut at 200 characters, for anything else', () => {
    expect(describeErrorBody('  <html>gateway timeout</html>\n')).toEqual({ text: '<html>gateway timeout</html>' });
    expect(describeErrorBody('{"errors":[]}')).toEqual({ text: '{"errors":[]}' });
    expect(describeErrorBody('{}')).toEqual({ text: '{}' });
    expect(describeErrorBody('x'.repeat(500)).text).toHaveLength(200);
    expect(describeErrorBody(' null ')).toEqual({ text: 'null' });
    expect(describeErrorBody('"a string"')).toEqual({ text: '"a string"' });
    expect(describeErrorBody('{"errors":null}')).toEqual({ text: '{"errors":null}' });
    expect(describeErrorBody('{"errors":[null,{"code":"X"}]}')).toEqual({ text: '{"errors":[null,{"code":"X"}]}' });
    expect(describeErrorBody('')).toEqual({ text: '' });
  });

  it('keeps status, code and cause on every error type', () => {
    const cause = new Error('socket');
    const err = new RegistryError('broke', 502, 'UNAVAILABLE', { cause });
    expect([err.message, err.status, err.code, err.cause, err.name]).toEqual(['broke', 502, 'UNAVAILABLE', cause, 'RegistryError']);
    const plain = new RegistryError('plain');
    expect([plain.status, plain.code, plain.cause, 'cause' in plain]).toEqual([undefined, undefined, undefined, false]);
    const gone = new NotFoundError('gone', 200, 'MANIFEST_UNKNOWN');
    expect([gone.status, gone.code, gone instanceof RegistryError]).toEqual([200, 'MANIFEST_UNKNOWN', true]);
    const denied = new AuthError('denied', 403, 'DENIED');
    expect([denied.status, denied.code, denied instanceof RegistryError]).toEqual([403, 'DENIED', true]);
    expect(new AuthError('denied').status).toBeUndefined();
    const mismatch = new DigestMismatchError('bad bytes');
    expect([mismatch.name, mismatch.message, mismatch.status, mismatch instanceof RegistryError]).toEqual(['DigestMismatchError', 'bad bytes', undefined, true]);
  });

  it('names each error type, and only NotFoundError reads as absent', async () => {
    expect([new RegistryError('a'), new NotFoundError('b'), new AuthError('c')].map((e) => e.name)).toEqual(['RegistryError', 'NotFoundError', 'AuthError']);
    expect(new NotFoundError('b').status).toBe(404);
    expect(await orAbsent(Promise.reject(new NotFoundError('gone')))).toBeUndefined();
    expect(await orAbsent(Promise.resolve(7))).toBe(7);
    await expect(orAbsent(Promise.reject(new AuthError('denied', 401)))).rejects.toBeInstanceOf(AuthError);
  });
});
