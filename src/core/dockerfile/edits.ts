/**
 * Edits, Renovate's half of a manager that updates: offset-exact rewriting of a Dockerfile's text. Only the
 * spans given change; formatting, comments and line endings stay byte for byte. The sites come from extract.ts.
 */
import { offsetsOf, type ParsedDockerfile } from './ast.js';

/** A contiguous range of the original text. */
export interface SourceSpan {
  start: number;
  end: number;
}

/**
 * Where characters [from, to) of an expanded value are written as one piece of the file, or undefined when they
 * come from several places (or were not written as such).
 */
export function writtenSpan(text: string, value: string, offsets: number[], from: number, to: number): SourceSpan | undefined {
  if (to <= from) return undefined;
  const start = offsets[from];
  if (start === undefined || start < 0) return undefined;
  for (let k = from; k < to; k++) if (offsets[k] !== start + (k - from)) return undefined;
  return text.slice(start, start + (to - from)) === value.slice(from, to) ? { start, end: start + (to - from) } : undefined;
}

/** What an edit at `offset` changes: its physical line, and the ARG default or directive it lands in. */
export function editPlace(parsed: ParsedDockerfile, offset: number): { line: number; via: 'instruction' | 'arg' | 'directive'; argName?: string } {
  const line = parsed.text.slice(0, offset).split('\n').length;
  if (parsed.syntax && offset >= parsed.syntax.start && offset <= parsed.syntax.start + parsed.syntax.value.length) return { line, via: 'directive' };
  for (const ins of parsed.instructions) {
    if (ins.keyword !== 'ARG') continue;
    for (const word of ins.words) {
      const eq = word.value.indexOf('=');
      if (eq < 0) continue;
      const offsets = offsetsOf(ins, { value: word.value.slice(eq + 1), start: word.start + eq + 1 });
      if (offset >= offsets[0]! && offset <= offsets[offsets.length - 1]! + 1) return { line, via: 'arg', argName: word.value.slice(0, eq) };
    }
  }
  return { line, via: 'instruction' };
}

/** Replace spans of the original text; spans must not overlap. Everything else stays byte for byte. */
export function applyEdits(text: string, edits: { start: number; end: number; replacement: string }[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let limit = Infinity;
  let insertedAt: number | undefined; // two insertions at one offset would have no order
  for (const e of sorted) {
    // (an edit starting where an insertion was made is sorted after it only if it is an insertion too)
    if (e.end > limit || e.start === insertedAt) throw new Error(`overlapping edits at offset ${e.start}`);
    out = out.slice(0, e.start) + e.replacement + out.slice(e.end);
    limit = e.start;
    insertedAt = e.start === e.end ? e.start : undefined;
  }
  return out;
}
