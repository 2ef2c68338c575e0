/** A piece of text with the source offset of each character: what joining, flags and CSV fields pass along. */
import { traced } from './shell-lex.js';

export interface Piece {
  text: string;
  offsets: number[];
}

/** The text of a physical line from `from` on, each character at its own offset. */
export function pieceAt(text: string, start: number, from = 0): Piece {
  const rest = text.slice(from);
  return { text: rest, offsets: traced(rest, start + from).offsets };
}

export const slicePiece = (p: Piece, from: number, to = p.text.length): Piece => ({ text: p.text.slice(from, to), offsets: p.offsets.slice(from, to) });

export function trimPiece(p: Piece): Piece {
  // (white space only: the start is past the end, and the slice is empty)
  return slicePiece(p, p.text.length - p.text.trimStart().length, p.text.trimEnd().length);
}
