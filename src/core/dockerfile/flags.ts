/**
 * Instruction flags: BuildKit's extractBuilderFlags (leading `--name[=value]` words, quotes and escapes removed,
 * `--` ends them) and the CSV it reads `--mount` values as. Every character keeps its source offset.
 */
import type { Flag } from './ast.js';
import { slicePiece, type Piece } from './piece.js';

/** BuildKit's extractBuilderFlags: leading `--name[=value]` words, quotes and escapes removed, `--` ends them. */
export function extractFlags(line: Piece, escape: string): { flags: Flag[]; rest: Piece } {
  const words: Piece[] = [];
  const s = line.text;
  let pos = 0;
  for (;;) {
    while (/\s/.test(s.charAt(pos))) pos++; // charAt: '' past the end
    if (!s.startsWith('--', pos)) break;
    const word: Piece = { text: '', offsets: [] };
    let quote = '';
    for (; pos < s.length; pos++) {
      let ch = s[pos]!;
      if (!quote && /\s/.test(ch)) break;
      if (quote && ch === quote) {
        quote = '';
        continue;
      }
      if (!quote && (ch === "'" || ch === '"')) {
        quote = ch;
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === s.length) continue; // an escape at the end is skipped
        pos++;
        ch = s[pos]!;
      }
      word.text += ch;
      word.offsets.push(line.offsets[pos]!);
    }
    if (word.text === '--') return { flags: words.map(flagOf), rest: slicePiece(line, pos) };
    words.push(word); // never empty: it starts with --
  }
  return { flags: words.map(flagOf), rest: slicePiece(line, pos) };
}

function flagOf(word: Piece): Flag {
  const eq = word.text.indexOf('=');
  const name = (eq < 0 ? word.text : word.text.slice(0, eq)).slice(2);
  return eq < 0
    ? { name, value: undefined, text: word.text, valueOffsets: [] }
    : { name, value: word.text.slice(eq + 1), text: word.text, valueOffsets: word.offsets.slice(eq + 1) };
}

/** Comma-separated fields, `"…"` quoting with `""` for a quote (the CSV BuildKit reads --mount values as). */
export function csvFields(value: string, offsets: number[]): Piece[] {
  const fields: Piece[] = [];
  let field: Piece = { text: '', offsets: [] };
  let quoted = false;
  for (let k = 0; k < value.length; k++) {
    const ch = value[k]!;
    if (quoted) {
      if (ch === '"' && value[k + 1] === '"') {
        field.text += '"';
        field.offsets.push(offsets[k + 1]!);
        k++;
      } else if (ch === '"') quoted = false;
      else {
        field.text += ch;
        field.offsets.push(offsets[k]!);
      }
    } else if (ch === '"' && field.text === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = { text: '', offsets: [] };
    } else {
      field.text += ch;
      field.offsets.push(offsets[k]!);
    }
  }
  fields.push(field);
  return fields;
}
