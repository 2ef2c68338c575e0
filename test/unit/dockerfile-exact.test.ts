/**
 * The parser's exact output: instruction fields (args and their source offsets, flags, words and where each word
 * starts, lines), directives, error messages with their lines, image and context sites, and in-place edits.
 */
import { describe, expect, it } from 'vitest';
import { applyEdits, editPlace, writtenSpan } from '../../src/core/dockerfile/edits.js';
import { platformBuildArgs } from '../../src/core/dockerfile/evaluate.js';
import { extractContextSources, extractImageReferences, pulledImages } from '../../src/core/dockerfile/extract.js';
import { heredocsOfLine, parseHeredoc } from '../../src/core/dockerfile/heredocs.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { parseWords } from '../../src/core/dockerfile/words.js';

/** Instruction `k` of a parsed file (the FROM is 0). */
const ins = (text: string, k = 1) => parseDockerfile(text).instructions[k]!;
const errors = (text: string) => parseDockerfile(text).errors;
const sites = (text: string, buildArgs?: Record<string, string>) => extractImageReferences(parseDockerfile(text), buildArgs);
const words = (text: string, k = 1) => ins(text, k).words;

describe('lines, directives and continuations', () => {
  it('skips a byte-order mark: the offsets stay those of the text', () => {
    const p = parseDockerfile('\uFEFFFROM a\n');
    expect(p.errors).toEqual([]);
    expect(p.instructions[0]).toMatchObject({ keyword: 'FROM', args: 'a', argOffsets: [6], line: 1, endLine: 1 });
  });

  it('reads directives in any order up to the first line that is not one, with the offset of the syntax value', () => {
    const p = parseDockerfile('#  check = skip=all\n#syntax=a\n# escape=`\nFROM b\n');
    expect(p.directives).toEqual([
      { name: 'check', value: 'skip=all', line: 1 },
      { name: 'syntax', value: 'a', line: 2 },
      { name: 'escape', value: '`', line: 3 },
    ]);
    expect(p.syntax).toEqual({ value: 'a', start: 28, line: 2 });
    expect(parseDockerfile('#syntax=x=x\nFROM a\n').syntax).toEqual({ value: 'x=x', start: 8, line: 1 });
    expect(p.escape).toBe('`');
    // an unknown directive ends them; so does an empty comment
    expect(parseDockerfile('# syntax=a\n# foo=bar\n# escape=`\nFROM b\n')).toMatchObject({ escape: '\\', directives: [{ name: 'syntax', value: 'a', line: 1 }] });
    expect(parseDockerfile('#\n# syntax=a\nFROM c\n')).toMatchObject({ directives: [], syntax: undefined });
    expect(parseDockerfile('FROM c\n')).toMatchObject({ directives: [], syntax: undefined });
  });

  it('the syntax value is its first word; a BOM or a #! line comes before it', () => {
    // Only the white space after the # is dropped; a value keeps its own (BuildKit: `#check=skip=A, B`).
    expect(parseDockerfile('#check=skip=A, B\nFROM a\n').directives).toEqual([{ name: 'check', value: 'skip=A, B', line: 1 }]);
    expect(parseDockerfile('# syntax = x/y:1 opt\nFROM a\n')).toMatchObject({ directives: [{ name: 'syntax', value: 'x/y:1 opt', line: 1 }], syntax: { value: 'x/y:1', start: 11, line: 1 } });
    expect(parseDockerfile('\uFEFF# syntax=a:1\nFROM b\n').syntax).toEqual({ value: 'a:1', start: 10, line: 1 });
    expect(parseDockerfile('#!/bin/sh\n# syntax=a:1\nFROM b\n').syntax).toEqual({ value: 'a:1', start: 19, line: 2 });
  });

  it('a repeated directive is an error at its line, and the first one counts', () => {
    const p = parseDockerfile('#syntax=a\n#syntax=b\nFROM c\n');
    expect(p.errors).toEqual([{ line: 2, message: 'only one syntax parser directive can be used' }]);
    expect(p.syntax).toEqual({ value: 'a', start: 8, line: 1 });
    expect(parseDockerfile('# escape=x\nFROM a\n').errors).toEqual([{ line: 1, message: "invalid escape token 'x' does not match ` or \\" }]);
    expect(parseDockerfile('# escape=\\\nFROM a\\\n b\n').instructions[0]!.args).toBe('a b');
  });

  it('joins continuation lines, dropping empty, blank and comment lines, and keeps each character\'s offset', () => {
    const p = parseDockerfile('FROM a\nRUN a \\  \n  b \\\n\n   \n  # c\n c\n  \n\\\nRUN d');
    expect(p.errors).toEqual([]);
    expect(p.instructions.map((i) => [i.keyword, i.args, i.argOffsets, i.line, i.endLine])).toEqual([
      ['FROM', 'a', [5], 1, 1],
      ['RUN', 'a   b  c', [11, 12, 17, 18, 19, 20, 34, 35], 2, 7],
      ['RUN', 'd', [46], 9, 10],
    ]);
  });

  it('an instruction keyword in any case, white space before it and between it and its arguments', () => {
    const i = ins('FROM a\n  run --mount=type=cache,target="/x y" --network=none\t  echo \\\n hi  \n');
    expect(i).toMatchObject({ keyword: 'RUN', args: 'echo  hi', argOffsets: [63, 64, 65, 66, 67, 70, 71, 72], line: 2, endLine: 3 });
    expect(i.flags).toEqual([
      { name: 'mount', value: 'type=cache,target=/x y', text: '--mount=type=cache,target=/x y', valueOffsets: [21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 40, 41, 42, 43] },
      { name: 'network', value: 'none', text: '--network=none', valueOffsets: [56, 57, 58, 59] },
    ]);
  });
});

