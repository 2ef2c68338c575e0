/**
 * The repository's own Dockerfiles read as before the BuildKit-conformance work (issue 13): no findings, the one
 * FROM resolved from its ARG default, bump editing exactly that default, and the same context inputs for `tag`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planUpdate } from '../../src/core/bump.js';
import { platformBuildArgs } from '../../src/core/dockerfile/evaluate.js';
import { extractContextSources, extractImageReferences } from '../../src/core/dockerfile/extract.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { lintDockerfile } from '../../src/core/lint-rules.js';
import { parseDockerfileName } from '../../src/core/names.js';

const dir = join(import.meta.dirname, '../../images');
const NEW = 'sha256:' + 'f'.repeat(64);

describe('images/ Dockerfiles', () => {
  const names = readdirSync(dir).filter((n) => n.endsWith('.Dockerfile'));
  it('are there', () => expect(names.length).toBeGreaterThan(5));
  it.each(names)('%s', (name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    const parsed = parseDockerfile(text);
    expect(parsed.errors).toEqual([]);
    expect(lintDockerfile({ path: `images/${name}`, fileName: name, name: parseDockerfileName(name), content: text })).toEqual([]);
    const base = /^ARG BASE_IMAGE=(\S+)$/m.exec(text)![1]!;
    const sites = extractImageReferences(parsed);
    expect(sites.map((s) => [s.kind, s.raw, s.resolved])).toEqual([['from', '${BASE_IMAGE}', base]]);
    const planned = planUpdate(`images/${name}`, parsed, sites[0]!, 'final', { digest: NEW, type: 'digest' });
    const argLine = text.slice(0, text.indexOf(`ARG BASE_IMAGE=`)).split('\n').length;
    expect(planned).toMatchObject({ update: { via: 'arg', editLine: argLine, oldText: base, newText: base.replace(/@.*/, `@${NEW}`) } });
    for (const arch of ['amd64', 'arm64']) expect(extractContextSources(parsed, platformBuildArgs(`linux/${arch}`))).toEqual([]);
  });
});
