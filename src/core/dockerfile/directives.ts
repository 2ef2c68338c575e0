/**
 * Parser directives (`escape`, `syntax`, `check`, any case, white space around `#` and `=`) as BuildKit reads
 * them: only on the first lines, ending at the first line that is not one; and `# syntax=` as BuildKit's
 * DetectSyntax finds it (after a BOM and a `#!` line).
 */
import type { Directive, ParsedDockerfile } from './ast.js';
import type { PhysicalLine } from './lines.js';

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/** BuildKit's directive parser: one line at a time, done at the first line that is not a directive. */
export class DirectiveReader {
  private done = false;
  private readonly seen = new Set<string>();
  readonly found: (Directive & { valueStart: number })[] = [];

  /** `line` as BuildKit hands it over; `start` its offset. Returns an error message for a repeated directive. */
  read(line: string, start: number, number: number): string | undefined {
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const body = line.slice(1).replace(/^\s+/, '');
    const m = DIRECTIVE.exec(body);
    const name = m?.[1]!.toLowerCase();
    if (!m || !DIRECTIVES.has(name!)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name!)) return `only one ${name} parser directive can be used`;
    this.seen.add(name!);
    const valueStart = start + (line.length - body.length) + m[0].indexOf(m[2]!, m[1]!.length + 1);
    this.found.push({ name: name!, value: m[2]!, line: number, valueStart });
    return undefined;
  }
}

/** The `# syntax=` image as BuildKit's DetectSyntax finds it: after a BOM and a `#!` line, `#` in column 0. */
export function detectSyntax(lines: PhysicalLine[]): ParsedDockerfile['syntax'] {
  const reader = new DirectiveReader();
  const body = lines[0]?.text.startsWith('#!') ? lines.slice(1) : lines;
  for (const line of body) {
    if (reader.read(line.text, line.start, line.number) !== undefined) break; // (after the last directive, read does nothing)
  }
  const syntax = reader.found.find((d) => d.name === 'syntax');
  if (!syntax) return undefined;
  const value = syntax.value.split(' ')[0]!;
  return { value, start: syntax.valueStart, line: syntax.line };
}
