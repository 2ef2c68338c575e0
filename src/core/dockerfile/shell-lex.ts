/**
 * Word expansion as BuildKit's Dockerfile frontend does it (its `shell.Lex`): quotes, the escape token, `$VAR`,
 * `${VAR}`, `${VAR:-w}`, `${VAR-w}`, `${VAR:+w}`, `${VAR+w}`, `${VAR?w}`, `${VAR:?w}`, `${VAR#p}`, `${VAR##p}`,
 * `${VAR%p}`, `${VAR%%p}`, `${VAR/p/r}` and `${VAR//p/r}`. Conformance: BuildKit's envVarTest and wordsTest data
 * (test/fixtures/buildkit/shell).
 *
 * Every character of a result keeps where it was written (an offset in the Dockerfile, -1 when made up), so a
 * caller can find the one written span a part of an expanded reference comes from and rewrite exactly that.
 * Pure; bad input is a result with an error, never an exception.
 */

/** A string with the source offset of each UTF-16 unit (-1: not written anywhere). */
export interface Traced {
  value: string;
  offsets: number[];
}

export interface LexOptions {
  escapeToken?: '\\' | '`';
  /** Keep quote characters in the result (BuildKit's RawQuotes). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result (RawEscapes). */
  rawEscapes?: boolean;
  /** Leave unset variables as written (SkipUnsetEnv). */
  skipUnsetEnv?: boolean;
}

/** Variables in scope: a name maps to its value; an unset variable is absent. */
export type LexEnv = ReadonlyMap<string, Traced>;

export type LexResult =
  | {
      ok: true;
      value: string;
      offsets: number[];
      /** The expansion split into words at unquoted white space (BuildKit's ProcessWords). */
      words: string[];
      /** Variables looked up that had a value / had none. */
      matched: Set<string>;
      unmatched: Set<string>;
      /** Unset variables whose plain `$X` / `${X}` expansion went into the result. */
      missing: string[];
    }
  | { ok: false; error: string };

export function traced(value: string, start = -1): Traced {
  const offsets: number[] = [];
  for (let i = 0; i < value.length; i++) offsets.push(start < 0 ? -1 : start + i);
  return { value, offsets };
}

/** Characters that make a word more than its text (`<` only as part of `<<`, but rare enough to take the slow way). */
const SPECIAL = /[$'"\\`<]/;

/**
 * White space as Go's unicode.IsSpace (BuildKit splits words with it): JavaScript's `\s` differs, it lacks U+0085
 * (NEL) and has U+FEFF (BOM).
 */
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/; // BMP only: no u flag (a mutated \v would not parse with it)

/** Expand one word with the variables in `env`. `offsets` say where each unit of `word` was written. */
export function processWord(word: string, env: LexEnv, options: LexOptions = {}, offsets?: number[]): LexResult {
  if (!SPECIAL.test(word)) {
    // Nothing to expand, unquote or unescape: the word is its own value (most words of a Dockerfile).
    const words = word.split(SPACE).filter((w) => w !== '');
    return { ok: true, value: word, offsets: offsets ?? traced(word).offsets, words, matched: new Set(), unmatched: new Set(), missing: [] };
  }
  const lexer = new Lexer({ value: word, offsets: offsets ?? traced(word).offsets }, env, options);
  try {
    const { out, words } = lexer.processStopOn(null, options.rawEscapes ?? false);
    return { ok: true, value: out.value, offsets: out.offsets, words, matched: lexer.matched, unmatched: lexer.unmatched, missing: [...lexer.missing] };
  } catch (err) {
    if (err instanceof LexError) return { ok: false, error: `failed to process "${word}": ${err.message}` };
    throw err;
  }
}

class LexError extends Error {}

/** `${A:-${B:-…}}` deeper than this is refused: recursion on outside input must stay bounded. */
const MAX_NESTING = 64;

const EOF = '';

class Out implements Traced {
  value = '';
  offsets: number[] = [];
  push(ch: string, offset: number): void {
    for (let k = 0; k < ch.length; k++) {
      this.value += ch[k];
      this.offsets.push(offset < 0 ? -1 : offset + k);
    }
  }
  append(t: Traced): void {
    this.value += t.value;
    for (const o of t.offsets) this.offsets.push(o); // no spread: a value may be longer than the call stack
  }
}

/** Word splitting as BuildKit's wordsStruct: expanded variables split at white space, quoted text does not. */
class Words {
  private buf = '';
  readonly words: string[] = [];
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.buf.length !== 0) {
        this.words.push(this.buf);
        this.buf = '';
      }
    } else this.addRaw(ch);
  }
  /** BuildKit also marks the word started (inWord), which only matters together with a non-empty word: left out. */
  addRaw(s: string): void {
    this.buf += s;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  /** The words, once, at the end. */
  get(): string[] {
    if (this.buf.length > 0) this.words.push(this.buf);
    return this.words;
  }
}

