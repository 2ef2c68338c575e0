/**
 * BuildKit's line parsers, the argument splitting each instruction uses: parseWords (ARG; quotes and escapes
 * kept as written), ENV/LABEL name-value pairs, the JSON (exec) form or a plain string, white-space words.
 */
import type { Instruction, Word } from './ast.js';

const WHITESPACE = /[\t\v\f\r ]+/;

export function splitWhitespace(rest: string): Word[] {
  const out: Word[] = [];
  const re = /[^\t\v\f\r ]+/g;
  for (const m of rest.matchAll(re)) out.push({ value: m[0], start: m.index });
  return out;
}

/** `["a", "b"]`: the strings, or an error for a JSON array of something else, or undefined when not JSON. */
function parseJson(rest: string): { words?: Word[]; error?: string } {
  // `rest` comes trimmed (the instruction's args, or HEALTHCHECK's command after its white space).
  if (!rest.startsWith('[')) return {};
  let list: unknown;
  try {
    list = JSON.parse(rest);
  } catch {
    return {};
  }
  if (!Array.isArray(list)) return {};
  if (!list.every((x) => typeof x === 'string')) return { error: 'when using JSON array syntax, arrays must be comprised of strings only' };
  return { words: (list as string[]).map((value) => ({ value, start: -1 })) };
}

/** The JSON form, or else white-space words (`toList`: COPY, ADD, VOLUME) or the whole line as one word. */
export function parseMaybeJson(ins: Instruction, rest: string, toList: boolean): string | undefined {
  if (rest === '' && !toList) return undefined;
  const json = parseJson(rest);
  if (json.error) return json.error;
  if (json.words) {
    ins.words = json.words;
    ins.json = true;
  } else ins.words = toList ? splitWhitespace(rest) : [{ value: rest, start: 0 }];
  return undefined;
}

/** BuildKit's parseWords: white-space separated words, quotes and escapes kept as written. */
export function parseWords(rest: string, escape: string): Word[] {
  const words: Word[] = [];
  let word = '';
  let start = -1;
  let quote = '';
  // (A word with quotes keeps them, so only a lone escape token at the end of the line makes an empty one.)
  const flush = () => {
    if (word.length > 0) words.push({ value: word, start });
    word = '';
    start = -1;
  };
  // One UTF-16 unit at a time: no character BuildKit treats specially (white space, quotes, escape) is outside the
  // BMP, and a surrogate pair is copied unit by unit into the same word.
  for (let pos = 0; pos < rest.length; ) {
    const ch = rest[pos]!;
    const space = !quote && isWhiteSpace(ch);
    if (start < 0) start = pos; // a space between words starts an empty one that flush drops
    if (space) {
      flush();
      pos++;
      continue;
    }
    if (!quote && (ch === "'" || ch === '"')) quote = ch;
    else if (quote && ch === quote) quote = '';
    pos++;
    // The escape token keeps itself and the next character (inside single quotes it is an ordinary character).
    if (ch === escape && quote !== "'") {
      if (pos >= rest.length) continue; // an escape token at the end of the line is skipped
      word += ch + rest[pos]!;
      pos++;
      continue;
    }
    word += ch;
  }
  flush();
  return words;
}

/** Go's unicode.IsSpace, which BuildKit splits words with: JavaScript's \s, plus NEL (U+0085), less U+FEFF. */
const isWhiteSpace = (ch: string) => ch === '\u0085' || (ch !== '\uFEFF' && /\s/.test(ch));

/** ENV and LABEL: `KEY value` (old form) or `KEY=value …`, as (key, value, separator) words. */
export function parseNameValue(ins: Instruction, rest: string, escape: string): string | undefined {
  const words = parseWords(rest, escape);
  if (words.length === 0) return undefined;
  if (!words[0]!.value.includes('=')) {
    const sep = WHITESPACE.exec(rest);
    if (!sep) return `${ins.keyword} must have two arguments`;
    const valueStart = sep.index + sep[0].length;
    ins.words = [
      { value: rest.slice(0, sep.index), start: 0 },
      { value: rest.slice(valueStart), start: valueStart },
      { value: '', start: -1 },
    ];
    return undefined;
  }
  for (const w of words) {
    const eq = w.value.indexOf('=');
    if (eq < 0) return `Syntax error - can't find = in "${w.value}". Must be of the form: name=value`;
    ins.words.push({ value: w.value.slice(0, eq), start: w.start }, { value: w.value.slice(eq + 1), start: w.start + eq + 1 }, { value: '=', start: -1 });
  }
  return undefined;
}
