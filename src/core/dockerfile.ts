/**
 * Dockerfile parsing as BuildKit reads a Dockerfile, for what this toolkit needs: instructions with their lines,
 * every image a build pulls (the `# syntax=` frontend, FROM, COPY --from, RUN --mount from) with where each
 * character of the reference was written, and the build-context files COPY/ADD read. Pure: text in, data out;
 * it never throws on bad input but returns located errors, so lint can report a broken file as a finding.
 *
 * BuildKit's rules, checked against its own test data (test/fixtures/buildkit):
 * - parser directives (`escape`, `syntax`, `check`, any case, white space around `#` and `=`) only on the first
 *   lines, ending at the first line that is not one; `# syntax=` as BuildKit detects it (after a BOM/shebang);
 * - line continuations (comment and blank lines inside them are dropped), heredocs, `--flag=value` options with
 *   quotes, and each instruction's own argument parser (ARG words, ENV/LABEL pairs, JSON forms…);
 * - word expansion by shell-lex.ts: global ARGs (before the first FROM) are expanded in order with the ARGs
 *   before them and are what FROM sees; in a stage, ARG and ENV values are expanded with the stage's variables,
 *   and `ARG NAME` without a value takes the global one;
 * - `COPY --from` and `RUN --mount=from=` name a stage (by name, COPY also by index) or an image, never with
 *   variables; a stage copying from itself or from a later stage is an error (circular dependency).
 */
import { processWord, traced, type LexEnv, type Traced } from './shell-lex.js';

export interface DockerfileError {
  line: number;
  message: string;
}

export interface Flag {
  name: string;
  /** Undefined for a bare `--flag`. Quotes and escapes removed, as BuildKit does. */
  value: string | undefined;
  /** The flag as BuildKit sees it, e.g. `--from=build`. */
  text: string;
  /** Source offset of each character of `value`. */
  valueOffsets: number[];
}

/** One argument as BuildKit's line parser for the instruction splits them. */
export interface Word {
  value: string;
  /** Index of its first character in `Instruction.args`, -1 for JSON-form words. */
  start: number;
}

export interface Heredoc {
  name: string;
  /** `3<<EOF`: the file descriptor it feeds (0 when not written). */
  fileDescriptor: number;
  /** `<<-`: leading tabs are stripped. */
  chomp: boolean;
  /** Unquoted name: the content is expanded. */
  expand: boolean;
  /** The lines up to the terminator, line endings included. */
  content: string;
}

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY… */
  keyword: string;
  /** The arguments after the flags, continuations joined (escape + newline removed), trimmed. */
  args: string;
  /** Source offset of each character of `args` in the original text. */
  argOffsets: number[];
  /** 1-based first and last physical line. */
  line: number;
  endLine: number;
  /** Leading `--name[=value]` options, in order. */
  flags: Flag[];
  /** BuildKit's parse of `args`: its words (ENV/LABEL: key, value, separator for each pair). */
  words: Word[];
  /** The JSON (exec) form was used. */
  json: boolean;
  /** ONBUILD's instruction. */
  sub?: Instruction;
  heredocs: Heredoc[];
}

export interface Directive {
  name: string;
  value: string;
  line: number;
}

export interface ParsedDockerfile {
  instructions: Instruction[];
  errors: DockerfileError[];
  escape: '\\' | '`';
  /** Parser directives at the top of the file, names in lower case. */
  directives: Directive[];
  /** The frontend image of a `# syntax=` directive, where BuildKit finds it. */
  syntax?: { value: string; start: number; line: number };
  /** The text the offsets refer to. */
  text: string;
}

const KNOWN = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

interface PhysicalLine {
  /** Without the line ending. */
  text: string;
  /** With it (heredoc content keeps it). */
  raw: string;
  start: number;
  number: number;
}