// `ch` is always one code point (never EOF): no anchors needed.
const isSpace = (ch: string) => SPACE.test(ch);
const isDigit = (ch: string) => /\p{Nd}/u.test(ch);
const isLetter = (ch: string) => /\p{L}/u.test(ch);
const isSpecialParam = (ch: string) => '@*#?-$!0'.includes(ch);

class Lexer {
  private pos = 0;
  /** Set by each processStopOn. */
  private rawEscapes: boolean | undefined;
  private readonly escape: string;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  missing = new Set<string>();

  constructor(
    private readonly src: Traced,
    private readonly env: LexEnv,
    private readonly options: LexOptions,
  ) {
    this.escape = options.escapeToken ?? '\\';
  }

  private peek(): string {
    const s = this.src.value;
    if (this.pos >= s.length) return EOF;
    const unit = s.charCodeAt(this.pos);
    // A high surrogate takes its low one (slice stops at the end of a lone one).
    return unit >= 0xd800 && unit <= 0xdbff ? s.slice(this.pos, this.pos + 2) : s[this.pos]!;
  }

  private next(): { ch: string; offset: number } {
    const ch = this.peek();
    const offset = this.src.offsets[this.pos]!; // undefined past the end (EOF), where no caller reads it
    this.pos += ch.length;
    return { ch, offset };
  }

