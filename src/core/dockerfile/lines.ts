/**
 * Physical lines into logical ones, as BuildKit's parser joins them: the escape token last on a line (white space
 * after it ignored, not itself escaped) continues it, and comment and blank lines inside a continuation are
 * dropped. Each character keeps its source offset.
 */
import type { EscapeToken } from './ast.js';
import { pieceAt, type Piece } from './piece.js';

export interface PhysicalLine {
  /** Without the line ending. */
  text: string;
  /** With it (heredoc content keeps it). */
  raw: string;
  start: number;
  number: number;
}

export function splitLines(text: string): PhysicalLine[] {
  const lines: PhysicalLine[] = [];
  let start = text.startsWith('\uFEFF') ? 1 : 0; // a byte-order mark is not part of the first line
  let number = 1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    end = end < 0 ? text.length : end + 1;
    const raw = text.slice(start, end);
    lines.push({ text: raw.replace(/[\r\n]+$/, ''), raw, start, number });
    start = end;
    number++;
  }
  return lines;
}

export const isCommentLine = (s: string) => /^\s*#/.test(s);

/** BuildKit's continuation rule: the escape token last (white space after it ignored), not itself escaped. */
const CONTINUATION = { '\\': /([^\\])\\[ \t]*$|^\\[ \t]*$/, '`': /([^`])`[ \t]*$|^`[ \t]*$/ } as const;

function trimContinuation(piece: Piece, re: RegExp): { piece: Piece; continues: boolean } {
  const m = re.exec(piece.text);
  if (!m) return { piece, continues: false };
  const keep = m.index + (m[1]?.length ?? 0);
  return { piece: { text: piece.text.slice(0, keep), offsets: piece.offsets.slice(0, keep) }, continues: true };
}

export interface LogicalLine {
  joined: Piece;
  endLine: number;
  /** Index of the physical line after it. */
  next: number;
}

/**
 * The logical line starting at physical line `i` (not a comment), its text from column `lead` on: the lines its
 * continuations take in, joined.
 */
export function joinLogicalLine(lines: PhysicalLine[], i: number, lead: number, escape: EscapeToken): LogicalLine {
  const continuation = CONTINUATION[escape];
  const first = lines[i]!;
  let { piece, continues } = trimContinuation(pieceAt(first.text, first.start, lead), continuation);
  const joined: Piece = { text: piece.text, offsets: [...piece.offsets] };
  let endLine = first.number;
  let next = i + 1;
  while (continues && next < lines.length) {
    const line = lines[next]!;
    next++;
    endLine = line.number; // (no directive here: the first non-comment line ended them)
    // Comment lines and empty lines inside a continuation are dropped.
    if (isCommentLine(line.text) || line.text.trim() === '') continue;
    ({ piece, continues } = trimContinuation(pieceAt(line.text, line.start), continuation));
    joined.text += piece.text;
    for (const o of piece.offsets) joined.offsets.push(o); // no spread: a line may be longer than the call stack
  }
  return { joined, endLine, next };
}