describe('flags', () => {
  it('bare and empty flags; `--` ends them', () => {
    const i = ins("FROM a\nCOPY --chmod='7 5' --link --x=\"\" -- --y /a /b\n");
    expect(i.flags).toEqual([
      { name: 'chmod', value: '7 5', text: '--chmod=7 5', valueOffsets: [21, 22, 23] },
      { name: 'link', value: undefined, text: '--link', valueOffsets: [] },
      { name: 'x', value: '', text: '--x=', valueOffsets: [] },
    ]);
    expect(i).toMatchObject({ args: '--y /a /b', argOffsets: [43, 44, 45, 46, 47, 48, 49, 50, 51] });
    expect(i.words).toEqual([
      { value: '--y', start: 0 },
      { value: '/a', start: 4 },
      { value: '/b', start: 7 },
    ]);
  });

  it('quotes in the middle of a value, escapes, and an escape at the very end', () => {
    expect(ins("FROM a\nCOPY --d=\"a b\"c'd e' x\n").flags).toEqual([{ name: 'd', value: 'a bcd e', text: '--d=a bcd e', valueOffsets: [17, 18, 19, 21, 23, 24, 25] }]);
    expect(ins('FROM a\nCOPY --a=b\\ c --d=e\\\\\\').flags).toEqual([
      { name: 'a', value: 'b c', text: '--a=b c', valueOffsets: [16, 18, 19] },
      { name: 'd', value: 'e\\', text: '--d=e\\', valueOffsets: [25, 27] },
    ]);
    expect(ins('FROM a\nCOPY \t--d \t  /x /y \n')).toMatchObject({ flags: [{ name: 'd', value: undefined, text: '--d' }], args: '/x /y', argOffsets: [20, 21, 22, 23, 24] });
    expect(ins('FROM a\nCOPY /x --d /y\n')).toMatchObject({ flags: [], args: '/x --d /y' });
  });
});

