/**
 * Context paths: what a COPY/ADD reads from the build context. Sources are expanded with the stage's variables;
 * URLs, git repositories and unresolved ones cannot be read from the context.
 */
import type { EscapeToken, Instruction } from './ast.js';
import { processWord, type LexEnv } from './shell-lex.js';

export interface ContextSource {
  keyword: 'COPY' | 'ADD';
  line: number;
  /** Source paths after expansion, relative to the build context. */
  sources: string[];
  /** Sources that cannot be hashed from the context (URLs, git repositories, unresolved variables). */
  external: string[];
}

/** The build-context paths a COPY/ADD reads, each expanded with the stage's variables. */
export function contextSource(ins: Instruction, env: LexEnv, escape: EscapeToken): ContextSource {
  const entry: ContextSource = { keyword: ins.keyword as 'COPY' | 'ADD', line: ins.line, sources: [], external: [] };
  for (const word of ins.words.slice(0, -1)) {
    const p = word.value;
    if (p.startsWith('<<')) continue; // heredoc: content lives in the Dockerfile itself
    const r = processWord(p, env, { escapeToken: escape });
    const expanded = r.ok && r.missing.length === 0 ? r.value : null;
    if (expanded === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(expanded) || expanded.startsWith('git@')) entry.external.push(p);
    else entry.sources.push(expanded);
  }
  return entry;
}
