/**
 * BuildKit conformance of the Dockerfile parser: moby/buildkit's parser test data (test/fixtures/buildkit, copied
 * unchanged, see its README) run by our own runner. Each `testfiles/<case>/Dockerfile` must parse without errors
 * into the AST that `result` prints (BuildKit's Node.Dump format, rebuilt here from our instructions);
 * `testfiles-negative` must fail; `testfile-line` checks line numbers; directives.json holds the directive and
 * stage-cycle cases of BuildKit's Go tests as data.
 *
 * Left out on purpose:
 * - directives_test.go's `//syntax=` and JSON (`{"syntax": …}`) forms: BuildKit accepts them only to pick a
 *   frontend for files that are not Dockerfiles; to its Dockerfile parser (and to ours) `//syntax=x` is an
 *   unknown instruction, and this tool only reads Dockerfiles.
 * - the parser tests about warnings (empty continuation lines) and the 65535-byte line limit of Go's scanner:
 *   this parser reports neither (a blank line inside a continuation is dropped, as BuildKit does, silently).
 * - TestHeredocChomp: it tests a helper that strips tabs from content at build time, which this tool never does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Heredoc, type Instruction } from '../../src/core/dockerfile/ast.js';
import { extractImageReferences } from '../../src/core/dockerfile/extract.js';
import { heredocsOfLine, parseHeredoc } from '../../src/core/dockerfile/heredocs.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { parseWords } from '../../src/core/dockerfile/words.js';

const dir = join(import.meta.dirname, '../fixtures/buildkit');
const read = (...parts: string[]) => readFileSync(join(dir, ...parts), 'utf8');

/** Go's strconv.Quote. */
function goQuote(s: string): string {
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** One instruction as BuildKit's Node.Dump prints it. */
function dump(ins: Instruction): string {
  let out = ins.keyword.toLowerCase();
  if (ins.flags.length) out += ` [${ins.flags.map((f) => goQuote(f.text)).join(' ')}]`;
  if (ins.sub) out += ` (${dump(ins.sub)})`;
  for (const w of ins.words) out += ` ${goQuote(w.value)}`;
  return out.trim();
}

describe('BuildKit parser testfiles', () => {
  const cases = readdirSync(join(dir, 'testfiles')).sort();
  it('has its cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));
  it.each(cases)('%s', (name) => {
    const parsed = parseDockerfile(read('testfiles', name, 'Dockerfile'));
    // Only the parse layer: BuildKit checks stages and expands variables later, when it builds, and these files are
    // not all buildable (CMD without FROM, `ENV name='a\\'b'`…).
    const syntaxErrors = parsed.errors.filter((e) => !/before the first FROM|no FROM instruction|failed to process/.test(e.message));
    expect(syntaxErrors).toEqual([]);
    expect(parsed.instructions.map((i) => `(${dump(i)})`).join('\n') + '\n').toBe(read('testfiles', name, 'result'));
  });
});

describe('BuildKit parser testfiles-negative', () => {
  it.each(readdirSync(join(dir, 'testfiles-negative')).sort())('%s fails', (name) => {
    expect(parseDockerfile(read('testfiles-negative', name, 'Dockerfile')).errors).not.toEqual([]);
  });
});

describe('BuildKit testfile-line', () => {
  it('gives each instruction its first and last line', () => {
    const parsed = parseDockerfile(read('testfile-line', 'Dockerfile'));
    expect(parsed.instructions.map((i) => [i.line, i.endLine])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});

interface DirectiveCase {
  name: string;
  dockerfile: string;
  directives?: { name: string; value: string }[];
  syntax?: { value: string; line: number } | null;
  error?: string;
}

describe('BuildKit directive and stage-cycle cases', () => {
  const cases = JSON.parse(read('directives.json')) as DirectiveCase[];
  it.each(cases)('$name', (c) => {
    const parsed = parseDockerfile(c.dockerfile);
    if (c.directives) expect(parsed.directives.map(({ name, value }) => ({ name, value }))).toEqual(c.directives);
    if (c.syntax !== undefined) {
      expect(parsed.syntax ? { value: parsed.syntax.value, line: parsed.syntax.line } : null).toEqual(c.syntax);
      const site = extractImageReferences(parsed).find((s) => s.kind === 'syntax');
      expect(site?.resolved ?? null).toBe(c.syntax?.value ?? null);
    }
    if (c.error) expect(parsed.errors.map((e) => e.message).join('\n')).toContain(c.error);
  });
});

describe('BuildKit TestParseWords cases', () => {
  const cases = JSON.parse(read('parse-words.json')) as { input: string; words: string[] }[];
  it.each(cases)('$input', ({ input, words }) => {
    expect(parseWords(input, '\\').map((w) => w.value)).toEqual(words);
  });
});

interface HeredocCases {
  extracts: { dockerfile: string; heredocsAfterFirst: (Heredoc[] | null)[] };
  json: { dockerfile: string; heredocsAfterFirst: null[] };
  words: { valid: string[]; invalid: string[]; not: string[] };
  lines: { cases: [string, string[]][] };
}

describe('BuildKit heredoc cases (parser_heredoc_test.go as data)', () => {
  const cases = JSON.parse(read('heredocs.json')) as HeredocCases;
  it.each([
    ['TestParseExtractsHeredoc', cases.extracts],
    ['TestParseJSONHeredoc', cases.json],
  ] as const)('%s', (_name, c) => {
    const parsed = parseDockerfile(c.dockerfile);
    // BuildKit's parser passes unknown instructions (`INVALID`) on; its build rejects them, as our parser does.
    expect(parsed.errors.filter((e) => !e.message.startsWith('unknown instruction'))).toEqual([]);
    const heredocs = parsed.instructions.slice(1).map((i) => (i.heredocs.length ? i.heredocs : null));
    expect(heredocs).toEqual(c.heredocsAfterFirst);
  });
  it.each(cases.words.valid)('%s is a heredoc named EOF', (word) => expect(parseHeredoc(word)).toMatchObject({ name: 'EOF' }));
  it.each(cases.words.invalid)('%s is an error', (word) => expect(parseHeredoc(word)).toEqual({ error: expect.any(String) }));
  it.each(cases.words.not)('"%s" is not a heredoc', (word) => expect(parseHeredoc(word)).toBeUndefined());
  // BuildKit's runner checks each heredoc found against the name expected at its index, and so does ours. For
  // `RUN <<- EOF` it expects EOF but finds none (`<<-` and `EOF` are two words there): BuildKit reads no heredoc
  // in that line, neither do we.
  it.each(cases.lines.cases)('%s', (line, names) => {
    const docs = heredocsOfLine(line);
    expect(typeof docs).not.toBe('string');
    for (const [k, doc] of (docs as Heredoc[]).entries()) expect(doc.name).toBe(names[k]);
    if (line === 'RUN <<- EOF') expect(docs).toEqual([]);
    else expect((docs as Heredoc[]).length).toBe(names.length);
  });
});
