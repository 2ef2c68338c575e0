/**
 * The word expander beyond BuildKit's own data (test/unit/buildkit-shell.test.ts): where each character comes from
 * (offsets), word splitting, the options (raw quotes and escapes, unset variables left as written), the variables
 * it reports, its exact error messages and its bounds.
 */
import { describe, expect, it } from 'vitest';
import { processWord, traced, type LexEnv, type LexOptions } from '../../src/core/dockerfile/shell-lex.js';

const envOf = (pairs: Record<string, string>): LexEnv => new Map(Object.entries(pairs).map(([k, v]) => [k, traced(v)]));
/** Offsets 0, 1, 2, … for each unit of `word`, as if it started the Dockerfile. */
const at0 = (word: string) => traced(word, 0).offsets;
const value = (word: string, env: Record<string, string> = {}, options: LexOptions = {}) => {
  const r = processWord(word, envOf(env), options);
  return r.ok ? r.value : `error: ${r.error}`;
};
const words = (word: string, env: Record<string, string> = {}) => {
  const r = processWord(word, envOf(env));
  return r.ok ? r.words : [`error: ${r.error}`];
};
const error = (word: string, env: Record<string, string> = {}, options: LexOptions = {}) => {
  const r = processWord(word, envOf(env), options);
  return r.ok ? `no error: ${r.value}` : r.error;
};

describe('traced', () => {
  it('numbers each unit from the start, or marks it made up (-1)', () => {
    expect(traced('abc', 5)).toEqual({ value: 'abc', offsets: [5, 6, 7] });
    expect(traced('ab', 0)).toEqual({ value: 'ab', offsets: [0, 1] });
    expect(traced('abc')).toEqual({ value: 'abc', offsets: [-1, -1, -1] });
    expect(traced('ab', -3)).toEqual({ value: 'ab', offsets: [-1, -1] });
    expect(traced('')).toEqual({ value: '', offsets: [] });
  });
});

describe('a word with nothing to expand', () => {
  it('is its own value, split at white space, with nothing looked up', () => {
    expect(processWord('a b\tc', new Map())).toEqual({
      ok: true,
      value: 'a b\tc',
      offsets: [-1, -1, -1, -1, -1],
      words: ['a', 'b', 'c'],
      matched: new Set(),
      unmatched: new Set(),
      missing: [],
    });
    expect(processWord('', new Map())).toMatchObject({ ok: true, value: '', offsets: [], words: [] });
    expect(processWord(' ', new Map())).toMatchObject({ words: [] });
    expect(processWord('ab', new Map())).toMatchObject({ words: ['ab'] });
    expect(processWord('  a  b ', new Map())).toMatchObject({ words: ['a', 'b'] });
  });

  it("keeps the caller's offsets as they are", () => {
    const offsets = [7, 9, 12];
    const r = processWord('abc', new Map(), {}, offsets);
    expect(r).toMatchObject({ ok: true, offsets: [7, 9, 12] });
    expect(r.ok && r.offsets).toBe(offsets);
  });
});

