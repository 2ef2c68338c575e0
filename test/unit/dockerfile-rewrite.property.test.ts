/**
 * Property: parse -> rewrite one digest -> parse again gives the same references, with only that digest changed
 * (in every reference that reads it from the same written place), and the file changed only there.
 * Dockerfiles are generated from the ways builder repositories write pinned references: literal, a whole ARG
 * default (quoted or not), the tag from an ARG with the digest in the FROM line, tag and digest in an ARG that is
 * part of the reference, ARGs built from ARGs, `${X:-default}`, continuations, CRLF, the `# syntax=` image,
 * COPY --from and RUN --mount from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyUpdates, planUpdate } from '../../src/core/bump.js';
import { extractContextSources, extractImageReferences } from '../../src/core/dockerfile/extract.js';
import { parseDockerfile } from '../../src/core/dockerfile/parse.js';
import { type ImageRefSite } from '../../src/core/dockerfile/references.js';
import { atScale } from '../support/scale.js';

const hex = fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 64, maxLength: 64 }).map((a) => a.join(''));
const digest = hex.map((h) => `sha256:${h}`);
const name = fc.constantFrom('debian', 'ghcr.io/org/img', '127.0.0.1:5000/lib/base', 'docker.io/library/ubuntu');
const tag = fc.constantFrom('12', '1.60.0-bullseye', 'bookworm', 'v1_2');
const ref = fc.record({ name, tag, digest });
type Ref = { name: string; tag: string; digest: string };

/** One FROM reference, in one of the ways it is written, with the global ARG lines it needs. */
const fromForm = (i: number) =>
  fc.oneof(
    ref.map((r) => ({ args: [], from: `${r.name}:${r.tag}@${r.digest}` })),
    fc.tuple(ref, fc.constantFrom('', '"', "'"), fc.boolean()).map(([r, q, braces]) => ({
      args: [`ARG BASE${i}=${q}${r.name}:${r.tag}@${r.digest}${q}`],
      from: braces ? `\${BASE${i}}` : `$BASE${i}`,
    })),
    fc.tuple(ref, fc.boolean()).map(([r, braces]) => ({ args: [`ARG TAG${i}=${r.tag}`], from: `${r.name}:${braces ? `\${TAG${i}}` : `$TAG${i}`}@${r.digest}` })),
    ref.map((r) => ({ args: [`ARG VARIANT${i}="${r.tag}@${r.digest}"`], from: `${r.name}:\${VARIANT${i}}` })),
    ref.map((r) => ({ args: [`ARG N${i}=${r.name}`, `ARG R${i}=\${N${i}}:${r.tag}@${r.digest}`], from: `$R${i}` })),
    ref.map((r) => ({ args: [], from: `\${UNSET${i}:-${r.name}:${r.tag}@${r.digest}}` })),
  );

const dockerfile = fc
  .record({
    syntax: fc.option(ref, { nil: undefined }),
    froms: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fromForm(i)))),
    sharedUse: fc.boolean(),
    platform: fc.boolean(),
    continuation: fc.boolean(),
    copyFrom: fc.option(ref, { nil: undefined }),
    mountFrom: fc.option(ref, { nil: undefined }),
    comments: fc.boolean(),
    eol: fc.constantFrom('\n', '\r\n'),
  })
  .map((d) => {
    const lines: string[] = [];
    const fmt = (r: Ref) => `${r.name}:${r.tag}@${r.digest}`;
    if (d.syntax) lines.push(`# syntax=${fmt(d.syntax)}`);
    if (d.comments) lines.push('# global arguments', '');
    for (const f of d.froms) lines.push(...f.args);
    d.froms.forEach((f, i) => {
      const flag = d.platform ? '--platform=linux/amd64 ' : '';
      lines.push(d.continuation ? `FROM ${flag}\\` : `FROM ${flag}${f.from} AS s${i}`);
      if (d.continuation) lines.push(`    ${f.from} AS s${i}`);
      if (d.comments) lines.push('# a step', 'RUN true');
    });
    // The first reference used twice: both uses read it from the same place.
    if (d.sharedUse && d.froms[0]!.from.startsWith('$')) lines.push(`FROM ${d.froms[0]!.from}`);
    if (d.copyFrom) lines.push(`COPY --from=${fmt(d.copyFrom)} /a /a`);
    if (d.mountFrom) lines.push(`RUN --mount=type=bind,from=${fmt(d.mountFrom)},target=/x true`);
    return lines.join(d.eol) + d.eol;
  });