  /** Up to `stop.char` (consumed), or to the end (`stop` null): the input ending before the stop is `stop.missing`. */
  processStopOn(stop: { char: string; missing: string } | null, rawEscapes: boolean): { out: Out; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const out = new Out();
      const words = new Words();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (ch === stop?.char) {
          this.next();
          return { out, words: words.get() };
        }
        if (ch === '$') {
          const t = this.processDollar();
          out.append(t);
          words.addString(t.value);
        } else if (ch === '<') {
          const t = this.processPossibleHeredoc();
          out.append(t);
          words.addRaw(t.value);
        } else if (ch === "'" || ch === '"') {
          const t = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          out.append(t);
          words.addRaw(t.value);
        } else {
          const c = this.next();
          if (c.ch === this.escape) {
            if (this.rawEscapes) {
              words.addRaw(c.ch);
              out.push(c.ch, c.offset);
            }
            const escaped = this.next(); // the escape token escapes the next character; at the end, nothing
            words.addRaw(escaped.ch);
            out.push(escaped.ch, escaped.offset);
          } else {
            words.addChar(c.ch);
            out.push(c.ch, c.offset);
          }
        }
      }
      if (stop) throw new LexError(stop.missing);
      return { out, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): Traced {
    const out = new Out();
    const open = this.next();
    if (this.options.rawQuotes) out.push(open.ch, open.offset);
    for (;;) {
      const c = this.next();
      if (c.ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (c.ch === "'") {
        if (this.options.rawQuotes) out.push(c.ch, c.offset);
        return out;
      }
      out.push(c.ch, c.offset);
    }
  }

  private processDoubleQuote(): Traced {
    const out = new Out();
    const open = this.next();
    if (this.options.rawQuotes) out.push(open.ch, open.offset);
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const c = this.next();
        if (this.options.rawQuotes) out.push(c.ch, c.offset);
        return out;
      }
      if (p === '$') {
        out.append(this.processDollar());
        continue;
      }
      let c = this.next();
      if (c.ch === this.escape) {
        if (this.rawEscapes) out.push(c.ch, c.offset);
        const after = this.peek(); // at the end: the loop's next turn finds the quote unclosed
        if (after === '"' || after === '$' || after === this.escape) c = this.next(); // only these can be escaped
      }
      out.push(c.ch, c.offset);
    }
  }

  private lookup(name: string): Traced | undefined {
    const value = this.env.get(name);
    (value ? this.matched : this.unmatched).add(name);
    return value;
  }

  /** The default word of `${X:-word}` etc.: its missing variables count only when the word is used. */
  private processWordUntil(stop: string, rawEscapes: boolean, missingMessage: string): { out: Out; missingBefore: Set<string> } {
    const missingBefore = new Set(this.missing);
    try {
      return { out: this.processStopOn({ char: stop, missing: missingMessage }, rawEscapes).out, missingBefore };
    } catch (err) {
      // As BuildKit: any error at the end of the input (one in a nested substitution too) is the missing stop.
      if (err instanceof LexError && this.peek() === EOF) throw new LexError(missingMessage);
      throw err;
    }
  }

  private depth = 0;

  private processDollar(): Traced {
    if (++this.depth > MAX_NESTING) throw new LexError(`substitutions nested more than ${MAX_NESTING} deep`);
    try {
      return this.processDollarBody();
    } finally {
      this.depth--;
    }
  }

  private processDollarBody(): Traced {
    const dollar = this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return traced('$', dollar.offset);
      const value = this.lookup(name);
      if (!value && this.options.skipUnsetEnv) return traced(`$${name}`);
      if (!value) this.missing.add(name);
      return value ?? traced('');
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next().ch;
    let modifier = ch;
    let nullIsUnset = false;
    if (ch === '}') {
      const value = this.lookup(name);
      if (!value && this.options.skipUnsetEnv) return traced(`\${${name}}`);
      if (!value) this.missing.add(name);
      return value ?? traced('');
    }
    if (ch === '/') return this.processReplace(name);
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next().ch;
      modifier += ch;
    } else if (!'+-?#%'.includes(ch) || ch === EOF) {
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    const trims = ch === '#' || ch === '%';
    if (nullIsUnset && trims) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const { out: word, missingBefore } = this.processWordUntil('}', trims, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (!value && this.options.skipUnsetEnv) return traced(`\${${name}${modifier}${word.value}}`);
    const unsetOrNull = !value || (nullIsUnset && value.value === '');
    const dropWord = () => {
      this.missing = missingBefore;
    };
    switch (ch) {
      case '-':
        if (unsetOrNull) return word;
        dropWord();
        return value!;
      case '+':
        if (unsetOrNull) {
          dropWord();
          return traced('');
        }
        return word;
      case '?':
        if (!value) throw new LexError(`${name}: ${word.value || 'is not allowed to be unset'}`);
        if (nullIsUnset && value.value === '') throw new LexError(`${name}: ${word.value || 'is not allowed to be empty'}`);
        dropWord();
        return value;
      case '#':
      case '%': {
        dropWord();
        let pattern = word.value;
        const greedy = pattern.startsWith(ch);
        if (greedy) pattern = pattern.slice(1);
        const v = value ?? traced('');
        return ch === '%' ? trimSuffix(pattern, v, greedy) : trimPrefix(pattern, v, greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private processReplace(name: string): Traced {
    const all = this.peek() === '/';
    if (all) this.next();
    const { out: pattern } = this.processWordUntil('/', true, "syntax error: missing '/' in ${}");
    const { out: replacement } = this.processWordUntil('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (!value && this.options.skipUnsetEnv) return traced(`\${${name}/${pattern.value}/${replacement.value}}`);
    const v = value?.value ?? '';
    const re = shellPatternToRegex(pattern.value, true, false, v, all ? 'gu' : 'u');
    return traced(v.replace(re, () => replacement.value));
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next().ch;
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next().ch;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next().ch;
    }
    return name;
  }

  private processPossibleHeredoc(): Traced {
    const out = new Out();
    const first = this.next();
    out.push(first.ch, first.offset);
    if (this.peek() !== '<') return out;
    const second = this.next();
    out.push(second.ch, second.offset);
    // a heredoc may have white space between << and its word
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') {
      const c = this.next();
      out.push(c.ch, c.offset);
    }
    return out;
  }
}

/** Backtracking steps a pattern may cost at most: a Dockerfile is outside input, and lint must not hang on it. */
const PATTERN_BUDGET = 1e8;

/**
 * A shell wildcard pattern (`?` one character, `*` any run) as a regular expression for matching `value`.
 * BuildKit's Go regexps run in linear time; JavaScript's backtrack, about (n+1)^k steps for k stars, so a pattern
 * too costly for its value is refused instead of run.
 */
function shellPatternToRegex(pattern: string, greedy: boolean, anchored: boolean, value: string, flags: 'u' | 'gu', written = pattern): RegExp {
  const stars = (pattern.match(/(?<!\\)\*/g) ?? []).length + (anchored ? 0 : 1);
  if ((value.length + 1) ** stars > PATTERN_BUDGET) {
    throw new LexError(`pattern (${written}) in substitution is too costly for a value of ${value.length} characters`);
  }
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i]!;
    if (c === '*') {
      out += greedy ? '.*' : '.*?';
      continue;
    }
    if (c === '?') {
      out += '.';
      continue;
    }
    if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue; // escaped only so ${} does not end there
      i++;
      c = chars[i] ?? '';
      if (c !== '*' && c !== '?' && c !== '\\') throw new LexError(`invalid pattern (${written}) in substitution: invalid escape '\\${c}'`);
      out += '\\';
    } else if ('[]{}.+()|^$'.includes(c)) out += '\\';
    out += c;
  }
  return new RegExp(out, flags);
}

/** `written`: the pattern as written, for messages (trimSuffix hands over its reversal). */
function trimPrefix(pattern: string, value: Traced, greedy: boolean, written = pattern): Traced {
  const m = shellPatternToRegex(pattern, greedy, true, value.value, 'u', written).exec(value.value);
  if (!m) return value;
  const cut = m.index + m[0].length;
  return { value: value.value.slice(cut), offsets: value.offsets.slice(cut) };
}

/** Shortest/longest suffix: reverse both so the match is the leftmost one. */
function trimSuffix(pattern: string, value: Traced, greedy: boolean): Traced {
  const reversed = Array.from(value.value).reverse().join('');
  const kept = trimPrefix(reversePattern(pattern), traced(reversed), greedy, pattern).value.length;
  return { value: value.value.slice(0, kept), offsets: value.offsets.slice(0, kept) };
}

/** Reverse a pattern keeping each escape before the character it escapes. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const tokens: string[] = [];
  while (chars.length) {
    const c = chars.shift()!;
    tokens.push(c === '\\' && chars.length ? c + chars.shift()! : c);
  }
  return tokens.reverse().join('');
}