describe('offsets', () => {
  it('follow each character through quotes, escapes and substitutions', () => {
    // "a"\b$X: a from 1, b from 4, the value of X where X was written (20…)
    const env: LexEnv = new Map([['X', traced('xy', 20)]]);
    expect(processWord('"a"\\b$X', env, {}, at0('"a"\\b$X'))).toMatchObject({ ok: true, value: 'abxy', offsets: [1, 4, 20, 21] });
    expect(processWord("'a'", new Map())).toMatchObject({ value: 'a', offsets: [-1] });
    expect(processWord("'a'", new Map(), {}, [10, 0, 12])).toMatchObject({ value: 'a', offsets: [0] });
    expect(processWord('$', new Map(), {}, [3])).toMatchObject({ value: '$', offsets: [3] });
  });

  it('a surrogate pair is one character written at two consecutive offsets', () => {
    // Deliberately far apart offsets: a pair is pushed as one unit, from the offset of its first half.
    expect(processWord('"😀"', new Map(), {}, [0, 5, 9, 12])).toMatchObject({ value: '😀', offsets: [5, 6] });
    expect(processWord('"\udbff\udc00"', new Map(), {}, [0, 5, 9, 12])).toMatchObject({ offsets: [5, 6] });
    expect(processWord('"😀"', new Map())).toMatchObject({ value: '😀', offsets: [-1, -1] });
    // Characters above the surrogates are single units.
    expect(processWord('"ＡＢ"', new Map(), {}, [0, 5, 9, 12])).toMatchObject({ value: 'ＡＢ', offsets: [5, 9] });
    // A lone high surrogate at the end is kept as it is.
    expect(processWord('"a"\ud800', new Map(), {}, [0, 1, 2, 3])).toMatchObject({ value: 'a\ud800', offsets: [1, 3] });
  });

  it('a trimmed value keeps the offsets of what is left', () => {
    const env: LexEnv = new Map([['X', traced('abcba', 10)]]);
    expect(processWord('${X#a}', env)).toMatchObject({ value: 'bcba', offsets: [11, 12, 13, 14] });
    expect(processWord('${X%a}', env)).toMatchObject({ value: 'abcb', offsets: [10, 11, 12, 13] });
    expect(processWord('${X##*b}', env)).toMatchObject({ value: 'a', offsets: [14] });
    expect(processWord('${X%%b*}', env)).toMatchObject({ value: 'a', offsets: [10] });
    // A replacement is made up.
    expect(processWord('${X/b/B}', env)).toMatchObject({ value: 'aBcba', offsets: [-1, -1, -1, -1, -1] });
  });
});

describe('variable names', () => {
  it('are letters, digits and _, or one special parameter, or a run of digits', () => {
    expect(value('$A_B.', { A_B: 'v', A: 'a' })).toBe('v.');
    expect(value('$A1B', { A1B: 'v', A1: 'w' })).toBe('v');
    expect(value('$12x', { 12: 'v', 1: 'w' })).toBe('vx');
    expect(value('$1x', { 1: 'v', '1x': 'w' })).toBe('vx');
    expect(value('$@x', { '@': 'v' })).toBe('vx');
    expect(value('$0x', { 0: 'v' })).toBe('vx');
    expect(value('$ÄÖ٣', { ÄÖ٣: 'v' })).toBe('v');
    expect(value('${𐀀}', { '𐀀': 'v' })).toBe('v');
    expect(value('$-', { '-': 'v' })).toBe('v');
    expect(value('$.', {})).toBe('$.');
  });
});

describe('quotes and escapes', () => {
  it('keeps quotes with rawQuotes', () => {
    expect(value(`'a b'"c"`, {}, { rawQuotes: true })).toBe(`'a b'"c"`);
    expect(value(`'a b'"c"`)).toBe('a bc');
  });

  it('keeps escape tokens with rawEscapes, in and out of double quotes', () => {
    expect(value('a\\b', {}, { rawEscapes: true })).toBe('a\\b');
    expect(value('a\\b')).toBe('ab');
    expect(value('"\\$"', {}, { rawEscapes: true })).toBe('\\$');
    expect(value('"\\$"')).toBe('$');
    // Only " $ and the escape token are escaped in double quotes: the escape token stays (twice when raw, as BuildKit).
    expect(value('"\\a"')).toBe('\\a');
    expect(value('"\\a"', {}, { rawEscapes: true })).toBe('\\\\a');
    expect(value('"\\\\"')).toBe('\\');
    expect(value('"\\""')).toBe('"');
  });

  it('with the backtick escape token', () => {
    expect(value('a`$b\\c', {}, { escapeToken: '`' })).toBe('a$b\\c');
    expect(value('"`""', {}, { escapeToken: '`' })).toBe('"');
  });

  it('an escape at the end is dropped', () => {
    expect(processWord('ab\\', new Map())).toMatchObject({ ok: true, value: 'ab', words: ['ab'] });
  });

  it('the pattern of a trim or replacement keeps its escapes, and the escape state is restored after it', () => {
    expect(value('${X#a}\\y', { X: 'ab' })).toBe('by');
    expect(value('"${X#a}\\$"', { X: 'ab' })).toBe('b$');
    expect(value('${X/\\*/-}', { X: 'a*b' })).toBe('a-b');
  });

  it('unclosed quotes are errors', () => {
    expect(error("'ab")).toBe(`failed to process "'ab": unexpected end of statement while looking for matching single-quote`);
    expect(error('"ab')).toBe('failed to process ""ab": unexpected end of statement while looking for matching double-quote');
    expect(error('"ab\\')).toBe('failed to process ""ab\\": unexpected end of statement while looking for matching double-quote');
  });
});