describe("each instruction's argument parser", () => {
  it('ARG words keep quotes as written; an empty ARG or a blank name is an error', () => {
    const text = "FROM a\nARG\nARG =x\nARG  a=\"b c\"  d='e' f\nARG \"\"\n";
    expect(words(text, 3)).toEqual([
      { value: 'a="b c"', start: 0 },
      { value: "d='e'", start: 9 },
      { value: 'f', start: 15 },
    ]);
    expect(words(text, 4)).toEqual([{ value: '""', start: 0 }]);
    expect(errors(text)).toEqual([
      { line: 2, message: 'ARG requires at least one argument' },
      { line: 3, message: 'ARG names can not be blank' },
    ]);
  });

  it('ENV and LABEL: the old form, the name=value form, and their errors', () => {
    const text = 'FROM a\nENV A b  c\nENV A\nENV A=1 B\nLABEL "a b"=c d=\nENV\nLABEL\nENV A \t b\n';
    expect(words(text, 1)).toEqual([
      { value: 'A', start: 0 },
      { value: 'b  c', start: 2 },
      { value: '', start: -1 },
    ]);
    expect(words(text, 2)).toEqual([]);
    expect(words(text, 3)).toEqual([
      { value: 'A', start: 0 },
      { value: '1', start: 2 },
      { value: '=', start: -1 },
    ]);
    expect(words(text, 4)).toEqual([
      { value: '"a b"', start: 0 },
      { value: 'c', start: 6 },
      { value: '=', start: -1 },
      { value: 'd', start: 8 },
      { value: '', start: 10 },
      { value: '=', start: -1 },
    ]);
    expect(words(text, 5)).toEqual([]);
    expect(words(text, 6)).toEqual([]);
    expect(words(text, 7)).toEqual([
      { value: 'A', start: 0 },
      { value: 'b', start: 4 },
      { value: '', start: -1 },
    ]);
    expect(errors(text)).toEqual([
      { line: 3, message: 'ENV must have two arguments' },
      { line: 4, message: 'Syntax error - can\'t find = in "B". Must be of the form: name=value' },
    ]);
    expect(errors('FROM a\nLABEL x\n')).toEqual([{ line: 2, message: 'LABEL must have two arguments' }]);
  });

  it('JSON and shell forms', () => {
    const text = 'FROM a\nRUN  ["a", "b c"]\nCMD [1]\nCOPY ["x",\nVOLUME {"a":1}\nRUN\nCOPY\nSHELL ["sh"] \nENTRYPOINT ["a"] x\nRUN [ "a" ]\nCOPY a  b\nVOLUME ["/v"]\nRUN ["a b"]\nCMD\n';
    const p = parseDockerfile(text);
    expect(p.instructions.slice(1).map((i) => [i.keyword, i.json, i.words])).toEqual([
      ['RUN', true, [{ value: 'a', start: -1 }, { value: 'b c', start: -1 }]],
      ['CMD', false, []],
      ['COPY', false, [{ value: '["x",', start: 0 }]],
      ['VOLUME', false, [{ value: '{"a":1}', start: 0 }]],
      ['RUN', false, []],
      ['COPY', false, []],
      ['SHELL', true, [{ value: 'sh', start: -1 }]],
      ['ENTRYPOINT', false, [{ value: '["a"] x', start: 0 }]],
      ['RUN', true, [{ value: 'a', start: -1 }]],
      ['COPY', false, [{ value: 'a', start: 0 }, { value: 'b', start: 3 }]],
      ['VOLUME', true, [{ value: '/v', start: -1 }]],
      ['RUN', true, [{ value: 'a b', start: -1 }]],
      ['CMD', false, []],
    ]);
    expect(p.errors).toEqual([{ line: 3, message: 'when using JSON array syntax, arrays must be comprised of strings only' }]);
    expect(errors('FROM a\nCOPY ["a", 2]\n')).toEqual([{ line: 2, message: 'when using JSON array syntax, arrays must be comprised of strings only' }]);
  });

  it('HEALTHCHECK: its type word, then the command in either form', () => {
    const text = 'FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --interval=5s CMD  ["t"]\nHEALTHCHECK CMD  curl  x\nHEALTHCHECK\nHEALTHCHECK CMD [1]\n';
    const p = parseDockerfile(text);
    expect(p.instructions.slice(1).map((i) => [i.json, i.words])).toEqual([
      [false, [{ value: 'NONE', start: 0 }]],
      [true, [{ value: 'CMD', start: 0 }, { value: 't', start: -1 }]],
      [false, [{ value: 'CMD', start: 0 }, { value: 'curl  x', start: 5 }]],
      [false, []],
      [false, [{ value: 'CMD', start: 0 }]],
    ]);
    expect(p.instructions[2]!.flags).toEqual([{ name: 'interval', value: '5s', text: '--interval=5s', valueOffsets: [text.indexOf('5s'), text.indexOf('5s') + 1] }]);
    expect(p.errors).toEqual([{ line: 6, message: 'when using JSON array syntax, arrays must be comprised of strings only' }]);
  });

  it('ONBUILD: its trigger parsed as an instruction; the errors BuildKit gives', () => {
    const text = 'FROM a\nONBUILD\nONBUILD maintainer x\nONBUILD  copy --from=b  /a  /b\nONBUILD onbuild x\n';
    const p = parseDockerfile(text);
    expect(p.errors).toEqual([
      { line: 2, message: 'ONBUILD requires at least one argument' },
      { line: 3, message: "MAINTAINER isn't allowed as an ONBUILD trigger" },
      { line: 5, message: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" },
    ]);
    expect(p.instructions[2]!.sub).toBeUndefined();
    expect(p.instructions[3]).toMatchObject({ keyword: 'ONBUILD', args: 'copy --from=b  /a  /b', words: [] });
    expect(p.instructions[3]!.sub).toMatchObject({
      keyword: 'COPY',
      args: '/a  /b',
      line: 4,
      endLine: 4,
      flags: [{ name: 'from', value: 'b', text: '--from=b' }],
      words: [{ value: '/a', start: 0 }, { value: '/b', start: 4 }],
    });
    expect(p.instructions[3]!.sub!.argOffsets[0]).toBe(text.indexOf('/a'));
    expect(parseDockerfile('FROM a\nONBUILD RUN [1]\n').errors).toEqual([{ line: 2, message: 'when using JSON array syntax, arrays must be comprised of strings only' }]);
  });

  it('the one-argument instructions and EXPOSE', () => {
    const text = 'FROM a\nUSER  a  b \nWORKDIR\nEXPOSE 80  443/udp\nSTOPSIGNAL 9\n';
    expect(parseDockerfile(text).instructions.slice(1).map((i) => i.words)).toEqual([
      [{ value: 'a  b', start: 0 }],
      [],
      [{ value: '80', start: 0 }, { value: '443/udp', start: 4 }],
      [{ value: '9', start: 0 }],
    ]);
  });
});

describe('parseWords', () => {
  it('splits on the white space Go calls space (NEL and NBSP included, not U+FEFF), wherever each word starts', () => {
    expect(parseWords('a\u00a0b\u3000c', '\\')).toEqual([
      { value: 'a', start: 0 },
      { value: 'b', start: 2 },
      { value: 'c', start: 4 },
    ]);
    expect(parseWords('a\u0085b\uFEFFc', '\\')).toEqual([
      { value: 'a', start: 0 },
      { value: 'b\uFEFFc', start: 2 },
    ]);
    expect(parseWords('\tx\u000by  ', '\\')).toEqual([
      { value: 'x', start: 1 },
      { value: 'y', start: 3 },
    ]);
    expect(parseWords('a\u007f~b', '\\')).toEqual([{ value: 'a\u007f~b', start: 0 }]);
  });

  it('characters outside the BMP, escapes and quotes', () => {
    expect(parseWords('😀 x', '\\')).toEqual([
      { value: '😀', start: 0 },
      { value: 'x', start: 3 },
    ]);
    expect(parseWords('\\😀a \\ b', '\\')).toEqual([{ value: '\\😀a', start: 0 }, { value: '\\ b', start: 5 }]);
    expect(parseWords("'a\\' b", '\\')).toEqual([
      { value: "'a\\'", start: 0 },
      { value: 'b', start: 5 },
    ]);
    expect(parseWords('"a\\" b" c', '\\')).toEqual([
      { value: '"a\\" b"', start: 0 },
      { value: 'c', start: 8 },
    ]);
    expect(parseWords('a\\', '\\')).toEqual([{ value: 'a', start: 0 }]);
    expect(parseWords('a \\', '\\')).toEqual([{ value: 'a', start: 0 }]);
    expect(parseWords('a`  b', '`')).toEqual([
      { value: 'a` ', start: 0 },
      { value: 'b', start: 4 },
    ]);
    expect(parseWords('"" \'\' "\'" x', '\\')).toEqual([
      { value: '""', start: 0 },
      { value: "''", start: 3 },
      { value: '"\'"', start: 6 },
      { value: 'x', start: 10 },
    ]);
    expect(parseWords('', '\\')).toEqual([]);
    expect(parseWords('   ', '\\')).toEqual([]);
  });
});

describe('heredocs', () => {
  it('names, file descriptors, chomp and expansion', () => {
    expect(parseHeredoc('3<<EOF')).toEqual({ name: 'EOF', chomp: false, expand: true, fileDescriptor: 3 });
    expect(parseHeredoc('10<<-EOF')).toEqual({ name: 'EOF', chomp: true, expand: true, fileDescriptor: 10 });
    expect(parseHeredoc("<<-'EOF'")).toEqual({ name: 'EOF', chomp: true, expand: false, fileDescriptor: 0 });
    expect(parseHeredoc('<<E"O"F')).toEqual({ name: 'EOF', chomp: false, expand: false, fileDescriptor: 0 });
    expect(parseHeredoc('<<\\\'EOF')).toEqual({ name: "'EOF", chomp: false, expand: true, fileDescriptor: 0 });
    expect(parseHeredoc('<<')).toBeUndefined();
    expect(parseHeredoc('<<a b')).toBeUndefined();
    expect(heredocsOfLine('RUN <<A cat - 3<<-"B"')).toEqual([
      { name: 'A', chomp: false, expand: true, fileDescriptor: 0 },
      { name: 'B', chomp: true, expand: false, fileDescriptor: 3 },
    ]);
    expect(heredocsOfLine("RUN 'x")).toEqual([]);
    expect(heredocsOfLine("RUN <<${X:-\\'}")).toBe("failed to process \"${X:-'}\": syntax error: missing '}'");
  });

  it('reads bodies after RUN, COPY, ADD and ONBUILD RUN; tab-stripped terminators with <<-; not in JSON or mid-word', () => {
    const text = 'FROM a\nONBUILD RUN <<A\nb\nA\nRUN ["<<A"]\nRUN <<-A 3<<B\n\t\ta\n\tA\nb\n\tB\nB\nRUN a<<A\nCOPY <<A /x\nA\nADD <<Z /z\nz\nZ\nUSER <<A\n';
    const p = parseDockerfile(text);
    expect(p.errors).toEqual([]);
    expect(p.instructions.map((i) => [i.keyword, i.line, i.endLine, i.heredocs])).toEqual([
      ['FROM', 1, 1, []],
      ['ONBUILD', 2, 4, [{ name: 'A', chomp: false, expand: true, fileDescriptor: 0, content: 'b\n' }]],
      ['RUN', 5, 5, []],
      [
        'RUN',
        6,
        11,
        [
          { name: 'A', chomp: true, expand: true, fileDescriptor: 0, content: '\t\ta\n' },
          { name: 'B', chomp: false, expand: true, fileDescriptor: 3, content: 'b\n\tB\n' },
        ],
      ],
      ['RUN', 12, 12, []],
      ['COPY', 13, 14, [{ name: 'A', chomp: false, expand: true, fileDescriptor: 0, content: '' }]],
      ['ADD', 15, 17, [{ name: 'Z', chomp: false, expand: true, fileDescriptor: 0, content: 'z\n' }]],
      ['USER', 18, 18, []],
    ]);
    expect(parseDockerfile('FROM a\nONBUILD USER <<A\nA\n').errors).toEqual([{ line: 3, message: 'unknown instruction "A"' }]);
  });

  it('an unterminated heredoc takes the rest of the file; a heredoc name that does not expand is an error on its line', () => {
    const p = parseDockerfile('FROM a\nRUN <<A\r\nx\r\nA \r\n');
    expect(p.errors).toEqual([{ line: 2, message: 'unterminated heredoc <<A' }]);
    expect(parseDockerfile('FROM a\r\nRUN <<A\r\nx\r\nA\r\nUSER 1\r\n').instructions.map((i) => [i.keyword, i.endLine, i.heredocs.map((h) => h.content)])).toEqual([
      ['FROM', 1, []],
      ['RUN', 4, ['x\r\n']],
      ['USER', 5, []],
    ]);
    expect(p.instructions[1]).toMatchObject({ endLine: 4, heredocs: [{ name: 'A', content: 'x\r\nA \r\n' }] });
    expect(errors("FROM a\nRUN <<${X:-\\'}\n")).toEqual([{ line: 2, message: "failed to process \"${X:-'}\": syntax error: missing '}'" }]);
  });
});

describe('file structure errors, sorted by line', () => {
  it('FROM with a wrong number of words or a bad stage name; one finding for instructions before FROM', () => {
    expect(errors('ARG X\nRUN a\nENV b c\nFROM\nFROM a b\nFROM a AS 1x\nFROM a as B_c.d-e\nFROM a AS b c\nFROMX y\nFROM A aS x\n')).toEqual([
      { line: 2, message: 'RUN before the first FROM (only ARG may come before FROM)' },
      { line: 4, message: 'FROM needs an image' },
      { line: 5, message: 'FROM requires either one or three arguments (image [AS name])' },
      { line: 6, message: 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols' },
      { line: 8, message: 'FROM requires either one or three arguments (image [AS name])' },
      { line: 9, message: 'unknown instruction "FROMX"' },
    ]);
    expect(errors('FOO a\nRUN x\nFROM a\n')).toEqual([
      { line: 1, message: 'unknown instruction "FOO"' },
      { line: 2, message: 'RUN before the first FROM (only ARG may come before FROM)' },
    ]);
    expect(errors('\nARG a\n\n  ARG b\n')).toEqual([{ line: 2, message: 'no FROM instruction: a Dockerfile must build from an image or scratch' }]);
    expect(errors('FROM a AS b!\n')).toEqual([{ line: 1, message: 'invalid name for build stage: "b!", name can\'t start with a number or contain symbols' }]);
    expect(errors('# only a comment\n\n')).toEqual([{ line: 1, message: 'file with no instructions' }]);
  });

  it('errors found while evaluating are merged in line order', () => {
    expect(errors('FROM a\nCOPY --from=$X /a /b\nFOO\n').map((e) => e.line)).toEqual([2, 3]);
    expect(errors('FROM a\nFOO\nCOPY --from=$X /a /b\n').map((e) => e.line)).toEqual([2, 3]);
  });
});

describe('evaluation: variables in scope', () => {
  it('a stage ARG takes the global value, ENV expands with the variables before the instruction, a stage FROM another inherits', () => {
    const text = 'ARG G=g\nENV E=pre\nFROM a:1 AS one\nARG G\nARG H=$G-h\nENV E=$H\nENV E=$E-2 I=${E}\nCOPY $E $I $G /d\nFROM one\nCOPY $E /d\nFROM b\nCOPY $E$G /d\n';
    expect(extractContextSources(parseDockerfile(text))).toEqual([
      { keyword: 'COPY', line: 8, sources: ['g-h-2', 'g-h', 'g'], external: [] },
      { keyword: 'COPY', line: 10, sources: ['g-h-2'], external: [] },
      { keyword: 'COPY', line: 12, sources: [], external: ['$E$G'] },
    ]);
  });

  it('global ARGs expand in order, each with those before it; a stage ARG without a global stays unset', () => {
    expect(sites('ARG A=1\nARG B=$A C=$B\nFROM x:$C\nARG A\nARG D=$A\nFROM y:$D\n').map((s) => [s.resolved, s.unresolved, s.offsets, s.insertAt])).toEqual([
      ['x:1', [], [27, 28, 6], 31],
      [null, ['D'], [52, 53], 56],
    ]);
    expect(sites('ARG B\nFROM ${B}a:$C\n')[0]).toMatchObject({ resolved: null, unresolved: ['B', 'C'], offsets: [15, 16], insertAt: 19 });
  });

  it('build args and builtins: a build arg replaces the default, a builtin fills a declared ARG only', () => {
    expect(sites('ARG A=x\nFROM $A\n', { A: 'y' })[0]).toMatchObject({ resolved: 'y', offsets: [-1], insertAt: 15 });
    expect(sites('ARG A=x\nFROM $A\n')[0]).toMatchObject({ resolved: 'x', offsets: [6], insertAt: 7 });
    const text = 'FROM s\nARG TARGETOS\nCOPY $TARGETOS/$TARGETARCH $TARGETARCH /d\n';
    expect(extractContextSources(parseDockerfile(text), { TARGETOS: 'linux', TARGETARCH: 'arm64' })[0]).toEqual({ keyword: 'COPY', line: 3, sources: [], external: ['$TARGETOS/$TARGETARCH', '$TARGETARCH'] });
    expect(extractContextSources(parseDockerfile('ARG TARGETOS\nFROM s\nARG TARGETOS\nCOPY $TARGETOS /d\n'), { TARGETOS: 'linux' })[0]!.sources).toEqual(['linux']);
  });

  it('expansion errors name the instruction and its line', () => {
    expect(errors('ARG A=${B\nFROM a\nENV C=${D\n')).toEqual([
      { line: 1, message: 'ARG A: failed to process "${B": unsupported modifier () in substitution' },
      { line: 3, message: 'ENV C: failed to process "${D": unsupported modifier () in substitution' },
    ]);
    expect(errors('FROM a:${B\n')).toEqual([{ line: 1, message: 'FROM a:${B: failed to process "a:${B": unsupported modifier () in substitution' }]);
    expect(sites('FROM a:${B\n')[0]).toMatchObject({ resolved: null, offsets: [], unresolved: [], insertAt: 10 });
  });
});

describe('evaluation: image sites', () => {
  it('FROM sites: offsets into ARG defaults, where a digest goes, platform, stage names and stages', () => {
    const text = '# syntax=s:1\nARG R=reg:5000\nARG T\nFROM --platform=$P ${R}/img AS Base\nFROM ${T:-deb}:1 as x\nFROM base\nFROM $R\nFROM ${R:+y}\nFROM scratch\n';
    expect(sites(text)).toEqual([
      { kind: 'syntax', line: 1, raw: 's:1', resolved: 's:1', offsets: [9, 10, 11], insertAt: 12, unresolved: [], isScratch: false, isStage: false },
      {
        kind: 'from', line: 4, raw: '${R}/img', resolved: 'reg:5000/img', offsets: [19, 20, 21, 22, 23, 24, 25, 26, 57, 58, 59, 60], insertAt: 61,
        unresolved: [], isScratch: false, isStage: false, platform: '$P', stageName: 'Base',
      },
      { kind: 'from', line: 5, raw: '${T:-deb}:1', resolved: 'deb:1', offsets: [80, 81, 82, 84, 85], insertAt: 86, unresolved: [], isScratch: false, isStage: false, stageName: 'x' },
      { kind: 'from', line: 6, raw: 'base', resolved: 'base', offsets: [97, 98, 99, 100], insertAt: 101, unresolved: [], isScratch: false, isStage: true },
      { kind: 'from', line: 7, raw: '$R', resolved: 'reg:5000', offsets: [19, 20, 21, 22, 23, 24, 25, 26], insertAt: 27, unresolved: [], isScratch: false, isStage: false },
      { kind: 'from', line: 8, raw: '${R:+y}', resolved: 'y', offsets: [120], insertAt: 121, unresolved: [], isScratch: false, isStage: false },
      { kind: 'from', line: 9, raw: 'scratch', resolved: 'scratch', offsets: [128, 129, 130, 131, 132, 133, 134], insertAt: 135, unresolved: [], isScratch: true, isStage: false },
    ]);
    // an empty variable names no stage; a later stage's name is an image
    expect(sites('ARG E=""\nFROM a AS b\nFROM b$E\nFROM c\nFROM d AS c\n').map((s) => s.isStage)).toEqual([false, true, false, false]);
    expect(sites('FROM a AS x\nFROM x as y extra\n')[1]).not.toHaveProperty('stageName');
  });

  it('COPY --from: stage names in any case, indexes, images; bad indexes and self-copies are errors', () => {
    const text = 'FROM a AS Base\nCOPY --from=0 a b\nFROM b\nCOPY --from=BASE /a /b\nCOPY --from=+0 /a /b\nCOPY --from=-1 /a /b\nCOPY --from=2 /a /b\nCOPY --from=img:1 /a /b\nADD --from=q /a /b\nFROM c\n';
    const p = parseDockerfile(text);
    expect(extractImageReferences(p).filter((s) => s.kind === 'copy-from').map((s) => [s.line, s.raw, s.offsets.length, s.insertAt, s.isStage])).toEqual([
      [2, '0', 1, text.indexOf('0 a b') + 1, true],
      [4, 'BASE', 4, text.indexOf('BASE') + 4, true],
      [5, '+0', 2, text.indexOf('+0') + 2, true],
      [7, '2', 1, text.indexOf('2 /a') + 1, true],
      [8, 'img:1', 5, text.indexOf('img:1') + 5, false],
    ]);
    expect(p.errors).toEqual([
      { line: 2, message: 'circular dependency detected on stage: base (COPY --from=0: it copies from itself)' },
      { line: 6, message: 'COPY --from=-1: invalid stage index -1' },
      { line: 7, message: 'cannot copy from stage "stage-2", it needs to be defined before current stage "stage-1"' },
    ]);
    expect(errors('FROM a\nCOPY --from=1 /a /b\n')).toEqual([{ line: 2, message: 'COPY --from=1: invalid stage index 1' }]);
    expect(extractContextSources(p).map((c) => [c.keyword, c.line, c.sources])).toEqual([['ADD', 9, ['/a']]]);
    expect(errors('FROM a\nCOPY --from=$X /a /b\n')).toEqual([
      { line: 2, message: 'COPY --from=$X: variable expansion is not supported for --from; define a stage with FROM using an ARG from the global scope instead' },
    ]);
    expect(errors('FROM a\nCOPY --from="${X" /a /b\n')[0]!.message).toContain('variable expansion is not supported for --from');
  });

  it('RUN --mount from: every mount flag, the from field in any case, CSV quoting, the errors and messages', () => {
    const text = 'FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nRUN --mount=from=x true\nFROM c\nRUN --mount=from=z true\nFROM d AS z\nRUN --mount=type=bind,FROM=Z,target=/x --mount=from=img:2 --mount=from=x$,x --mount=from= --mount --mount=type=tmpfs true\n';
    const p = parseDockerfile(text);
    expect(extractImageReferences(p).filter((s) => s.kind === 'mount-from').map((s) => [s.line, s.raw, s.isStage])).toEqual([
      [4, 'x', true],
      [6, 'z', true],
      [8, 'Z', true],
      [8, 'img:2', false],
      [8, 'x$', false],
    ]);
    expect(p.errors).toEqual([
      { line: 2, message: 'circular dependency detected on stage: x (COPY --from=y: it needs stage "y", which needs it in turn)' },
      { line: 4, message: 'circular dependency detected on stage: y (RUN --mount --from=x: it needs stage "x", which needs it in turn)' },
      { line: 6, message: 'cannot mount from stage "z", it needs to be defined before current stage "stage-2"' },
      { line: 8, message: 'circular dependency detected on stage: z (RUN --mount --from=Z: it copies from itself)' },
    ]);
    const csv = 'FROM a\nRUN --mount=\'"from=a""b",target=/x\' --mount="\\"from=c\\",x" true\n';
    expect(sites(csv).slice(1).map((s) => [s.resolved, s.offsets, s.insertAt])).toEqual([
      ['a"b', [26, 28, 29], 30],
      ['c', [59], 60],
    ]);
    expect(errors('FROM a\nRUN --mount=from=$X,target=/x true\n')).toEqual([
      { line: 2, message: "RUN --mount from=$X: 'from' doesn't support variable expansion, define alias stage instead" },
    ]);
    expect(sites('RUN --mount=from=img true\nFROM a\n').map((s) => s.kind)).toEqual(['from']);
  });

  it('pulledImages: the images, once each, without stages, scratch, unresolved ones or the frontend', () => {
    const text = '# syntax=s:1\nARG V\nFROM a:1 AS b\nFROM scratch\nCOPY --from=b /a /a\nCOPY --from=a:1 /a /a\nRUN --mount=from=m:1 true\nFROM x:$V\n';
    expect(pulledImages(text)).toEqual(['a:1', 'm:1']);
    expect(pulledImages(text, { V: '2' })).toEqual(['a:1', 'm:1', 'x:2']);
  });

  it('platformBuildArgs', () => {
    expect(platformBuildArgs('linux/arm64/v8')).toEqual({ TARGETPLATFORM: 'linux/arm64/v8', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: 'v8' });
    expect(platformBuildArgs('windows')).toEqual({ TARGETPLATFORM: 'windows', TARGETOS: 'windows', TARGETARCH: 'amd64', TARGETVARIANT: '' });
  });
});

describe('evaluation: context sources', () => {
  it('every source but the destination; URLs, git and unresolved ones are external', () => {
    const text = 'FROM a\nCOPY a <<EOF git@github.com:x/y Git://h/r HTTPS://h/f s3+x.y-z://b ./c:/d /dst/\nEOF\nADD 1http://x ok /d\n';
    expect(extractContextSources(parseDockerfile(text))).toEqual([
      { keyword: 'COPY', line: 2, sources: ['a', './c:/d'], external: ['git@github.com:x/y', 'Git://h/r', 'HTTPS://h/f', 's3+x.y-z://b'] },
      { keyword: 'ADD', line: 4, sources: ['1http://x', 'ok'], external: [] },
    ]);
    expect(extractContextSources(parseDockerfile('COPY a /b\nFROM a\n'))).toEqual([]);
    expect(extractContextSources(parseDockerfile('FROM a\nCOPY "${X" /b\n'))[0]!.external).toEqual(['"${X"']);
  });
});

describe('stages found by name', () => {
  it('the first stage of a name counts; an unnamed stage is never found by an empty name', () => {
    const s = sites('FROM a AS x\nFROM b AS X\nCOPY --from=x /a /b\nFROM x AS y\nFROM y AS y\nCOPY --from=y a b\n');
    expect(s.map((site) => [site.kind, site.line, site.isStage])).toEqual([
      ['from', 1, false],
      ['from', 2, false],
      ['copy-from', 3, true],
      ['from', 4, true],
      ['from', 5, true],
      ['copy-from', 6, true],
    ]);
    expect(errors('FROM a AS x\nFROM b AS X\nCOPY --from=x /a /b\n')).toEqual([]);
    const text = 'ARG E=\nFROM a\nENV X=1\nFROM $E\nCOPY $X /d\nFROM c AS l\nENV Y=2\nFROM l\nCOPY $Y /d\n';
    expect(extractContextSources(parseDockerfile(text))).toEqual([
      { keyword: 'COPY', line: 5, sources: [], external: ['$X'] },
      { keyword: 'COPY', line: 9, sources: ['2'], external: [] },
    ]);
    expect(sites('FROM a\nCOPY --from= /a /b\nRUN --mount=from= true\n').map((site) => [site.kind, site.isStage, site.insertAt])).toEqual([
      ['from', false, 6],
      ['copy-from', false, undefined],
    ]);
  });

  it('instructions that name no image: FROM without one, COPY --from without a value, anything before the first FROM', () => {
    expect(sites('FROM\nFROM a\n').map((site) => site.line)).toEqual([2]);
    expect(sites('COPY --from=x /a /b\nFROM a\n').map((site) => site.line)).toEqual([2]);
    const p = parseDockerfile('FROM a\nCOPY --from /a /b\n');
    expect(extractImageReferences(p).map((site) => site.kind)).toEqual(['from']);
    expect(extractContextSources(p)).toEqual([{ keyword: 'COPY', line: 2, sources: ['/a'], external: [] }]);
  });
});

describe('rewriting in place', () => {
  it('writtenSpan: only characters written in one run, matching the text', () => {
    const text = 'FROM abc\n';
    expect(writtenSpan(text, 'abc', [5, 6, 7], 0, 3)).toEqual({ start: 5, end: 8 });
    expect(writtenSpan(text, 'abc', [5, 6, 7], 1, 2)).toEqual({ start: 6, end: 7 });
    expect(writtenSpan(text, 'abc', [5, 6, 7], 2, 2)).toBeUndefined();
    expect(writtenSpan(text, 'abc', [5, 6, 7], 2, 1)).toBeUndefined();
    expect(writtenSpan(text, 'abc', [-1, 6, 7], 0, 3)).toBeUndefined();
    expect(writtenSpan(text, 'abc', [5, 6, 7], 3, 4)).toBeUndefined();
    expect(writtenSpan(text, 'abc', [5, 7, 7], 0, 3)).toBeUndefined();
    expect(writtenSpan(text, 'abc', [5, 6, 8], 0, 3)).toBeUndefined();
    expect(writtenSpan(text, 'abd', [5, 6, 7], 0, 3)).toBeUndefined();
    expect(writtenSpan(text, 'abd', [5, 6, 7], 0, 2)).toEqual({ start: 5, end: 7 });
  });

  it('editPlace: the line, and whether the offset is in the syntax directive or an ARG default (their ends included)', () => {
    const text = '# syntax=s:1\nARG A=abc B C="d e"\nFROM x\n';
    const p = parseDockerfile(text);
    expect([0, 8, 9, 12, 13, 18, 19, 22, 23, 26, 27, 32, 35].map((o) => [o, editPlace(p, o)])).toEqual([
      [0, { line: 1, via: 'instruction' }],
      [8, { line: 1, via: 'instruction' }],
      [9, { line: 1, via: 'directive' }],
      [12, { line: 1, via: 'directive' }],
      [13, { line: 2, via: 'instruction' }],
      [18, { line: 2, via: 'instruction' }],
      [19, { line: 2, via: 'arg', argName: 'A' }],
      [22, { line: 2, via: 'arg', argName: 'A' }],
      [23, { line: 2, via: 'instruction' }],
      [26, { line: 2, via: 'instruction' }],
      [27, { line: 2, via: 'arg', argName: 'C' }],
      [32, { line: 2, via: 'arg', argName: 'C' }],
      [35, { line: 3, via: 'instruction' }],
    ]);
    const noSyntax = parseDockerfile('FROM x\nARG E=\nARG F=1\nRUN G=2\n');
    expect(editPlace(noSyntax, 1)).toEqual({ line: 1, via: 'instruction' });
    expect(editPlace(noSyntax, 13)).toEqual({ line: 2, via: 'instruction' });
    expect(editPlace(noSyntax, 20)).toEqual({ line: 3, via: 'arg', argName: 'F' });
    expect(editPlace(noSyntax, 28)).toEqual({ line: 4, via: 'instruction' });
  });

  it('applyEdits: any order in, back to front, byte for byte', () => {
    expect(applyEdits('abcdef', [])).toBe('abcdef');
    expect(applyEdits('abcdef', [{ start: 0, end: 1, replacement: 'X' }, { start: 4, end: 6, replacement: 'YZW' }, { start: 2, end: 2, replacement: '-' }])).toBe('Xb-cdYZW');
    expect(applyEdits('abcdef', [{ start: 2, end: 4, replacement: 'Y' }, { start: 2, end: 2, replacement: 'X' }])).toBe('abXYef');
    expect(applyEdits('abcdef', [{ start: 1, end: 2, replacement: '1' }, { start: 2, end: 3, replacement: '2' }])).toBe('a12def');
    expect(applyEdits('abcdef', [{ start: 3, end: 3, replacement: 'X' }, { start: 2, end: 3, replacement: 'Y' }])).toBe('abYXdef');
    expect(applyEdits('abcdef', [{ start: 3, end: 3, replacement: 'X' }, { start: 1, end: 1, replacement: 'Y' }])).toBe('aYbcXdef');
    expect(() => applyEdits('abcdef', [{ start: 1, end: 4, replacement: 'x' }, { start: 3, end: 5, replacement: 'y' }])).toThrow(new Error('overlapping edits at offset 1'));
    expect(() => applyEdits('abcdef', [{ start: 1, end: 3, replacement: 'x' }, { start: 1, end: 4, replacement: 'y' }])).toThrow(new Error('overlapping edits at offset 1'));
    expect(() => applyEdits('abcdef', [{ start: 4, end: 4, replacement: 'x' }, { start: 4, end: 4, replacement: 'y' }])).toThrow(new Error('overlapping edits at offset 4'));
  });
});

describe('stage dependency cycles', () => {
  it('only the dependencies on a cycle are circular; several cycles, and a later stage off any cycle', () => {
    const text = [
      'FROM a AS s0', // 1
      'COPY --from=s1 /a /a', // 2
      'FROM a AS s1', // 3
      'RUN --mount=from=s2 true', // 4
      'FROM a AS s2', // 5
      'COPY --from=s0 /a /a', // 6
      'COPY --from=s3 /a /a', // 7
      'FROM a AS s3', // 8
      'FROM a AS s4', // 9
      'COPY --from=s5 /a /a', // 10
      'FROM a AS s5', // 11
      'COPY --from=s4 /a /a', // 12
      'COPY --from=s3 /a /a', // 13
      'COPY --from=s2 /a /a', // 14
    ].join('\n');
    expect(errors(text)).toEqual([
      { line: 2, message: 'circular dependency detected on stage: s0 (COPY --from=s1: it needs stage "s1", which needs it in turn)' },
      { line: 4, message: 'circular dependency detected on stage: s1 (RUN --mount --from=s2: it needs stage "s2", which needs it in turn)' },
      { line: 6, message: 'circular dependency detected on stage: s2 (COPY --from=s0: it needs stage "s0", which needs it in turn)' },
      { line: 7, message: 'cannot copy from stage "s3", it needs to be defined before current stage "s2"' },
      { line: 10, message: 'circular dependency detected on stage: s4 (COPY --from=s5: it needs stage "s5", which needs it in turn)' },
      { line: 12, message: 'circular dependency detected on stage: s5 (COPY --from=s4: it needs stage "s4", which needs it in turn)' },
    ]);
    // the same stages, visited from the other end
    const reversed = 'FROM a AS s0\nFROM a AS s1\nCOPY --from=s0 /a /a\nCOPY --from=s2 /a /a\nFROM a AS s2\nCOPY --from=s1 /a /a\nCOPY --from=s3 /a /a\nFROM a AS s3\nCOPY --from=s0 /a /a\n';
    expect(errors(reversed)).toEqual([
      { line: 4, message: 'circular dependency detected on stage: s1 (COPY --from=s2: it needs stage "s2", which needs it in turn)' },
      { line: 6, message: 'circular dependency detected on stage: s2 (COPY --from=s1: it needs stage "s1", which needs it in turn)' },
      { line: 7, message: 'cannot copy from stage "s3", it needs to be defined before current stage "s2"' },
    ]);
  });
});

describe('edge cases, one at a time', () => {
  it('lines and directives', () => {
    expect(parseDockerfile('FROM a\rb\n').instructions[0]).toMatchObject({ args: 'a\rb', words: [{ value: 'a', start: 0 }, { value: 'b', start: 2 }] });
    expect(parseDockerfile('xsyntax=a\nFROM b\n')).toMatchObject({ directives: [], syntax: undefined });
    expect(parseDockerfile('#syntax = a\nFROM b\n').syntax).toEqual({ value: 'a', start: 10, line: 1 });
  });

  it('argument parsers', () => {
    expect(errors('FROM a\nARG a =x\n')).toEqual([{ line: 2, message: 'ARG names can not be blank' }]);
    expect(parseWords('\\', '\\')).toEqual([]);
    expect(words('FROM a\nENV a=1 =x\n')).toEqual([
      { value: 'a', start: 0 },
      { value: '1', start: 2 },
      { value: '=', start: -1 },
      { value: '', start: 4 },
      { value: 'x', start: 5 },
      { value: '=', start: -1 },
    ]);
    expect(errors('FROM a\nENV a=1 =x\n')).toEqual([]);
  });

  it('<<- strips leading tabs only, all of them', () => {
    const p = parseDockerfile('FROM a\nRUN <<-A\nA\t\n\t\tA\nUSER 1\n');
    expect(p.instructions.map((i) => [i.keyword, i.endLine, i.heredocs.map((h) => h.content)])).toEqual([
      ['FROM', 1, []],
      ['RUN', 4, ['A\t\n']],
      ['USER', 5, []],
    ]);
  });

  it('FROM with three words that are not `AS name`', () => {
    const text = 'FROM a b c\nFROM d\nCOPY --from=c /a /b\n';
    expect(errors(text)).toEqual([{ line: 1, message: 'FROM requires either one or three arguments (image [AS name])' }]);
    const [first, , copy] = sites(text);
    expect(first).not.toHaveProperty('stageName');
    expect(copy).toMatchObject({ kind: 'copy-from', isStage: false });
  });

  it('only --platform is the platform; a stage named as its own base is an image', () => {
    expect(sites('FROM --foo=x a\n')[0]).not.toHaveProperty('platform');
    expect(sites('FROM a\n')[0]).not.toHaveProperty('platform');
    const text = 'FROM a AS a\nENV X=1\nCOPY $X /y\n';
    expect(sites(text)[0]).toMatchObject({ resolved: 'a', isStage: false, stageName: 'a' });
    expect(extractContextSources(parseDockerfile(text))).toEqual([{ keyword: 'COPY', line: 3, sources: ['1'], external: [] }]);
  });

  it('values expand with the file escape token; failed expansions and ENV before FROM set nothing', () => {
    expect(sites('# escape=`\nARG A=a`$b\nFROM $A\n')[0]!.resolved).toBe('a$b');
    expect(sites('ARG A=${B\nFROM x:$A\n')[0]).toMatchObject({ resolved: null, unresolved: ['A'] });
    expect(sites('ENV E=x\nFROM a:$E\n')[0]).toMatchObject({ resolved: null, unresolved: ['E'] });
    expect(extractContextSources(parseDockerfile('FROM a\nENV E=${B\nCOPY $E /d\n'))[0]!.external).toEqual(['$E']);
    expect(sites('ARG E=\nFROM $E\n')[0]).toMatchObject({ resolved: '', offsets: [], insertAt: 14 });
  });

  it('COPY --from sites in full; a stage index of two digits', () => {
    const text = 'FROM a\nCOPY --from=scratch /a /b\n';
    expect(sites(text)[1]).toEqual({ kind: 'copy-from', line: 2, raw: 'scratch', resolved: 'scratch', offsets: [19, 20, 21, 22, 23, 24, 25], insertAt: 26, unresolved: [], isScratch: true, isStage: false });
    expect(errors('FROM a\nCOPY --from=10 /a /b\n')).toEqual([{ line: 2, message: 'COPY --from=10: invalid stage index 10' }]);
  });
});

describe('more exact cases', () => {
  it('two cycles that both depend on an earlier stage are two components', () => {
    const text = [
      'FROM a AS s0', // 1
      'FROM a AS s1', // 2
      'COPY --from=s0 /a /a', // 3
      'COPY --from=s2 /a /a', // 4
      'FROM a AS s2', // 5
      'COPY --from=s1 /a /a', // 6
      'FROM a AS s3', // 7
      'COPY --from=s0 /a /a', // 8
      'COPY --from=s4 /a /a', // 9
      'COPY --from=s1 /a /a', // 10
      'FROM a AS s4', // 11
      'COPY --from=s3 /a /a', // 12
    ].join('\n');
    expect(errors(text).map((e) => e.line)).toEqual([4, 6, 9, 12]);
  });

  it('CSV fields of a mount: a quote inside a field is a character; offsets of later fields', () => {
    expect(sites('FROM a\nRUN --mount=from=a\\"b true\n')[1]).toMatchObject({ resolved: 'a"b', offsets: [24, 26, 27] });
    expect(sites('FROM a\nRUN --mount=type=bind,from=i true\n')[1]).toMatchObject({ resolved: 'i', offsets: [34], insertAt: 35 });
  });

  it('COPY sources expand with the file escape token', () => {
    expect(extractContextSources(parseDockerfile('# escape=`\nFROM a\nCOPY a`$b /d\n'))[0]!.sources).toEqual(['a$b']);
  });

  it('an insertion after a replacement that starts at the same offset', () => {
    expect(applyEdits('abcdef', [{ start: 1, end: 1, replacement: 'X' }, { start: 1, end: 3, replacement: 'Y' }, { start: 0, end: 0, replacement: 'Z' }])).toBe('ZaXYdef');
  });
});
