/**
 * Dockerfile parsing as BuildKit reads a Dockerfile (checked against its own test data, test/fixtures/buildkit):
 * parser directives, lines joined, each instruction split into its keyword, flags and arguments by the
 * instruction's own argument parser, heredoc bodies read, then BuildKit's instruction-level rules and the
 * evaluation's errors (variables, stages) added. Pure: text in, data out; it never throws on bad input but
 * returns located errors, so lint can report a broken file as a finding.
 */
import { KNOWN_INSTRUCTIONS, type DockerfileError, type EscapeToken, type Instruction, type ParsedDockerfile } from './ast.js';
import { detectSyntax, DirectiveReader } from './directives.js';
import { defaultEvaluation } from './evaluate.js';
import { extractFlags } from './flags.js';
import { readHeredocs } from './heredocs.js';
import { isCommentLine, joinLogicalLine, splitLines } from './lines.js';
import { slicePiece, trimPiece, type Piece } from './piece.js';
import { checkStructure } from './stages.js';
import { parseMaybeJson, parseNameValue, parseWords, splitWhitespace } from './words.js';

/**
 * The largest Dockerfile read, in bytes as read from disk and in UTF-16 units here (never more than its bytes).
 * Parsing costs tens of bytes per character (each keeps its source offset): a 51 MB line took 2.8 GB. BuildKit's
 * own test files are under 10 KiB, this repository's under 4 KiB.
 */
export const MAX_DOCKERFILE_SIZE = 1024 * 1024;

/** Why a Dockerfile of `size` (bytes, or characters) is not read. */
export function tooLargeMessage(size: number, unit: 'bytes' | 'characters'): string {
  return `Dockerfile is ${size} ${unit}, over the limit of ${MAX_DOCKERFILE_SIZE} (1 MiB): split it, or move data into files it COPYs`;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  if (text.length > MAX_DOCKERFILE_SIZE) return tooLarge(text);
  const errors: DockerfileError[] = [];
  const lines = splitLines(text);
  const directives = new DirectiveReader();
  let escape: EscapeToken = '\\';
  const instructions: Instruction[] = [];

  const readDirective = (line: string, start: number, number: number) => {
    const before = directives.found.length;
    const error = directives.read(line, start, number);
    if (error) errors.push({ line: number, message: error });
    const added = directives.found[before];
    if (added?.name === 'escape') {
      if (added.value === '\\' || added.value === '`') escape = added.value;
      else errors.push({ line: number, message: `invalid escape token '${added.value}' does not match \` or \\` });
    }
  };

  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    const lead = first.text.length - first.text.trimStart().length;
    readDirective(first.text.slice(lead), first.start + lead, first.number);
    if (isCommentLine(first.text)) {
      i++;
      continue;
    }
    const { joined, endLine, next } = joinLogicalLine(lines, i, lead, escape);
    i = next;
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
  for (const e of defaultEvaluation(parsed).errors) errors.push(e);
  errors.sort((a, b) => a.line - b.line);
  return parsed;
}

/** A file over the limit is not parsed: one error, no instructions (so nothing is read from it). */
function tooLarge(text: string): ParsedDockerfile {
  return { instructions: [], errors: [{ line: 1, message: tooLargeMessage(text.length, 'characters') }], escape: '\\', directives: [], text };
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
  if (!KNOWN_INSTRUCTIONS.has(ins.keyword)) {
    errors.push({ line: number, message: `unknown instruction "${keyword}"` });
    return ins;
  }
  const error = parseArguments(ins, args, escape, errors);
  if (error) errors.push({ line: number, message: error });
  return ins;
}

/** Each instruction's argument parser (BuildKit's dispatch table): fills `ins.words` (and `json`, `sub`). */
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