const images = (sites: ImageRefSite[]) => sites.filter((s) => !s.isStage && !s.isScratch);

/** Where the digest of a site is written (its first character), -1 when it has none. */
function digestOffset(site: ImageRefSite): number {
  const at = site.resolved!.lastIndexOf('@');
  return at < 0 ? -1 : site.offsets[at + 1]!;
}

describe('rewriting one digest', () => {
  it('changes that digest in the references that read it, and nothing else', () => {
    fc.assert(
      fc.property(dockerfile, fc.nat(), digest, (text, pick, newDigest) => {
        const parsed = parseDockerfile(text);
        expect(parsed.errors).toEqual([]);
        const before = images(extractImageReferences(parsed));
        expect(before.every((s) => s.resolved !== null && s.resolved.includes('@sha256:'))).toBe(true);
        const site = before[pick % before.length]!;
        const planned = planUpdate('x', parsed, site, 'final', { digest: newDigest, type: 'digest' });
        if (planned === undefined) return; // the new digest happens to be the old one
        if ('refused' in planned) throw new Error(`refused ${site.raw}: ${planned.refused}`);
        const after = applyUpdates(text, [planned.update], new Map([[planned.update, planned.span]]));

        // Byte for byte outside the edited span.
        const { start, end } = planned.span;
        expect(after.slice(0, start)).toBe(text.slice(0, start));
        expect(after.slice(start + planned.update.newText.length)).toBe(text.slice(end));

        const reparsed = parseDockerfile(after);
        expect(reparsed.errors).toEqual([]);
        const edited = digestOffset(site);
        const oldDigest = site.resolved!.slice(site.resolved!.lastIndexOf('@') + 1);
        const expected = before.map((s) =>
          digestOffset(s) === edited ? s.resolved!.slice(0, s.resolved!.lastIndexOf('@') + 1) + newDigest : s.resolved,
        );
        expect(images(extractImageReferences(reparsed)).map((s) => s.resolved)).toEqual(expected);
        expect(expected.filter((r, k) => r !== before[k]!.resolved).length).toBeGreaterThan(0);
        expect(oldDigest).not.toBe(newDigest);
      }),
      { numRuns: atScale(300, 30) },
    );
  });
});

describe('bad input', () => {
  const token = fc.constantFrom(
    'FROM ', 'ARG ', 'ENV ', 'COPY ', 'RUN ', 'ONBUILD ', '--from=', '--mount=type=bind,from=', ' AS ', '# escape=`', '# syntax=',
    '$', '${', '}', ':-', ':+', '#', '%', '/', '"', "'", '\\', '`', '\n', '\r\n', ' ', '\t', '<<', '<<-', 'EOF', '=', 'a', '0', '@sha256:', '[', ']', ',',
  );
  const text = fc.oneof(fc.string({ maxLength: 200 }), fc.array(token, { maxLength: 60 }).map((t) => t.join('')));
  it('is never an exception: parse, references, context sources and edit planning all return', () => {
    fc.assert(
      fc.property(text, digest, (t, d) => {
        const parsed = parseDockerfile(t);
        for (const site of extractImageReferences(parsed, { a: 'b' }).concat(extractImageReferences(parsed))) {
          planUpdate('x', parsed, site, 'final', { digest: d, type: 'digest' });
        }
        extractContextSources(parsed, { TARGETARCH: 'arm64' });
      }),
      { numRuns: atScale(1000, 100) },
    );
  });
});
