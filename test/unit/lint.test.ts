import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintConflicts, lintDockerfile, lintNames, lintSymlinks, PIN_RULE_SUMMARY, type LintFile } from '../../src/core/lint-rules.js';
import { parseDockerfileName } from '../../src/core/names.js';
import { DIGEST_A, runCli } from '../support/cli.js';

const file = (path: string, extra: Partial<LintFile> = {}): LintFile => {
  const fileName = path.split('/').pop()!;
  return { path, fileName, name: parseDockerfileName(fileName), ...extra };
};

describe('lint rules', () => {
  it('names: every near miss gets a located hint with the corrected name', () => {
    const findings = lintNames([
      file('images/builder-any-x86_64_gcc12.0.0.Dockerfile'),
      file('images/builder-any-x86_64_gcc6.0.Dockerfile'),
      file('images/Dockerfile.centos'),
    ]);
    expect(findings.map((f) => [f.file, f.line, f.rule])).toEqual([
      ['images/builder-any-x86_64_gcc6.0.Dockerfile', 1, 'name'],
      ['images/Dockerfile.centos', 1, 'name'],
    ]);
    expect(findings[0]!.message).toContain('Rename it to builder-any-x86_64_gcc6.0.0.Dockerfile');
  });

  it('symlinks: an aarch64 link to its x86_64 sibling is fine; other links are not', () => {
    const x86 = file('images/builder-any-x86_64_gcc12.0.0.Dockerfile');
    expect(lintSymlinks([x86, file('images/builder-any-aarch64_gcc12.0.0.Dockerfile', { linkTarget: x86.path })])).toEqual([]);
    const bad = lintSymlinks([
      x86,
      file('images/builder-any-aarch64_gcc11.0.0.Dockerfile', { linkTarget: x86.path }),
      file('images/builder-any-aarch64_gcc13.0.0.Dockerfile', { linkTarget: 'images/gone.Dockerfile' }),
    ]);
    expect(bad.map((f) => f.message)).toEqual([
      expect.stringContaining('different target or GCC list; expected builder-any-x86_64_gcc11.0.0.Dockerfile'),
      expect.stringContaining('dangling'),
    ]);
  });

  it('conflicts: one GCC in two images of a target and arch names both files', () => {
    const findings = lintConflicts([
      file('images/builder-any-x86_64_gcc12.0.0_gcc11.0.0.Dockerfile'),
      file('images/builder-any-x86_64_gcc11.0.0.Dockerfile'),
      file('images/builder-any-aarch64_gcc11.0.0.Dockerfile'),
      file('images/builder-centos-x86_64_gcc11.0.0.Dockerfile'),
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('images/builder-any-x86_64_gcc12.0.0_gcc11.0.0.Dockerfile and images/builder-any-x86_64_gcc11.0.0.Dockerfile');
  });

  it('pins: unpinned, tag-less, unresolvable and malformed references are located; stages, scratch and ARGs understood', () => {
    const content = [
      `ARG BASE=debian:bookworm@${DIGEST_A}`, // 1
      'FROM ${BASE} AS build', // 2
      'FROM --platform=linux/amd64 \\', // 3
      '  gcc:13', // 4
      `COPY --from=build /a /a`, // 5
      `COPY --from=busybox@${DIGEST_A} /b /b`, // 6
      'FROM ${NOPE}', // 7
      'FROM scratch', // 8
      'FROM Debian:12', // 9
    ].join('\n');
    const findings = lintDockerfile(file('images/builder-any-x86_64_gcc12.0.0.Dockerfile', { content }));
    expect(findings.map((f) => [f.line, f.rule])).toEqual([
      [3, 'pin'],
      [6, 'pin'],
      [7, 'pin'],
      [9, 'pin'],
    ]);
    expect(findings[0]!.message).toContain('gcc:13 is not pinned by digest');
    expect(findings[1]!.message).toContain('no tag');
    expect(findings[2]!.message).toContain('cannot resolve $NOPE');
    expect(findings[3]!.message).toContain('lower case');
  });

  it('parse: a broken Dockerfile is a finding with its line, not a crash', () => {
    const findings = lintDockerfile(file('images/x.Dockerfile', { content: `FROM scratch\nRUNN x\n` }));
    expect(findings).toEqual([{ file: 'images/x.Dockerfile', line: 2, rule: 'parse', severity: 'error', message: 'Dockerfile does not parse: unknown instruction "RUNN"' }]);
  });

  it('issue 13: the # syntax= image is pinned like any other; a self-copy is a parse error; directives as BuildKit reads them', () => {
    const findings = lintDockerfile(
      file('images/x.Dockerfile', {
        content: ['# syntax=docker/dockerfile:1', ' # EsCaPe=`', `FROM debian:12@${DIGEST_A} AS build`, 'RUN echo `', '  done', 'COPY --from=build /a /a', 'FROM busybox:1'].join('\n'),
      }),
    );
    expect(findings.map((f) => [f.line, f.rule, f.message])).toEqual([
      [6, 'parse', expect.stringContaining('circular dependency detected on stage: build')],
      [1, 'pin', expect.stringContaining('# syntax=docker/dockerfile:1 is not pinned by digest')],
      [7, 'pin', expect.stringContaining('FROM busybox:1 is not pinned by digest')],
    ]);
    const pinned = `# syntax=docker/dockerfile:1@${DIGEST_A}\nARG A=debian\nARG B="\${A}:12@${DIGEST_A}"\nFROM $B\n`;
    expect(lintDockerfile(file('images/y.Dockerfile', { content: pinned }))).toEqual([]);
  });
});

describe('the pin rule is described the same everywhere', () => {
  it('README and `lint --help` list exactly what the rule checks', async () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`\`pin\` (${PIN_RULE_SUMMARY})`);
    const help = await runCli(['lint', '--help'], tmpdir());
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(`pin (${PIN_RULE_SUMMARY})`);
  });
});
