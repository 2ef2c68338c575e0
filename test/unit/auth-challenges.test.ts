import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../src/adapters/registry/auth.js';

// A registry's WWW-Authenticate header is outside input: odd or broken ones must parse to what they say, or stop
// at the first thing that is not the grammar, never throw or loop.
describe('WWW-Authenticate edge cases', () => {
  it('stops at a character no token may hold, keeping what came before', () => {
    expect(parseChallenges('Bearer realm=/x,service=s')).toEqual([{ scheme: 'bearer', params: { realm: '' } }]);
    expect(parseChallenges('Basic realm="r", @')).toEqual([{ scheme: 'basic', params: { realm: 'r' } }]);
  });

  it('reads escapes, spaces around "=", an unterminated quote, a bare scheme and nothing', () => {
    expect(parseChallenges('Bearer realm="a\\"b\\\\c"')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b\\c' } }]);
    expect(parseChallenges('Bearer realm = "x" , service = y')).toEqual([{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }]);
    expect(parseChallenges('Bearer realm="abc')).toEqual([{ scheme: 'bearer', params: { realm: 'abc' } }]);
    expect(parseChallenges('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('  ,, ')).toEqual([]);
  });
});
