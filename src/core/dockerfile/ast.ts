/**
 * What parsing a Dockerfile gives: instructions with their flags, words, heredocs and the source offset of every
 * character of their arguments, the parser directives, and located errors (BuildKit's parser.Node, as data).
 */

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

export type EscapeToken = '\\' | '`';

export interface ParsedDockerfile {
  instructions: Instruction[];
  errors: DockerfileError[];
  escape: EscapeToken;
  /** Parser directives at the top of the file, names in lower case. */
  directives: Directive[];
  /** The frontend image of a `# syntax=` directive, where BuildKit finds it. */
  syntax?: { value: string; start: number; line: number };
  /** The text the offsets refer to. */
  text: string;
}

/** The instructions BuildKit knows. */
export const KNOWN_INSTRUCTIONS = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);

/** Source offsets of a word of `ins.args` (ARG, ENV values and FROM: never JSON words, which have no start). */
export function offsetsOf(ins: Instruction, word: Word): number[] {
  return ins.argOffsets.slice(word.start, word.start + word.value.length);
}

export function flagValue(ins: Instruction, name: string): string | undefined {
  return ins.flags.find((f) => f.name === name)?.value;
}
