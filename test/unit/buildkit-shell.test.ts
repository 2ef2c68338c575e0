/**
 * BuildKit conformance of the word expander: the data of moby/buildkit's frontend/dockerfile/shell envVarTest and
 * wordsTest (copied unchanged into test/fixtures/buildkit/shell, see its README), run by our own runner.
 *
 * Left out on purpose:
 * - envVarTest lines tagged W (Windows only: `$pwd` equals `$PWD` there); this tool runs on Linux, as do the U lines.
 * - wordsTest's second mode (RawQuotes + SkipUnsetEnv): BuildKit's own runner reads the file once, so that mode
 *   checks nothing there, and its expected values are the normal mode's (quotes removed), which RawQuotes keeps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processWord, traced, type LexEnv } from '../../src/core/dockerfile/shell-lex.js';

const dir = join(import.meta.dirname, '../fixtures/buildkit/shell');
const envOf = (pairs: Record<string, string>): LexEnv => new Map(Object.entries(pairs).map(([k, v]) => [k, traced(v)]));

describe('BuildKit envVarTest', () => {
  const env = envOf({ PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' });
  const cases = readFileSync(join(dir, 'envVarTest'), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#') && line.trim() !== '')
    .map((line) => line.trim().split('|').map((part) => part.trim()) as [string, string, string])
    .filter(([platform]) => platform !== 'W');

  it('has its cases', () => expect(cases.length).toBeGreaterThan(200));
  it.each(cases)('%s|%s -> %s', (_platform, source, expected) => {
    const result = processWord(source, env);
    if (expected === 'error') expect(result.ok, JSON.stringify(result)).toBe(false);
    else expect(result).toMatchObject({ ok: true, value: expected });
  });
});

describe('BuildKit wordsTest', () => {
  const env = new Map<string, ReturnType<typeof traced>>();
  const cases: { input: string; expected: string[]; env: LexEnv }[] = [];
  for (const line of readFileSync(join(dir, 'wordsTest'), 'utf8').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('ENV ')) {
      const [key, value = ''] = line.slice(3).replace(/^ +/, '').split(/=(.*)/s);
      env.set(key!, traced(value));
      continue;
    }
    const [input, expected] = line.split('|') as [string, string];
    cases.push({ input: input.trim(), expected: expected.replace(/^ +/, '').split(','), env: new Map(env) });
  }

  it('has its cases', () => expect(cases.length).toBeGreaterThan(20));
  it.each(cases)('$input', ({ input, expected, env: scope }) => {
    const result = processWord(input, scope);
    expect(result.ok ? result.words : ['error']).toEqual(expected);
  });
});

describe('BuildKit lex_test cases carried over as data', () => {
  // From TestProcessWithMatches / TestShellParserMandatoryEnvVars / TestProcessWithMatchesPlatform.
  const cases: [string, Record<string, string>, string | null][] = [
    ['x ${UNUSED}', { DUMMY: 'dummy' }, 'x '],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc'],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc'],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb '],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  '],
    ['${BAR?bbb}', { BAR: '' }, ''],
    ['${BAZ?ccc}', {}, null],
    ['${BAR:?bbb}', { BAR: '' }, null],
    ['${FOO=aaa}', { FOO: 'xxx' }, null],
    ['${VAR:?message here$ARG}', { VAR: 'plain', ARG: 'x' }, 'plain'],
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
    ['${FOO:#}', {}, null],
    ['${FOO:%%}', {}, null],
    ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
    ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
    ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, 'https://google.de'],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
    ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
    ['${FOO//ww}', { FOO: 'xxyy' }, null],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
    [
      'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
      { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' },
      'something-v1.2.3.linux-arm-v7.tar.gz',
    ],
  ];
  it.each(cases)('%s', (input, env, expected) => {
    const result = processWord(input, envOf(env));
    if (expected === null) expect(result.ok).toBe(false);
    else expect(result).toMatchObject({ ok: true, value: expected });
  });
});

describe('outside input stays bounded', () => {
  it('refuses a wildcard pattern too costly for its value instead of hanging', () => {
    const env = envOf({ V: 'a'.repeat(5000) });
    const result = processWord('${V##*a*a*a*a*a*a*b}', env);
    expect(result).toMatchObject({ ok: false, error: expect.stringContaining('too costly') });
    expect(processWord('${V##*a}', env)).toMatchObject({ ok: true, value: '' });
  });
});

describe('deep nesting', () => {
  it('is refused, not a stack overflow', () => {
    const deep = '${A:-'.repeat(20000) + 'x' + '}'.repeat(20000);
    expect(processWord(deep, new Map())).toMatchObject({ ok: false, error: expect.stringContaining('nested more than') });
    expect(processWord('${A:-'.repeat(10) + 'x' + '}'.repeat(10), new Map())).toMatchObject({ ok: true, value: 'x' });
  });
});
