/**
 * What a build reads from its context: sources clamped to the context root as the engines clamp them, the files
 * a source reads, ignore files as moby's patternmatcher reads them (checked against buildah's real builds in
 * test/integration/tag.test.ts), and the size bound that keeps parsing memory small.
 */
import { describe, expect, it } from 'vitest';
import { climbsOut, contextPath, filesNamedBy, filesReadBy, linkTargetInContext } from '../../src/core/dockerfile/context.js';
import { ignoredByEveryEngine, ignoreFileCandidates, ignoreMatcher } from '../../src/core/dockerfile/ignore.js';
import { MAX_DOCKERFILE_SIZE, parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { lintDockerfile } from '../../src/core/lint-rules.js';
import { parseDockerfileName } from '../../src/core/names.js';

const FILES = ['a.txt', 'b.txt', 'secret', 'sub/c.txt', 'sub/deep/d.txt', 'keep/k.txt', 'keep/other', '.hidden'];

describe('context paths: what the engines read for a source', () => {
  it('clamps a source that climbs out of the context to the context root', () => {
    expect(contextPath('../secret')).toBe('secret');
    expect(contextPath('a/../../secret')).toBe('secret');
    expect(contextPath('/sub/./c.txt')).toBe('sub/c.txt');
    expect(contextPath('sub/')).toBe('sub');
    expect(contextPath('..')).toBe('.');
    expect(contextPath('.')).toBe('.');
    expect(contextPath('')).toBe('.');
  });

  it('says which sources are written as if they left it', () => {
    expect(['../secret', 'a/../../x', '..', '/../x'].map(climbsOut)).toEqual([true, true, true, true]);
    expect(['secret', 'a/../x', '/x', '.', './a', '..x', 'a/..'].map(climbsOut)).toEqual([false, false, false, false, false, false, false]);
  });

  it('reads the path, everything beneath a directory, a glob, or the whole context', () => {
    expect(filesReadBy(FILES, '../secret')).toEqual(['secret']);
    expect(filesReadBy(FILES, 'sub')).toEqual(['sub/c.txt', 'sub/deep/d.txt']);
    expect(filesReadBy(FILES, 'su')).toEqual([]);
    expect(filesReadBy(FILES, '*.txt')).toEqual(['a.txt', 'b.txt']);
    expect(filesReadBy(FILES, '../*.txt')).toEqual(['a.txt', 'b.txt']);
    expect(filesReadBy(FILES, '.')).toEqual(FILES);
    expect(filesReadBy(FILES, '..')).toEqual(FILES);
  });
});

describe('symlinks a source names', () => {
  it('a source names the path itself or what its glob matches, not what lies beneath a directory', () => {
    expect(filesNamedBy(FILES, '../secret')).toEqual(['secret']);
    expect(filesNamedBy(FILES, 'sub')).toEqual([]);
    expect(filesNamedBy(FILES, 'sub/*.txt')).toEqual(['sub/c.txt']);
    expect(filesNamedBy(FILES, 's*')).toEqual(['secret']);
  });

  it('follows a link chain inside the context, clamping targets that climb out or are absolute', () => {
    const links = new Map([
      ['l1', 'secret'],
      ['up', '../../secret'],
      ['sub/abs', '/etc/passwd'],
      ['sub/rel', '../l1'],
      ['dir', 'sub'],
      ['loop', 'loop'],
    ]);
    expect(linkTargetInContext('l1', links)).toBe('secret');
    expect(linkTargetInContext('up', links)).toBe('secret');
    expect(linkTargetInContext('sub/abs', links)).toBe('etc/passwd');
    expect(linkTargetInContext('sub/rel', links)).toBe('secret');
    expect(linkTargetInContext('dir', links)).toBe('sub');
    expect(linkTargetInContext('a.txt', links)).toBe('a.txt');
    expect(linkTargetInContext('loop', links)).toBeUndefined();
    const chain = new Map(Array.from({ length: 40 }, (_, i) => [`c${i}`, `c${i + 1}`] as const));
    expect(linkTargetInContext('c0', chain)).toBeUndefined();
    expect(linkTargetInContext('c1', chain)).toBe('c40');
  });
});

describe('ignore files as moby patternmatcher reads them', () => {
  const ignores = (text: string, files = FILES) => files.filter(ignoreMatcher(text)!);

  it('`*` stays in a directory, `**` crosses them, `!` re-includes, a directory excludes what is beneath', () => {
    expect(ignores('*.txt')).toEqual(['a.txt', 'b.txt']);
    expect(ignores('*.txt\n!b.txt')).toEqual(['a.txt']);
    expect(ignores('**/*.txt')).toEqual(['a.txt', 'b.txt', 'sub/c.txt', 'sub/deep/d.txt', 'keep/k.txt']);
    expect(ignores('**/d.txt\nkeep\n!keep/k.txt')).toEqual(['sub/deep/d.txt', 'keep/other']);
    expect(ignores('sub/\n/secret\n./.hidden')).toEqual(['secret', 'sub/c.txt', 'sub/deep/d.txt', '.hidden']);
    expect(ignores('**\n!sub/**')).toEqual(['a.txt', 'b.txt', 'secret', 'keep/k.txt', 'keep/other', '.hidden']);
  });

  it('is case-sensitive, skips comments and blank lines, and takes the last matching pattern', () => {
    expect(ignores('A.TXT\n# a.txt\n\n')).toEqual([]);
    expect(ignores('!a.txt\n*.txt')).toEqual(['a.txt', 'b.txt']);
  });

  it('treats + ( ) | { } as themselves, as patternmatcher escapes them', () => {
    expect(ignores('c++.txt\na(b).txt\np|q\nx{y}', ['c++.txt', 'a(b).txt', 'ab.txt', 'p|q', 'p', 'x{y}', 'xy'])).toEqual(['c++.txt', 'a(b).txt', 'p|q', 'x{y}']);
    expect(ignores('c\\+\\+.txt', ['c++.txt'])).toEqual(['c++.txt']);
  });

  it('a pattern that does not compile excludes nothing', () => {
    expect(ignoreMatcher('[')).toBeUndefined();
  });
});

describe('what no engine reads', () => {
  const df = 'x.Dockerfile';

  it('lists every ignore file an engine may read for a Dockerfile', () => {
    expect(ignoreFileCandidates(df)).toEqual(['.containerignore', '.dockerignore', 'x.Dockerfile.containerignore', 'x.Dockerfile.dockerignore']);
  });

  it('with a root .dockerignore alone, every engine agrees', () => {
    expect([...ignoredByEveryEngine(df, new Map([['.dockerignore', '*.txt\n!b.txt']]), FILES)]).toEqual(['a.txt']);
    expect([...ignoredByEveryEngine(df, new Map(), FILES)]).toEqual([]);
  });

  it('a file one engine copies stays in: per-Dockerfile files and .containerignore are not read by every engine', () => {
    // BuildKit and buildah read x.Dockerfile.dockerignore; the classic docker builder reads .dockerignore.
    const both = new Map([['x.Dockerfile.dockerignore', 'a.txt\nb.txt'], ['.dockerignore', 'b.txt\nsecret']]);
    expect([...ignoredByEveryEngine(df, both, FILES)]).toEqual(['b.txt']);
    // No root file: the classic builder copies everything.
    expect([...ignoredByEveryEngine(df, new Map([['x.Dockerfile.dockerignore', 'a.txt']]), FILES)]).toEqual([]);
    // buildah and podman read .containerignore before .dockerignore; docker never does.
    expect([...ignoredByEveryEngine(df, new Map([['.containerignore', 'a.txt\nb.txt'], ['.dockerignore', 'a.txt']]), FILES)]).toEqual(['a.txt']);
    // An ignore file that does not compile: that engine copies everything.
    expect([...ignoredByEveryEngine(df, new Map([['.dockerignore', '[']]), FILES)]).toEqual([]);
  });
});

describe('issue 23 item 8: a Dockerfile too large to parse', () => {
  it('over the limit: one error on line 1 and nothing read from it; at the limit it is parsed', () => {
    const over = `FROM scratch AS ${'b'.repeat(MAX_DOCKERFILE_SIZE)}\n`;
    const parsed = parseDockerfile(over);
    expect(parsed.instructions).toEqual([]);
    expect(parsed.errors).toEqual([{ line: 1, message: `Dockerfile is ${over.length} characters, over the limit of 1048576 (1 MiB): split it, or move data into files it COPYs` }]);
    const at = `FROM scratch\nLABEL a=${'b'.repeat(MAX_DOCKERFILE_SIZE - 22)}\n`;
    expect(at.length).toBe(MAX_DOCKERFILE_SIZE);
    expect(parseDockerfile(at).errors).toEqual([]);
  });
});

describe('lint: the context rule and the size bound', () => {
  const file = (content: string, extra = {}) => ({ path: 'images/x.Dockerfile', fileName: 'x.Dockerfile', name: parseDockerfileName('x.Dockerfile'), content, ...extra });

  it('warns on a COPY/ADD source that climbs out of the context, naming what is read instead', () => {
    const findings = lintDockerfile(file('FROM scratch AS s\nFROM scratch\nCOPY ../secret ok /s/\nADD a/../../b/c /d\nCOPY --from=s ../y /z\n'));
    expect(findings).toEqual([
      { file: 'images/x.Dockerfile', line: 3, rule: 'context', severity: 'warning', message: 'COPY ../secret climbs out of the build context: the engines clamp it and read secret of the context instead; write that path (or move the file into the context)' },
      { file: 'images/x.Dockerfile', line: 4, rule: 'context', severity: 'warning', message: 'ADD a/../../b/c climbs out of the build context: the engines clamp it and read b/c of the context instead; write that path (or move the file into the context)' },
    ]);
  });

  it('a file too large to read is a parse error naming its size', () => {
    expect(lintDockerfile(file('', { content: undefined, oversize: 51_000_097 }))).toEqual([
      { file: 'images/x.Dockerfile', line: 1, rule: 'parse', severity: 'error', message: 'Dockerfile is 51000097 bytes, over the limit of 1048576 (1 MiB): split it, or move data into files it COPYs' },
    ]);
  });
});