function splitLines(text: string): PhysicalLine[] {
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

// ---------------------------------------------------------------------------------------------------------------
// Parser directives

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/** BuildKit's directive parser: one line at a time, done at the first line that is not a directive. */
class DirectiveReader {
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
function detectSyntax(lines: PhysicalLine[]): ParsedDockerfile['syntax'] {
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

// ---------------------------------------------------------------------------------------------------------------
// Lines into instructions

const isCommentLine = (s: string) => /^\s*#/.test(s);

/** BuildKit's continuation rule: the escape token last (white space after it ignored), not itself escaped. */
const CONTINUATION = { '\\': /([^\\])\\[ \t]*$|^\\[ \t]*$/, '`': /([^`])`[ \t]*$|^`[ \t]*$/ } as const;
const continuationRegex = (escape: '\\' | '`'): RegExp => CONTINUATION[escape];

/** A piece of text with the source offset of each character. */
interface Piece {
  text: string;
  offsets: number[];
}

function pieceOf(line: PhysicalLine, from = 0): Piece {
  const text = line.text.slice(from);
  return { text, offsets: traced(text, line.start + from).offsets };
}

function trimContinuation(piece: Piece, re: RegExp): { piece: Piece; continues: boolean } {
  const m = re.exec(piece.text);
  if (!m) return { piece, continues: false };
  const keep = m.index + (m[1]?.length ?? 0);
  return { piece: { text: piece.text.slice(0, keep), offsets: piece.offsets.slice(0, keep) }, continues: true };
}

const slicePiece = (p: Piece, from: number, to = p.text.length): Piece => ({ text: p.text.slice(from, to), offsets: p.offsets.slice(from, to) });

function trimPiece(p: Piece): Piece {
  // (white space only: the start is past the end, and the slice is empty)
  return slicePiece(p, p.text.length - p.text.trimStart().length, p.text.trimEnd().length);
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const errors: DockerfileError[] = [];
  const lines = splitLines(text);
  const directives = new DirectiveReader();
  let escape: '\\' | '`' = '\\';
  let continuation = continuationRegex(escape);
  const instructions: Instruction[] = [];

  const readDirective = (line: string, start: number, number: number) => {
    const before = directives.found.length;
    const error = directives.read(line, start, number);
    if (error) errors.push({ line: number, message: error });
    const added = directives.found[before];
    if (added?.name === 'escape') {
      if (added.value === '\\' || added.value === '`') {
        escape = added.value;
        continuation = continuationRegex(escape);
      } else errors.push({ line: number, message: `invalid escape token '${added.value}' does not match \` or \\` });
    }
  };

  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    i++;
    const lead = first.text.length - first.text.trimStart().length;
    readDirective(first.text.slice(lead), first.start + lead, first.number);
    if (isCommentLine(first.text)) continue;
    let { piece, continues } = trimContinuation(pieceOf(first, lead), continuation);
    const joined: Piece = { text: piece.text, offsets: [...piece.offsets] };
    let endLine = first.number;
    while (continues && i < lines.length) {
      const next = lines[i]!;
      i++;
      endLine = next.number; // (no directive here: the first non-comment line ended them)
      // Comment lines and empty lines inside a continuation are dropped.
      if (isCommentLine(next.text) || next.text.trim() === '') continue;
      ({ piece, continues } = trimContinuation(pieceOf(next), continuation));
      joined.text += piece.text;
      for (const o of piece.offsets) joined.offsets.push(o); // no spread: a line may be longer than the call stack
    }
    const instruction = buildInstruction(joined, first.number, endLine, escape, errors);
    if (!instruction) continue;
    i = readHeredocs(instruction, joined.text, lines, i, errors);
    instructions.push(instruction);
  }

  if (instructions.length === 0) errors.push({ line: 1, message: 'file with no instructions' });
  const parsed: ParsedDockerfile = {
    instructions,
    errors,
    escape,
    directives: directives.found.map(({ name, value, line }) => ({ name, value, line })),
    syntax: detectSyntax(lines),
    text,
  };
  checkStructure(parsed);
  const evaluation = evaluate(parsed, {});
  defaultEvaluations.set(parsed, evaluation);
  for (const e of evaluation.errors) errors.push(e);
  errors.sort((a, b) => a.line - b.line);
  return parsed;
}

/** BuildKit's splitCommand and the instruction's line parser, on one logical line. */
function buildInstruction(line: Piece, number: number, endLine: number, escape: string, errors: DockerfileError[]): Instruction | undefined {
  const trimmed = trimPiece(line);
  if (trimmed.text === '') return undefined;
  const cmdEnd = /[\t\v\f\r ]|$/.exec(trimmed.text)!.index;
  const keyword = trimmed.text.slice(0, cmdEnd);
  const { flags, rest } = extractFlags(slicePiece(trimmed, cmdEnd), escape); // it skips the white space first
  const args = trimPiece(rest);
  const ins: Instruction = {
    keyword: keyword.toUpperCase(),
    args: args.text,
    argOffsets: args.offsets,
    line: number,
    endLine,
    flags,
    words: [],
    json: false,
    heredocs: [],
  };
  if (!KNOWN.has(ins.keyword)) {
    errors.push({ line: number, message: `unknown instruction "${keyword}"` });
    return ins;
  }
  const error = parseArguments(ins, args, escape, errors);
  if (error) errors.push({ line: number, message: error });
  return ins;
}

/** BuildKit's extractBuilderFlags: leading `--name[=value]` words, quotes and escapes removed, `--` ends them. */
function extractFlags(line: Piece, escape: string): { flags: Flag[]; rest: Piece } {
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

// ---------------------------------------------------------------------------------------------------------------
// Each instruction's argument parser (BuildKit's line_parsers)

const WHITESPACE = /[\t\v\f\r ]+/;

/** Fill `ins.words` (and `json`, `sub`); returns an error message when BuildKit's parser rejects the line. */
function parseArguments(ins: Instruction, args: Piece, escape: string, errors: DockerfileError[]): string | undefined {
  const rest = args.text;
  switch (ins.keyword) {
    case 'ARG':
      ins.words = parseWords(rest, escape);
      if (ins.words.length === 0) return 'ARG requires at least one argument';
      if (ins.words.some((w) => w.value.startsWith('='))) return 'ARG names can not be blank';
      return undefined;
    case 'ENV':
    case 'LABEL':
      return parseNameValue(ins, rest, escape);
    case 'ADD':
    case 'COPY':
    case 'VOLUME':
      return parseMaybeJson(ins, rest, true);
    case 'CMD':
    case 'ENTRYPOINT':
    case 'RUN':
    case 'SHELL':
      return parseMaybeJson(ins, rest, false);
    case 'EXPOSE':
    case 'FROM':
      ins.words = splitWhitespace(rest);
      return undefined;
    case 'HEALTHCHECK': {
      const sep = rest.search(/\s|$/);
      if (sep === 0) return undefined;
      const next = rest.length - rest.slice(sep).trimStart().length;
      const cmd: Instruction = { ...ins, words: [] };
      const error = parseMaybeJson(cmd, rest.slice(next), false);
      ins.words = [{ value: rest.slice(0, sep), start: 0 }, ...cmd.words.map((w) => ({ ...w, start: w.start < 0 ? -1 : w.start + next }))];
      ins.json = cmd.json;
      return error;
    }
    case 'ONBUILD': {
      if (rest === '') return 'ONBUILD requires at least one argument';
      const trigger = rest.split(/\s/, 1)[0]!.toUpperCase();
      if (trigger === 'ONBUILD') return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed";
      if (trigger === 'MAINTAINER' || trigger === 'FROM') return `${trigger} isn't allowed as an ONBUILD trigger`;
      ins.sub = buildInstruction(args, ins.line, ins.endLine, escape, errors);
      return undefined;
    }
    default:
      // MAINTAINER, STOPSIGNAL, USER, WORKDIR
      ins.words = rest === '' ? [] : [{ value: rest, start: 0 }];
      return undefined;
  }
}

function splitWhitespace(rest: string): Word[] {
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

function parseMaybeJson(ins: Instruction, rest: string, toList: boolean): string | undefined {
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
function parseNameValue(ins: Instruction, rest: string, escape: string): string | undefined {
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

// ---------------------------------------------------------------------------------------------------------------
// Heredocs

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
function readHeredocs(ins: Instruction, line: string, lines: PhysicalLine[], i: number, errors: DockerfileError[]): number {
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

// ---------------------------------------------------------------------------------------------------------------
// Instruction-level rules of BuildKit's instructions.Parse

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function checkStructure(parsed: ParsedDockerfile): void {
  const { instructions, errors } = parsed;
  let seenFrom = false;
  let reportedEarly = false; // one "before FROM" finding is enough: every later line would repeat it
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      seenFrom = true;
      const n = ins.words.length;
      if (n === 0) errors.push({ line: ins.line, message: 'FROM needs an image' });
      else if (n === 3 && ins.words[1]!.value.toLowerCase() === 'as') {
        if (!STAGE_NAME.test(ins.words[2]!.value.toLowerCase())) {
          errors.push({ line: ins.line, message: `invalid name for build stage: "${ins.words[2]!.value}", name can't start with a number or contain symbols` });
        }
      } else if (n !== 1) errors.push({ line: ins.line, message: 'FROM requires either one or three arguments (image [AS name])' });
    } else if (!seenFrom && !reportedEarly && ins.keyword !== 'ARG' && KNOWN.has(ins.keyword)) {
      errors.push({ line: ins.line, message: `${ins.keyword} before the first FROM (only ARG may come before FROM)` });
      reportedEarly = true;
    }
  }
  if (instructions.length > 0 && !seenFrom) {
    errors.push({ line: instructions[0]!.line, message: 'no FROM instruction: a Dockerfile must build from an image or scratch' });
  }
}

function flagValue(ins: Instruction, name: string): string | undefined {
  return ins.flags.find((f) => f.name === name)?.value;
}

/** FROM's stage name, lower case as BuildKit keeps it. */
function stageNameOf(ins: Instruction): string | undefined {
  return ins.words.length === 3 && ins.words[1]!.value.toLowerCase() === 'as' ? ins.words[2]!.value.toLowerCase() : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation: variables in scope, the images a build pulls, the context files it reads

export type ImageRefKind = 'syntax' | 'from' | 'copy-from' | 'mount-from';

export interface ImageRefSite {
  kind: ImageRefKind;
  /** Line of the instruction (or directive) that uses the image. */
  line: number;
  /** The reference as written (may contain variables). */
  raw: string;
  /** After expansion; null when a variable it needs has no value. */
  resolved: string | null;
  /** Source offset of each character of `resolved` (-1 where it was not written as such). */
  offsets: number[];
  /** Where a digest goes when the reference has none: after the written word, or after the one ARG default it is. */
  insertAt: number | undefined;
  unresolved: string[];
  isScratch: boolean;
  /** Names a build stage (by name or index), not an image. */
  isStage: boolean;
  /** FROM --platform value as written. */
  platform?: string;
  /** FROM … AS name. */
  stageName?: string;
}

export interface ContextSource {
  keyword: 'COPY' | 'ADD';
  line: number;
  /** Source paths after expansion, relative to the build context. */
  sources: string[];
  /** Sources that cannot be hashed from the context (URLs, git repositories, unresolved variables). */
  external: string[];
}

export interface EvaluateOptions {
  /** --build-arg values: they replace ARG defaults. */
  buildArgs?: Record<string, string>;
  /** Values BuildKit gives before any ARG (TARGETARCH…): a declared ARG without a value takes them. */
  builtins?: Record<string, string>;
}

interface Evaluation {
  sites: ImageRefSite[];
  contexts: ContextSource[];
  errors: DockerfileError[];
}

interface StageDependency {
  from: number;
  to: number;
  line: number;
  what: 'copy' | 'mount';
  name: string;
}

type Env = Map<string, Traced>;

/** The file's stages: names ('' when unnamed) and the first stage of a name (-1: none). */
interface Stages {
  names: string[];
  index: (name: string) => number;
}

/** The evaluation without build args, done once by parseDockerfile (its errors are parse errors). */
const defaultEvaluations = new WeakMap<ParsedDockerfile, Evaluation>();

function evaluate(parsed: ParsedDockerfile, options: EvaluateOptions): Evaluation {
  const buildArgs = options.buildArgs ?? {};
  const out: Evaluation = { sites: [], contexts: [], errors: [] };
  const froms = parsed.instructions.filter((i) => i.keyword === 'FROM');
  const stageNames = froms.map((f) => stageNameOf(f) ?? '');
  // Each name's first stage, in a Map (a file may have very many stages); unnamed stages are found by index only.
  const firstStage = new Map<string, number>();
  stageNames.forEach((name, i) => {
    if (name !== '' && !firstStage.has(name)) firstStage.set(name, i);
  });
  const stages: Stages = { names: stageNames, index: (name) => firstStage.get(name) ?? -1 };
  const global: Env = new Map(Object.entries(options.builtins ?? {}).map(([k, v]) => [k, traced(v)]));
  const stageEnvs: Env[] = [];
  const deps: StageDependency[] = [];
  let stage = -1;
  let env: Env = global;

  if (parsed.syntax) {
    const { value, start, line } = parsed.syntax;
    const offsets = traced(value, start).offsets;
    out.sites.push({ kind: 'syntax', line, raw: value, resolved: value, offsets, insertAt: start + value.length, unresolved: [], isScratch: false, isStage: false });
  }

  const expandIn = (scope: Env, ins: Instruction, word: Word, what: string): ReturnType<typeof processWord> => {
    const result = processWord(word.value, scope, { escapeToken: parsed.escape }, offsetsOf(ins, word));
    if (!result.ok) out.errors.push({ line: ins.line, message: `${what}: ${result.error}` });
    return result;
  };

  for (const ins of parsed.instructions) {
    switch (ins.keyword) {
      case 'ARG':
        for (const word of ins.words) {
          const eq = word.value.indexOf('=');
          const name = eq < 0 ? word.value : word.value.slice(0, eq);
          let value: Traced | undefined;
          if (Object.hasOwn(buildArgs, name)) value = traced(buildArgs[name]!);
          else if (eq < 0) value = global.get(name); // in the global scope: itself, or a builtin
          else {
            const r = expandIn(env, ins, { value: word.value.slice(eq + 1), start: word.start + eq + 1 }, `ARG ${name}`);
            if (r.ok) value = r;
          }
          if (value) env.set(name, { value: value.value, offsets: value.offsets });
        }
        break;
      case 'ENV': {
        if (stage < 0) break;
        // BuildKit expands the whole instruction with the variables before it: `ENV A=1 B=$A` gives B the old A.
        const before = new Map(env);
        for (let k = 0; k < ins.words.length; k += 3) {
          const r = expandIn(before, ins, ins.words[k + 1]!, `ENV ${ins.words[k]!.value}`);
          if (r.ok) env.set(ins.words[k]!.value, r);
        }
        break;
      }
      case 'FROM': {
        stage++;
        if (stage > 0) stageEnvs[stage - 1] = env;
        const site = fromSite(ins, global, stage, stages, expandIn);
        // FROM an earlier stage starts with its variables; any other FROM (an image, or a stage not yet done, whose
        // scope is not in stageEnvs) with none.
        env = new Map(stageEnvs[stages.index(site?.resolved ?? '')]);
        if (site) out.sites.push(site);
        break;
      }
      case 'COPY':
      case 'ADD': {
        const from = ins.keyword === 'COPY' ? ins.flags.find((f) => f.name === 'from') : undefined;
        if (from?.value !== undefined && stage >= 0) {
          const site = copyFromSite(ins, from, stage, stages, deps, out.errors);
          if (site) out.sites.push(site);
        } else if (stage >= 0) out.contexts.push(contextSource(ins, env, parsed.escape));
        break;
      }
      case 'RUN':
        if (stage >= 0) out.sites.push(...mountSites(ins, stage, stages, deps, out.errors));
        break;
    }
  }
  for (const e of stageGraphErrors(deps, stageNames)) out.errors.push(e);
  return out;
}

/** Source offsets of a word of `ins.args` (ARG, ENV values and FROM: never JSON words, which have no start). */
function offsetsOf(ins: Instruction, word: Word): number[] {
  return ins.argOffsets.slice(word.start, word.start + word.value.length);
}

const SINGLE_VARIABLE = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+][^}$]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/;

function fromSite(
  ins: Instruction,
  global: Env,
  stage: number,
  stages: Stages,
  expandIn: (scope: Env, ins: Instruction, word: Word, what: string) => ReturnType<typeof processWord>,
): ImageRefSite | undefined {
  const word = ins.words[0];
  if (!word) return undefined;
  const r = expandIn(global, ins, word, `FROM ${word.value}`);
  const resolved = r.ok && r.missing.length === 0 ? r.value : null;
  const offsets = r.ok ? r.offsets : [];
  // `FROM ${BASE}`: a digest goes into BASE's default (when it has one); otherwise after the word in the FROM line.
  const lastResolved = offsets[offsets.length - 1] ?? -1;
  const insertAt = SINGLE_VARIABLE.test(word.value) && lastResolved >= 0 ? lastResolved + 1 : ins.argOffsets[word.start + word.value.length - 1]! + 1;
  const site: ImageRefSite = {
    kind: 'from',
    line: ins.line,
    raw: word.value,
    resolved,
    offsets,
    insertAt,
    unresolved: r.ok ? r.missing : [],
    isScratch: resolved === 'scratch',
    isStage: resolved !== null && stages.index(resolved) >= 0 && stages.index(resolved) < stage,
  };
  const platform = flagValue(ins, 'platform');
  if (platform !== undefined) site.platform = platform;
  if (ins.words.length === 3 && ins.words[1]!.value.toLowerCase() === 'as') site.stageName = ins.words[2]!.value;
  return site;
}

function literalSite(kind: ImageRefKind, ins: Instruction, value: string, offsets: number[], isStage: boolean): ImageRefSite {
  const last = offsets[offsets.length - 1]; // flag values are written: undefined only for an empty one
  return {
    kind,
    line: ins.line,
    raw: value,
    resolved: value,
    offsets,
    insertAt: last === undefined ? undefined : last + 1,
    unresolved: [],
    isScratch: value === 'scratch',
    isStage,
  };
}

/** COPY --from: a stage by name or index, or an image; BuildKit expands no variables there. */
function copyFromSite(ins: Instruction, from: Flag, stage: number, stages: Stages, deps: StageDependency[], errors: DockerfileError[]): ImageRefSite | undefined {
  const value = from.value!;
  const plain = processWord(value, new Map());
  if (!plain.ok || plain.value !== value) {
    errors.push({ line: ins.line, message: `COPY --from=${value}: variable expansion is not supported for --from; define a stage with FROM using an ARG from the global scope instead` });
    return undefined;
  }
  let target: number;
  if (/^[+-]?\d+$/.test(value)) {
    target = Number(value);
    if (target < 0 || target >= stages.names.length) {
      errors.push({ line: ins.line, message: `COPY --from=${value}: invalid stage index ${target}` });
      return undefined;
    }
  } else target = stages.index(value.toLowerCase());
  if (target >= 0) deps.push({ from: stage, to: target, line: ins.line, what: 'copy', name: value });
  return literalSite('copy-from', ins, value, from.valueOffsets, target >= 0);
}

/** RUN --mount=…,from=<stage or image>: a stage by name only, no variables. */
function mountSites(ins: Instruction, stage: number, stages: Stages, deps: StageDependency[], errors: DockerfileError[]): ImageRefSite[] {
  const sites: ImageRefSite[] = [];
  for (const flag of ins.flags.filter((f) => f.name === 'mount' && f.value !== undefined)) {
    for (const field of csvFields(flag.value!, flag.valueOffsets)) {
      const eq = field.text.indexOf('=');
      if (eq < 0 || field.text.slice(0, eq).toLowerCase() !== 'from') continue;
      const value = slicePiece(field, eq + 1);
      const dollar = value.text.indexOf('$');
      if (dollar >= 0 && dollar !== value.text.length - 1) {
        errors.push({ line: ins.line, message: `RUN --mount from=${value.text}: 'from' doesn't support variable expansion, define alias stage instead` });
        continue;
      }
      const target = stages.index(value.text.toLowerCase());
      if (target >= 0) deps.push({ from: stage, to: target, line: ins.line, what: 'mount', name: value.text });
      if (value.text !== '') sites.push(literalSite('mount-from', ins, value.text, value.offsets, target >= 0));
    }
  }
  return sites;
}

/** Comma-separated fields, `"…"` quoting with `""` for a quote (the CSV BuildKit reads --mount values as). */
function csvFields(value: string, offsets: number[]): Piece[] {
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

/** A stage that needs itself (directly or round a loop) or a later stage cannot be built. */
function stageGraphErrors(deps: StageDependency[], stageNames: string[]): DockerfileError[] {
  const errors: DockerfileError[] = [];
  const label = (i: number) => stageNames[i] || `stage-${i}`;
  const component = stronglyConnected(stageNames.length, deps);
  for (const d of deps) {
    if (component[d.from] === component[d.to]) {
      const via = d.from === d.to ? 'it copies from itself' : `it needs stage "${label(d.to)}", which needs it in turn`;
      errors.push({ line: d.line, message: `circular dependency detected on stage: ${label(d.from)} (${d.what === 'copy' ? 'COPY' : 'RUN --mount'} --from=${d.name}: ${via})` });
      // Stryker disable next-line EqualityOperator: d.to === d.from (a stage needing itself) is in one component, reported above
    } else if (d.to > d.from) {
      errors.push({ line: d.line, message: `cannot ${d.what} from stage "${label(d.to)}", it needs to be defined before current stage "${label(d.from)}"` });
    }
  }
  return errors;
}

/**
 * Tarjan's strongly connected components, without recursion (a file may have very many stages): stages in one
 * component need each other, so a dependency inside one is on a cycle.
 */
function stronglyConnected(count: number, deps: StageDependency[]): number[] {
  const edges: number[][] = Array.from({ length: count }, () => []);
  for (const d of deps) edges[d.from]!.push(d.to);
  const index = new Array<number>(count).fill(-1);
  const low = new Array<number>(count).fill(0);
  const component = new Array<number>(count).fill(-1);
  const onStack = new Array<boolean>(count).fill(false);
  const stack: number[] = [];
  let next = 0;
  for (let root = 0; root < count; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    while (work.length) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) {
        // first time here: a stage is pushed only while unvisited, and visited right away
        index[v] = low[v] = next++;
        stack.push(v);
        onStack[v] = true;
      }
      if (i < edges[v]!.length) {
        frame[1]++;
        const w = edges[v]![i]!;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component[w] = v;
        } while (w !== v);
      }
    }
  }
  return component;
}

/** The build-context paths a COPY/ADD reads, each expanded with the stage's variables. */
function contextSource(ins: Instruction, env: LexEnv, escape: '\\' | '`'): ContextSource {
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

/**
 * Every image the Dockerfile reads, in file order. `buildArgs` (as --build-arg passes them) replace ARG defaults
 * in `resolved`; offsets still point at what is written in the file.
 */
export function extractImageReferences(parsed: ParsedDockerfile, buildArgs: Record<string, string> = {}): ImageRefSite[] {
  const cached = Object.keys(buildArgs).length === 0 ? defaultEvaluations.get(parsed) : undefined;
  return (cached ?? evaluate(parsed, { buildArgs })).sites;
}

/**
 * The build-context paths each COPY/ADD reads (COPY --from reads another image, not the context).
 * `builtins` are the values BuildKit gives declared-but-empty ARGs, e.g. { TARGETARCH: 'arm64' }.
 */
export function extractContextSources(parsed: ParsedDockerfile, builtins: Record<string, string> = {}): ContextSource[] {
  return evaluate(parsed, { builtins }).contexts;
}

/** The build args BuildKit sets for a target platform (`linux/arm64/v8` -> TARGETARCH=arm64, …). */
export function platformBuildArgs(platform: string): Record<string, string> {
  const [os = 'linux', arch = 'amd64', variant = ''] = platform.split('/');
  return { TARGETPLATFORM: platform, TARGETOS: os, TARGETARCH: arch, TARGETVARIANT: variant };
}

/**
 * The images a build of this Dockerfile pulls (FROM, COPY --from, RUN --mount from), with build args applied.
 * The `# syntax=` frontend is left out: BuildKit fetches it itself, and buildah and podman do not use it.
 */
export function pulledImages(text: string, buildArgs: Record<string, string> = {}): string[] {
  const sites = extractImageReferences(parseDockerfile(text), buildArgs);
  return [...new Set(sites.filter((s) => s.kind !== 'syntax' && s.resolved && !s.isScratch && !s.isStage).map((s) => s.resolved!))];
}

// ---------------------------------------------------------------------------------------------------------------
// Rewriting in place

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
