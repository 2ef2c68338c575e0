// Lint rules: exact findings of names, symlinks, conflicts, pins, index, and the order findings come in.
import { describe, expect, it } from 'vitest';
import { lintConflicts, lintDockerfile, lintIndex, lintNames, lintSymlinks, sortFindings, type Finding, type LintFile } from '../../src/core/lint-rules.js';
import { parseDockerfileName } from '../../src/core/names.js';

const D = `sha256:${'a'.repeat(64)}`;
const file = (fileName: string, over: Partial<LintFile> = {}): LintFile => ({ path: `images/${fileName}`, fileName, name: parseDockerfileName(fileName), ...over });
const EXPECTED = 'Expected builder-<target>-<arch>_gcc<X.Y.Z>[_gcc<X.Y.Z>…].Dockerfile';

describe('lintNames', () => {
  it('words each finding, with a rename hint only when there is one', () => {
    expect(lintNames([file('builder-any-x86_64_gcc8.0.0.Dockerfile'), file('builder-any-amd64_gcc8.Dockerfile'), file('builder-any-sparc_gcc8.0.0.Dockerfile')])).toStrictEqual([
      { file: 'images/builder-any-amd64_gcc8.Dockerfile', line: 1, rule: 'name', severity: 'error', message: `"builder-any-amd64_gcc8.Dockerfile" is not a builder name: the arch "amd64" must be written "x86_64"; the GCC version "8" must be a full X.Y.Z: "8.0.0". Rename it to builder-any-x86_64_gcc8.0.0.Dockerfile. ${EXPECTED}` },
      { file: 'images/builder-any-sparc_gcc8.0.0.Dockerfile', line: 1, rule: 'name', severity: 'error', message: `"builder-any-sparc_gcc8.0.0.Dockerfile" is not a builder name: the arch "sparc" must be x86_64 or aarch64. ${EXPECTED}` },
    ]);
    // a name given as parsed is trusted; a file whose name diagnoses as valid is skipped
    expect(lintNames([{ path: 'p', fileName: 'builder-any-x86_64_gcc8.0.0.Dockerfile', name: null }])).toEqual([]);
  });
});

describe('lintSymlinks', () => {
  const real = file('builder-any-x86_64_gcc8.0.0.Dockerfile');
  const linkTo = (fileName: string, target: string) => file(fileName, { linkTarget: target });
  it.each([
    ['images/nowhere', 'points at images/nowhere, which is not a Dockerfile in the images folder (dangling or outside it)'],
    ['images/bad.Dockerfile', 'points at images/bad.Dockerfile, which is not a valid builder name'],
    ['images/builder-any-aarch64_gcc9.0.0.Dockerfile', 'points at images/builder-any-aarch64_gcc9.0.0.Dockerfile, which is itself a link: point at the real file'],
    ['images/builder-centos-x86_64_gcc8.0.0.Dockerfile', 'points at images/builder-centos-x86_64_gcc8.0.0.Dockerfile, an image with a different target or GCC list; expected builder-any-x86_64_gcc8.0.0.Dockerfile'],
  ])('%s', (target, problem) => {
    const files = [real, file('bad.Dockerfile'), linkTo('builder-any-aarch64_gcc9.0.0.Dockerfile', real.path), file('builder-centos-x86_64_gcc8.0.0.Dockerfile'), linkTo('builder-any-aarch64_gcc8.0.0.Dockerfile', target)];
    const findings = lintSymlinks(files);
    expect(findings.filter((f) => f.file === 'images/builder-any-aarch64_gcc8.0.0.Dockerfile')).toStrictEqual([
      { file: 'images/builder-any-aarch64_gcc8.0.0.Dockerfile', line: 1, rule: 'symlink', severity: 'error', message: `symlink ${problem}` },
    ]);
  });

  it('ignores a link with an invalid name (the name rule reports it) and a good link', () => {
    expect(lintSymlinks([real, file('bad.Dockerfile', { linkTarget: 'images/nowhere' }), linkTo('builder-any-aarch64_gcc8.0.0.Dockerfile', real.path)])).toEqual([]);
  });
});

