/**
 * Heredocs (`<<EOF`, `<<-'EOF'`, `3<<EOF`…) as BuildKit reads them after RUN, COPY and ADD (and ONBUILD of one):
 * the names a line starts, in order, and the bodies up to each terminator.
 */
import type { DockerfileError, Heredoc, Instruction } from './ast.js';
import type { PhysicalLine } from './lines.js';
import { processWord } from './shell-lex.js';

const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

type HeredocName = Omit<Heredoc, 'content'>;

/** One word as a heredoc start (`<<EOF`, `<<-'EOF'`, `3<<EOF`…): its name, or undefined, or an error message. */
export function parseHeredoc(word: string): HeredocName | undefined | { error: string } {
  const m = HEREDOC_WORD.exec(word);
  if (!m) return undefined; // (`<<` alone: no word, below)
  const plain = processWord(m[3]!, new Map(), { skipUnsetEnv: true });
  if (!plain.ok) return { error: plain.error };
  if (plain.words.length !== 1) return undefined;
  // Quotes anywhere in the name (`<<'EOF'`, `<<E"O"F`) mean the content is not expanded.
  const raw = processWord(m[3]!, new Map(), { skipUnsetEnv: true, rawQuotes: true });
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  const name = plain.words[0]!;
  return { name, chomp: m[2] === '-', expand: raw.ok && quotes(name) === quotes(raw.words[0] ?? ''), fileDescriptor: Number(m[1] || 0) };
}

/** The heredocs an instruction line starts, in order, or an error message. */
export function heredocsOfLine(line: string): HeredocName[] | string {
  const words = processWord(line, new Map(), { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  if (!words.ok) return [];
  const out: HeredocName[] = [];
  for (const word of words.words) {
    const doc = parseHeredoc(word);
    if (doc && 'error' in doc) return doc.error;
    if (doc) out.push(doc);
  }
  return out;
}

/** Read the heredoc bodies after an instruction; returns the index of the next line. */
export function readHeredocs(ins: Instruction, line: string, lines: PhysicalLine[], i: number, errors: DockerfileError[]): number {
  const target = ins.keyword === 'ONBUILD' ? ins.sub : ins;
  // (A JSON form needs no check: outside its strings there is no word, let alone one starting with <<.)
  if (!target || !['RUN', 'COPY', 'ADD'].includes(target.keyword)) return i;
  const names = heredocsOfLine(line);
  if (typeof names === 'string') {
    errors.push({ line: ins.line, message: names });
    return i;
  }
  for (const doc of names) {
    let content = '';
    let closed = false;
    while (i < lines.length) {
      const l = lines[i]!;
      i++;
      ins.endLine = l.number;
      if ((doc.chomp ? l.text.replace(/^\t+/, '') : l.text) === doc.name) {
        closed = true;
        break;
      }
      content += l.raw;
    }
    if (!closed) errors.push({ line: ins.line, message: `unterminated heredoc <<${doc.name}` });
    ins.heredocs.push({ ...doc, content });
  }
  return i;
}
