import { describe, expect, it } from 'vitest';
import { applyEdits, editPlace, writtenSpan } from '../../src/core/dockerfile/edits.js';
import { extractContextSources, extractImageReferences } from '../../src/core/dockerfile/extract.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { type ImageRefSite } from '../../src/core/dockerfile/references.js';
import { atScale } from '../support/scale.js';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

function refs(text: string) {
  return extractImageReferences(parseDockerfile(text));
}

/** The whole reference of a site, where it is written as one piece of text. */
function wholeSpan(text: string, site: ImageRefSite) {
  return site.resolved === null ? undefined : writtenSpan(text, site.resolved, site.offsets, 0, site.resolved.length);
}

function rewrite(text: string, index: number, replacement: string): string {
  const span = wholeSpan(text, refs(text)[index]!);
  expect(span).toBeDefined();
  return applyEdits(text, [{ ...span!, replacement }]);
}

describe('parseDockerfile', () => {
  it('joins continuations, drops comment lines inside them, and keeps line numbers', () => {
    const p = parseDockerfile('FROM debian:12\nRUN apt-get update && \\\n# a comment\n    apt-get install -y gcc\nCOPY a b\n');
    expect(p.errors).toEqual([]);
    expect(p.instructions.map((i) => [i.keyword, i.line, i.endLine])).toEqual([
      ['FROM', 1, 1],
      ['RUN', 2, 4],
      ['COPY', 5, 5],
    ]);
    expect(p.instructions[1]!.args).toBe('apt-get update &&     apt-get install -y gcc');
  });

  it('honours the escape directive', () => {
    const p = parseDockerfile('# escape=`\nFROM mcr.microsoft.com/windows:ltsc`\n  @' + D1 + '\nRUN dir c:\\\n');
    expect(p.escape).toBe('`');
    expect(p.instructions).toHaveLength(2);
    expect(p.instructions[0]!.args).toBe('mcr.microsoft.com/windows:ltsc  @' + D1);
    expect(p.instructions[1]!.args).toBe('dir c:\\');
  });

  it('keeps heredoc bodies out of the instruction stream', () => {
    const p = parseDockerfile('FROM scratch\nRUN <<EOF\nFROM evil\nEOF\nCOPY <<-"X" /a\n\tFROM also-not\n\tX\nUSER 1\n');
    expect(p.errors).toEqual([]);
    expect(p.instructions.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'COPY', 'USER']);
    expect(p.instructions[1]!.heredocs[0]).toEqual({ name: 'EOF', chomp: false, expand: true, fileDescriptor: 0, content: 'FROM evil\n' });
    expect(p.instructions[2]!.heredocs[0]).toEqual({ name: 'X', chomp: true, expand: false, fileDescriptor: 0, content: '\tFROM also-not\n' });
    expect(p.instructions[3]!.line).toBe(8);
  });

  it('reports broken files with their lines instead of throwing', () => {
    const p = parseDockerfile('RUN echo hi\nFROMM debian\nRUN <<EOF\nnever closed\n');
    expect(p.errors).toEqual([
      { line: 1, message: 'RUN before the first FROM (only ARG may come before FROM)' },
      { line: 1, message: expect.stringContaining('no FROM') },
      { line: 2, message: 'unknown instruction "FROMM"' },
      { line: 3, message: 'unterminated heredoc <<EOF' },
    ]);
    expect(parseDockerfile('').errors[0]!.message).toBe('file with no instructions');
  });

  it('rejects ONBUILD chains and FROM/MAINTAINER triggers, as BuildKit does (and recursion stays one deep)', () => {
    expect(parseDockerfile('FROM a\nONBUILD ONBUILD RUN x\n').errors).toEqual([{ line: 2, message: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" }]);
    expect(parseDockerfile('FROM a\nONBUILD from b\n').errors).toEqual([{ line: 2, message: "FROM isn't allowed as an ONBUILD trigger" }]);
    expect(parseDockerfile(`FROM a\n${'ONBUILD '.repeat(50000)}RUN x\n`).errors).toHaveLength(1);
  });

  it('takes very long lines and values', () => {
    const long = 'x'.repeat(atScale(300_000, 3_000));
    const p = parseDockerfile(`ARG A=${long}\nARG B="\${A}\${A}"\nFROM debian:\\\n${long}\nARG B\nCOPY \${B} /d\n`);
    expect(p.errors).toEqual([]);
    expect(p.instructions[2]!.args).toHaveLength(7 + long.length);
    expect(extractImageReferences(p)[0]!.resolved).toHaveLength(7 + long.length);
    expect(extractContextSources(p)[0]!.sources[0]).toHaveLength(2 * long.length);
  });

  it('parses flags and CRLF files', () => {
    const p = parseDockerfile('FROM --platform=$BUILDPLATFORM debian:12 AS build\r\nCOPY --from=build --chown=1:1 /a /b\r\n');
    expect(p.instructions[0]!.flags).toEqual([{ name: 'platform', value: '$BUILDPLATFORM', text: '--platform=$BUILDPLATFORM', valueOffsets: [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29] }]);
    expect(p.instructions[1]!.flags.map((f) => f.name)).toEqual(['from', 'chown']);
  });
});

describe('ARG values expand like BuildKit', () => {
  const resolvedFrom = (args: string) => refs(`${args}\nFROM \${IMG}\n`)[0]!;
  it.each([
    ['ARG A=x\nARG IMG=$A', 'x'],
    ['ARG A=x\nARG IMG=${A}/y', 'x/y'],
    ['ARG NOVAL\nARG IMG=${NOVAL:-d}', 'd'],
    ['ARG EMPTY=\nARG IMG=${EMPTY:-d}', 'd'],
    ['ARG EMPTY=\nARG IMG=a${EMPTY-d}', 'a'],
    ['ARG A=x\nARG IMG=${A:+alt}', 'alt'],
    ['ARG NOVAL\nARG IMG=a${NOVAL:+alt}', 'a'],
    [`ARG IMG=\${MISSING:-img:1@${D1}}`, `img:1@${D1}`],
    ['ARG A=deb\nARG IMG="${A}ian:12" B', 'debian:12'],
  ])('%s -> %s', (args, out) => {
    expect(resolvedFrom(args)).toMatchObject({ resolved: out, unresolved: [] });
  });
  it('names variables without a value', () => {
    expect(refs('ARG NOVAL\nFROM ${NOVAL}/$MISSING\n')[0]).toMatchObject({ resolved: null, unresolved: ['NOVAL', 'MISSING'] });
  });
});

describe('extractImageReferences', () => {
  it('resolves with build args over ARG defaults (what a build really pulls), edits still aim at the default', () => {
    const text = `ARG BASE_IMAGE=debian:bookworm@${D1}\nARG TARGETARCH\nFROM \${BASE_IMAGE}\nFROM tools:\${TARGETARCH}\n`;
    const [from, tools] = extractImageReferences(parseDockerfile(text), { BASE_IMAGE: `mirror:5000/debian:bookworm@${D2}`, TARGETARCH: 'arm64' });
    expect(from!.resolved).toBe(`mirror:5000/debian:bookworm@${D2}`);
    expect(tools!.resolved).toBe('tools:arm64');
    // offsets still point at the default written in the file, not at the build arg
    expect(from!.offsets.every((o) => o === -1)).toBe(true);
    const plain = extractImageReferences(parseDockerfile(text))[0]!;
    const span = wholeSpan(text, plain)!;
    expect(editPlace(parseDockerfile(text), span.start)).toEqual({ line: 1, via: 'arg', argName: 'BASE_IMAGE' });
    expect(text.slice(span.start, span.end)).toBe(`debian:bookworm@${D1}`);
    expect(extractImageReferences(parseDockerfile(text))[0]!.resolved).toBe(`debian:bookworm@${D1}`);
  });

  it('finds FROM, COPY --from and RUN --mount=from, and tells images from stages and scratch', () => {
    const sites = refs(
      [
        `FROM --platform=linux/arm64 gcc:13@${D1} AS build`,
        'FROM scratch',
        'COPY --from=build /a /a',
        'COPY --from=0 /b /b',
        `COPY --from=busybox:1@${D2} /bin/sh /sh`,
        `RUN --mount=type=bind,from=alpine:3@${D1},target=/x true`,
      ].join('\n'),
    );
    expect(sites.map((s) => [s.kind, s.resolved, s.isStage, s.isScratch])).toEqual([
      ['from', `gcc:13@${D1}`, false, false],
      ['from', 'scratch', false, true],
      ['copy-from', 'build', true, false],
      ['copy-from', '0', true, false],
      ['copy-from', `busybox:1@${D2}`, false, false],
      ['mount-from', `alpine:3@${D1}`, false, false],
    ]);
    expect(sites[0]!.platform).toBe('linux/arm64');
    expect(sites[0]!.stageName).toBe('build');
  });

  it('resolves FROM ${BASE} from a global ARG and edits the ARG line', () => {
    const text = `# base\nARG BASE_IMAGE="debian:bookworm@${D1}"\nFROM \${BASE_IMAGE}\nRUN true\n`;
    const [site] = refs(text);
    expect(site!.resolved).toBe(`debian:bookworm@${D1}`);
    const span = wholeSpan(text, site!)!;
    expect(editPlace(parseDockerfile(text), span.start)).toEqual({ via: 'arg', argName: 'BASE_IMAGE', line: 2 });
    expect(text.slice(span.start, span.end)).toBe(`debian:bookworm@${D1}`);
    expect(rewrite(text, 0, `debian:bookworm@${D2}`)).toBe(text.replace(D1, D2));
  });

  it('edits the ${VAR:-default} text when the ARG has no value', () => {
    const text = `ARG BASE\nFROM \${BASE:-debian:12@${D1}} AS x\n`;
    const [site] = refs(text);
    expect(site!.resolved).toBe(`debian:12@${D1}`);
    expect(editPlace(parseDockerfile(text), wholeSpan(text, site!)!.start).via).toBe('instruction');
    expect(rewrite(text, 0, `debian:12@${D2}`)).toBe(text.replace(D1, D2));
  });

  it('keeps everything else byte for byte, including CRLF and continuations', () => {
    const text = `FROM \\\r\n  --platform=linux/amd64 \\\r\n  debian:12@${D1}\r\nRUN x\r\n`;
    expect(rewrite(text, 0, `debian:12@${D2}`)).toBe(text.replace(D1, D2));
  });

  it('resolves assembled references; only the part written in one place can be edited', () => {
    const text = `ARG REG=ghcr.io\nFROM \${REG}/org/img:1@${D1}\nFROM \${UNSET}\n`;
    const [a, b] = refs(text);
    expect(a!.resolved).toBe(`ghcr.io/org/img:1@${D1}`);
    expect(wholeSpan(text, a!)).toBeUndefined();
    const digestAt = a!.resolved!.indexOf('@') + 1;
    expect(writtenSpan(text, a!.resolved!, a!.offsets, digestAt, a!.resolved!.length)).toEqual({ start: text.indexOf(D1), end: text.indexOf(D1) + D1.length });
    expect(b!.resolved).toBeNull();
    expect(b!.unresolved).toEqual(['UNSET']);
  });

  it('COPY --from and RUN --mount from take no variables (BuildKit rejects them)', () => {
    const text = `ARG IMG=busybox:1@${D1}\nFROM scratch\nARG IMG\nCOPY --from=\${IMG} /a /a\nRUN --mount=from=$IMG,target=/x true\n`;
    const parsed = parseDockerfile(text);
    expect(parsed.errors.map((e) => [e.line, e.message])).toEqual([
      [4, expect.stringContaining('variable expansion is not supported for --from')],
      [5, expect.stringContaining("'from' doesn't support variable expansion")],
    ]);
    expect(extractImageReferences(parsed)).toHaveLength(1); // only the FROM
  });
});

describe('extractContextSources', () => {
  it('lists COPY/ADD sources from the context, not --from or URLs or heredocs', () => {
    const text = [
      'FROM scratch',
      'ARG DIR=scripts',
      'COPY --chown=0:0 a.sh b\\ c.sh /dst/',
      'COPY ["x.txt", "/y"]',
      'COPY --from=other /z /z',
      'ADD https://example.com/f.tgz /f',
      'COPY $DIR/run.sh /run.sh',
      'COPY <<EOF /inline',
      'hello',
      'EOF',
    ].join('\n');
    expect(extractContextSources(parseDockerfile(text))).toEqual([
      { keyword: 'COPY', line: 3, sources: ['a.sh', 'b', 'c.sh'], external: [] },
      { keyword: 'COPY', line: 4, sources: ['x.txt'], external: [] },
      { keyword: 'ADD', line: 6, sources: [], external: ['https://example.com/f.tgz'] },
      { keyword: 'COPY', line: 7, sources: ['scripts/run.sh'], external: [] },
      { keyword: 'COPY', line: 8, sources: [], external: [] },
    ]);
  });
});

describe('applyEdits', () => {
  it('inserts, replaces, and refuses overlaps or two insertions at one offset', () => {
    expect(applyEdits('abcdef', [{ start: 2, end: 2, replacement: 'X' }, { start: 2, end: 4, replacement: 'Y' }])).toBe('abXYef');
    expect(() => applyEdits('abcdef', [{ start: 2, end: 2, replacement: 'X' }, { start: 2, end: 2, replacement: 'Y' }])).toThrow(/overlapping/);
  });
  it('refuses overlapping edits', () => {
    expect(() => applyEdits('abcdef', [{ start: 0, end: 3, replacement: 'x' }, { start: 2, end: 4, replacement: 'y' }])).toThrow(/overlapping/);
  });
});

describe('extractContextSources with BuildKit platform ARGs', () => {
  it('fills declared-but-empty TARGETARCH from the builtins', () => {
    const text = 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH}/ /usr/bin/\n';
    expect(extractContextSources(parseDockerfile(text), { TARGETARCH: 'arm64' })[0]!.sources).toEqual(['bin/arm64/']);
    expect(extractContextSources(parseDockerfile(text))[0]!.external).toEqual(['bin/${TARGETARCH}/']);
  });
});

describe('issue 13 regressions', () => {
  it('1. parser directives: white space before # and around =, any case, only at the top', () => {
    const text = ` # EsCaPe = \`\nFROM debian:12@${D1} AS build\nRUN dir c:\\\nFROM \`\n  scratch\nCOPY --from=build /a /a\n`;
    const p = parseDockerfile(text);
    expect(p.errors).toEqual([]);
    expect(p.escape).toBe('`');
    expect(p.directives).toEqual([{ name: 'escape', value: '`', line: 1 }]);
    expect(p.instructions.map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', `debian:12@${D1} AS build`],
      ['RUN', 'dir c:\\'],
      ['FROM', 'scratch'],
      ['COPY', '/a /a'],
    ]);
    expect(extractImageReferences(p).map((s) => [s.resolved, s.isStage, s.isScratch])).toEqual([
      [`debian:12@${D1}`, false, false],
      ['scratch', false, true],
      ['build', true, false],
    ]);
    // After a comment or an instruction a directive is just a comment; a repeated one is an error.
    expect(parseDockerfile('# hello\n# escape=`\nFROM a\n').escape).toBe('\\');
    expect(parseDockerfile('FROM a\n# escape=`\n').escape).toBe('\\');
    expect(parseDockerfile('# escape=`\n# ESCAPE=\\\nFROM a\n').errors).toEqual([{ line: 2, message: 'only one escape parser directive can be used' }]);
    expect(parseDockerfile('# escape=x\nFROM a\n').errors[0]!.message).toContain("invalid escape token 'x'");
  });

  it('2. ARG values are expanded with the variables in scope and unquoted; global and stage scopes as BuildKit', () => {
    const text = [
      'ARG A=debian', // 1
      `ARG B="\${A}:12@${D1}"`, // 2
      'ARG IMAGE=${IMAGE:-ubuntu:xenial}', // 3
      'ARG DIR=scripts', // 4
      'FROM $B', // 5
      'FROM ${IMAGE}', // 6
      'ARG SUB=${DIR}/x', // 7: DIR is global, not visible here
      'ARG DIR', // 8: now it is
      'ARG SUB2=${DIR}/y X Y=1', // 9: three ARGs
      'ENV E=etc F="$Y $X"', // 10
      'COPY $SUB $SUB2 ${E} ${F} /dst/', // 11
    ].join('\n');
    const p = parseDockerfile(text);
    expect(p.errors).toEqual([]);
    expect(extractImageReferences(p).map((s) => s.resolved)).toEqual([`debian:12@${D1}`, 'ubuntu:xenial']);
    expect(extractImageReferences(p, { IMAGE: 'mirror/ubuntu:xenial' })[1]!.resolved).toBe('mirror/ubuntu:xenial');
    expect(extractContextSources(p)[0]).toMatchObject({ sources: ['/x', 'scripts/y', 'etc', '1 '] });
  });

  it('2. only own build args count (no Object prototype names)', () => {
    expect(refs('ARG toString=debian:12\nFROM $toString\n')[0]!.resolved).toBe('debian:12');
  });

  it('2. a stage built FROM another inherits its variables', () => {
    const p = parseDockerfile('FROM scratch AS a\nENV D=etc\nFROM a\nCOPY $D /d\n');
    expect(extractContextSources(p)[0]!.sources).toEqual(['etc']);
  });

  it('3. COPY --from its own stage (by name or index) or a later one is a parse error, not an image', () => {
    const self = parseDockerfile('FROM debian AS Build\nCOPY --from=build /a /a\nFROM scratch\nCOPY --from=1 /b /b\n');
    expect(self.errors.map((e) => [e.line, e.message])).toEqual([
      [2, expect.stringContaining('circular dependency detected on stage: build')],
      [4, expect.stringContaining('circular dependency detected on stage: stage-1')],
    ]);
    expect(extractImageReferences(self).filter((s) => s.kind === 'copy-from').every((s) => s.isStage)).toBe(true);
    const later = parseDockerfile('FROM debian AS a\nCOPY --from=b /a /a\nFROM scratch AS b\n');
    expect(later.errors).toEqual([{ line: 2, message: 'cannot copy from stage "b", it needs to be defined before current stage "a"' }]);
    expect(parseDockerfile('FROM a\nCOPY --from=7 /a /a\n').errors[0]!.message).toContain('invalid stage index 7');
    // Round a loop of many stages (no recursion limit on stage count); the dependencies off the loop are fine.
    const n = atScale(20000, 200);
    const loop = Array.from({ length: n }, (_, i) => `FROM scratch AS s${i}\nCOPY --from=s${(i + 1) % n} /a /a\n`).join('') + 'FROM scratch AS t\nCOPY --from=s0 /a /a\n';
    const errors = parseDockerfile(loop).errors;
    expect(errors.filter((e) => e.message.includes('circular dependency'))).toHaveLength(n);
    expect(errors).toHaveLength(n);
  });

  it('a continuation keeps the next line as written (BuildKit): FROM\\ + "debian" is FROMdebian', () => {
    expect(parseDockerfile('FROM\\\n  debian:12\n').instructions[0]).toMatchObject({ keyword: 'FROM', args: 'debian:12' });
    expect(parseDockerfile('FROM\\\ndebian:12\n').errors.map((e) => e.message)).toContain('unknown instruction "FROMdebian:12"');
  });

  it('4. the # syntax= directive names an image', () => {
    const text = `# syntax = docker/dockerfile:1.7@${D1} // options\nFROM scratch\n`;
    const [syntax] = refs(text);
    expect(syntax).toMatchObject({ kind: 'syntax', line: 1, resolved: `docker/dockerfile:1.7@${D1}` });
    expect(text.slice(syntax!.offsets[0], syntax!.offsets[0]! + syntax!.resolved!.length)).toBe(syntax!.resolved);
    expect(refs(`#!/bin/sh\n#syntax=docker/dockerfile:1\nFROM scratch\n`)[0]).toMatchObject({ kind: 'syntax', line: 2 });
    expect(refs(`FROM scratch\n# syntax=docker/dockerfile:1\n`).map((s) => s.kind)).toEqual(['from']);
  });
});