describe('lintConflicts', () => {
  it('reports each GCC provided twice for one target and arch, naming both files', () => {
    const a = file('builder-any-x86_64_gcc8.0.0_gcc9.0.0.Dockerfile');
    const b = file('builder-any-x86_64_gcc9.0.0_gcc8.0.0.Dockerfile');
    const other = [file('builder-any-aarch64_gcc8.0.0.Dockerfile'), file('builder-centos-x86_64_gcc8.0.0.Dockerfile'), file('bad.Dockerfile')];
    expect(lintConflicts([a, ...other, b])).toStrictEqual(
      ['9.0.0', '8.0.0'].map((gcc) => ({ file: b.path, line: 1, rule: 'conflict', severity: 'error', message: `GCC ${gcc} for any/x86_64 is provided by both ${a.path} and ${b.path}: selection would be ambiguous; keep it in one of them` })),
    );
    expect(lintConflicts([a, ...other])).toEqual([]);
  });
});

describe('lintDockerfile pins', () => {
  const lint = (content: string, over: Partial<LintFile> = {}) => lintDockerfile({ path: 'f', fileName: 'f', name: null, content, ...over }).map((f) => `${f.line} ${f.rule} ${f.message}`);
  it('words each pin finding with its site', () => {
    expect(lint(`# syntax=docker/dockerfile:1\nFROM debian:12@${D}\nCOPY --from=gcc:13 /a /b\nFROM ghcr.io/o/i@${D}\nRUN --mount=type=bind,from=Bad:1,target=/x true\n`)).toEqual([
      '1 pin # syntax=docker/dockerfile:1 is not pinned by digest: write image:tag@sha256:<64 hex> (`builder-images bump --pin` adds it)',
      '3 pin COPY --from gcc:13 is not pinned by digest: write image:tag@sha256:<64 hex> (`builder-images bump --pin` adds it)',
      `4 pin FROM ghcr.io/o/i@${D} has a digest but no tag: keep the tag next to the digest (image:tag@sha256:…) so updates know what to follow`,
      '5 pin RUN --mount from Bad:1: invalid image reference "Bad:1": repository names must be lower case ("Bad")',
    ]);
  });

  it('says how to declare an unresolved ARG, and skips scratch, stages, links and missing content', () => {
    expect(lint('FROM $A:$B\n')).toEqual(['1 pin FROM $A:$B: cannot resolve $A, $B; declare it with a pinned default (ARG A=image:tag@sha256:…) before the first FROM, where FROM sees it']);
    expect(lint(`FROM scratch\nFROM debian:12@${D} AS s\nFROM s\n`)).toEqual([]);
    expect(lint('FROM gcc:13\n', { linkTarget: 'x' })).toEqual([]);
    // an expansion that fails is a parse finding only, not a pin finding too
    expect(lint('FROM ${A\n')).toEqual(['1 parse Dockerfile does not parse: FROM ${A: failed to process "${A": unsupported modifier () in substitution']);
    expect(lintDockerfile({ path: 'f', fileName: 'f', name: null })).toEqual([]);
    expect(lint(`FROM debian:12@sha512:${'a'.repeat(128)}\n`)).toEqual([
      `1 pin FROM debian:12@sha512:${'a'.repeat(128)} is not pinned by digest: write image:tag@sha256:<64 hex> (\`builder-images bump --pin\` adds it)`,
    ]);
  });
});

describe('lintIndex and order', () => {
  it('says missing or out of date, or nothing', () => {
    expect(lintIndex('index.yaml', 'a', 'a')).toEqual([]);
    expect(lintIndex('index.yaml', undefined, 'a')).toStrictEqual([{ file: 'index.yaml', line: 1, rule: 'index', severity: 'error', message: 'index.yaml is missing: run `builder-images index` and commit it' }]);
    expect(lintIndex('i.yaml', '', 'a')).toStrictEqual([{ file: 'i.yaml', line: 1, rule: 'index', severity: 'error', message: 'i.yaml is out of date with images/: run `builder-images index` and commit it (`index --check` shows the diff)' }]);
  });

  it('sorts by file, then line, keeping ties in order', () => {
    const f = (file: string, line: number, message = ''): Finding => ({ file, line, rule: 'pin', severity: 'error', message });
    const input = [f('b', 1), f('a', 3), f('a', 1, 'x'), f('a', 1, 'y'), f('c', 0)];
    const sorted = sortFindings(input);
    expect(sorted).toEqual([f('a', 1, 'x'), f('a', 1, 'y'), f('a', 3), f('b', 1), f('c', 0)]);
    expect(input[0]).toEqual(f('b', 1)); // a copy is sorted
  });
});