describe('words', () => {
  it('split expanded values at white space; quoted text and escapes do not split', () => {
    expect(words('$X', { X: 'a  b' })).toEqual(['a', 'b']);
    expect(words('$X', { X: ' a ' })).toEqual(['a']);
    expect(words('"a  b" c')).toEqual(['a  b', 'c']);
    expect(words('a\\ b')).toEqual(['a b']);
    expect(words('x$X', { X: '\t\n\r\v\fy' })).toEqual(['x', 'y']);
    expect(words('"" a')).toEqual(['a']);
  });

  it("white space is Go's unicode.IsSpace, in both the fast and the expanding path", () => {
    for (const space of ['\u0085', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000']) {
      expect(words(`a${space}b`), JSON.stringify(space)).toEqual(['a', 'b']);
      expect(words(`'a'${space}b`), JSON.stringify(space)).toEqual(['a', 'b']);
    }
    for (const notSpace of ['\ufeff', '\u180e', '\u200b']) {
      expect(words(`a${notSpace}b`), JSON.stringify(notSpace)).toEqual([`a${notSpace}b`]);
      expect(words(`'a'${notSpace}b`), JSON.stringify(notSpace)).toEqual([`a${notSpace}b`]);
    }
  });

  it('a heredoc marker keeps the white space after it in its word', () => {
    expect(processWord('<< \t\rEOF x', new Map())).toMatchObject({ ok: true, value: '<< \t\rEOF x', words: ['<< \t\rEOF', 'x'] });
    expect(words('<<\tEOF')).toEqual(['<<\tEOF']);
    expect(words('<<\rEOF')).toEqual(['<<\rEOF']);
    expect(words('<< EOF')).toEqual(['<< EOF']);
    expect(words('<a b')).toEqual(['<a', 'b']);
    expect(words('< b')).toEqual(['<', 'b']);
    expect(processWord('<', new Map())).toMatchObject({ ok: true, value: '<', words: ['<'] });
  });
});

describe('variables reported', () => {
  it('matched, unmatched and missing', () => {
    const r = processWord('$A ${B} ${C:-$D} ${E:+$F}', envOf({ A: 'a', E: 'e' }));
    expect(r).toMatchObject({ ok: true, value: 'a   ', matched: new Set(['A', 'E']), unmatched: new Set(['B', 'C', 'D', 'F']) });
    expect(r.ok && r.missing).toEqual(['B', 'D', 'F']);
  });

  it('a default word counts only when it is used', () => {
    const miss = (word: string, env: Record<string, string>) => {
      const r = processWord(word, envOf(env));
      return r.ok ? r.missing : r.error;
    };
    expect(miss('${X:-$Y}', { X: 'x' })).toEqual([]);
    expect(miss('${X:-$Y}', {})).toEqual(['Y']);
    expect(miss('${X-$Y}', { X: '' })).toEqual([]);
    expect(miss('${X:+$Y}', {})).toEqual([]);
    expect(miss('${X:+$Y}', { X: '' })).toEqual([]);
    expect(miss('${X+$Y}', { X: '' })).toEqual(['Y']);
    expect(miss('${X?$Y}', { X: 'x' })).toEqual([]);
    expect(miss('${X#$Y}', {})).toEqual([]);
    expect(miss('$Z${X#$Y}', {})).toEqual(['Z']);
    expect(miss('${X}', { X: 'x' })).toEqual([]);
    expect(miss('$X', { X: '' })).toEqual([]);
  });
});

describe('skipUnsetEnv', () => {
  const skip = { skipUnsetEnv: true };
  it('leaves unset variables as written and expands set ones', () => {
    expect(value('$X.${X}', {}, skip)).toBe('$X.${X}');
    expect(value('$X.${X}', { X: 'v' }, skip)).toBe('v.v');
    expect(value('${X:-a}', {}, skip)).toBe('${X:-a}');
    expect(value('${X:-a}', { X: 'v' }, skip)).toBe('v');
    expect(value('${X/a/b}', {}, skip)).toBe('${X/a/b}');
    expect(value('${X/a/b}', { X: 'aa' }, skip)).toBe('ba');
    const r = processWord('$X', new Map(), skip);
    expect(r.ok && r.missing).toEqual([]);
  });

  it('without it, unset variables are empty', () => {
    expect(value('[$X][${X}][${X/a/b}][${X#a}][${X%a}]')).toBe('[][][][][]');
    expect(value('${X/a/b}', { X: 'aa' })).toBe('ba');
  });
});

describe('modifiers', () => {
  it('replace the first or every match, longest', () => {
    expect(value('${X/a*/-}', { X: 'baaa' })).toBe('b-');
    expect(value('${X/a/-}', { X: 'aaa' })).toBe('-aa');
    expect(value('${X//a/-}', { X: 'aaa' })).toBe('---');
    expect(value('${X//?/-}', { X: '😀a' })).toBe('--');
    expect(value('${X/?/-}', { X: '😀a' })).toBe('-a');
  });

  it('trim by code points', () => {
    expect(value('${X#?}', { X: '😀a' })).toBe('a');
    expect(value('${X%?}', { X: 'a😀' })).toBe('a');
  });

  it('trim the shortest or the longest prefix or suffix', () => {
    expect(value('${X#*a}', { X: 'bababa' })).toBe('baba');
    expect(value('${X##*a}', { X: 'bababa' })).toBe('');
    expect(value('${X%b*}', { X: 'bababa' })).toBe('baba');
    expect(value('${X%%b*}', { X: 'bababa' })).toBe('');
    expect(value('${X#}', { X: 'ab' })).toBe('ab');
    expect(value('${X%}', { X: 'ab' })).toBe('ab');
    expect(value('${X%ab}', { X: 'xab' })).toBe('x');
    expect(value('${X%\\*b}', { X: 'a*b' })).toBe('a');
    expect(value('${X%a\\*}', { X: 'ba*' })).toBe('b');
  });

  it('error messages', () => {
    expect(error('${')).toBe(`failed to process "\${": syntax error: missing '}'`);
    expect(error('${{}')).toBe('failed to process "${{}": syntax error: bad substitution');
    expect(error('${}}')).toBe('failed to process "${}}": syntax error: bad substitution');
    expect(error('${:}')).toBe('failed to process "${:}": syntax error: bad substitution');
    expect(error('${X')).toBe('failed to process "${X": unsupported modifier () in substitution');
    expect(error('${X=a}')).toBe('failed to process "${X=a}": unsupported modifier (=) in substitution');
    expect(error('${X:=a}')).toBe('failed to process "${X:=a}": unsupported modifier (:=) in substitution');
    expect(error('${X:#a}')).toBe('failed to process "${X:#a}": unsupported modifier (:#) in substitution');
    expect(error('${X:%a}')).toBe('failed to process "${X:%a}": unsupported modifier (:%) in substitution');
    expect(error('${X:-a')).toBe(`failed to process "\${X:-a": syntax error: missing '}'`);
    expect(error('${X/a')).toBe("failed to process \"${X/a\": syntax error: missing '/' in ${}");
    expect(error('${X/a/b')).toBe(`failed to process "\${X/a/b": syntax error: missing '}'`);
    expect(error('${X?}')).toBe('failed to process "${X?}": X: is not allowed to be unset');
    expect(error('${X?oops}')).toBe('failed to process "${X?oops}": X: oops');
    expect(error('${X:?}', { X: '' })).toBe('failed to process "${X:?}": X: is not allowed to be empty');
    expect(error('${X:?oops}', { X: '' })).toBe('failed to process "${X:?oops}": X: oops');
    expect(error('${X:?}')).toBe('failed to process "${X:?}": X: is not allowed to be unset');
    expect(value('${X?}', { X: '' })).toBe('');
    expect(value('${X:?}', { X: 'v' })).toBe('v');
  });

  it('an error at the end of the input, nested or not, is the missing }; elsewhere it is itself', () => {
    expect(error('${X:-${Y')).toBe(`failed to process "\${X:-\${Y": syntax error: missing '}'`);
    expect(error('${X:-${}}')).toBe('failed to process "${X:-${}}": syntax error: bad substitution');
  });

  it('invalid patterns name the pattern as written', () => {
    expect(error('${X#$P}', { X: 'ab', P: 'a\\' })).toBe("failed to process \"${X#$P}\": invalid pattern (a\\) in substitution: invalid escape '\\'");
    expect(error('${X#$P}', { X: 'ab', P: '\\a' })).toBe("failed to process \"${X#$P}\": invalid pattern (\\a) in substitution: invalid escape '\\a'");
    expect(error('${X%$P}', { X: 'ab', P: 'a\\' })).toBe("failed to process \"${X%$P}\": invalid pattern (a\\) in substitution: invalid escape '\\a'");
    expect(error('${X%$P}', { X: 'ab', P: 'b\\c' })).toBe("failed to process \"${X%$P}\": invalid pattern (b\\c) in substitution: invalid escape '\\c'");
    // An escaped } or / only keeps ${} open: the escape is not part of the pattern.
    expect(value('${X%\\}}', { X: 'a}' })).toBe('a');
    expect(value('${X/\\//-}', { X: 'a/b' })).toBe('a-b');
  });
});

describe('bounds', () => {
  it('a pattern costs (value length + 1) ^ stars, the unanchored replacement one star more, at most 1e8', () => {
    const x = (n: number) => ({ V: 'x'.repeat(n) });
    expect(value('${V#*a*a*a*b}', x(99))).toBe('x'.repeat(99)); // 100^4 = 1e8
    expect(error('${V#*a*a*a*b}', x(100))).toBe('failed to process "${V#*a*a*a*b}": pattern (*a*a*a*b) in substitution is too costly for a value of 100 characters');
    expect(value('${V%*a*a*a*b}', x(99))).toBe('x'.repeat(99));
    expect(error('${V%*a*a*a*b}', x(100))).toMatch(/pattern \(\*a\*a\*a\*b\) in substitution is too costly/);
    expect(value('${V/*a*a*b/y}', x(99))).toBe('x'.repeat(99));
    expect(error('${V/*a*a*b/y}', x(100))).toMatch(/too costly for a value of 100 characters/);
    // No star: one for the replacement's search.
    expect(value('${V/a/y}', x(20_000))).toBe('x'.repeat(20_000));
    // Escaped stars cost nothing.
    expect(value('${V#\\*\\*\\*\\*\\*}', x(200))).toBe('x'.repeat(200));
  });

  it('substitutions nest at most 64 deep, and sequential ones do not add up', () => {
    const nested = (n: number) => '${A:-'.repeat(n) + 'x' + '}'.repeat(n);
    expect(value(nested(64))).toBe('x');
    expect(error(nested(65))).toMatch(/: substitutions nested more than 64 deep$/);
    expect(value('$A'.repeat(100), { A: 'a' })).toBe('a'.repeat(100));
  });

  it('errors that are not about the word propagate', () => {
    const failing = new Map<string, ReturnType<typeof traced>>();
    failing.get = () => {
      throw new TypeError('env broke');
    };
    expect(() => processWord('$X', failing)).toThrow(TypeError);
    expect(() => processWord('${X:-$Y', failing)).toThrow('env broke');
  });
});
