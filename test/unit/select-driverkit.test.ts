/**
 * select's algorithm against the model of driverkit's (test/support/driverkit.ts, written from its source) over
 * random indexes: edge cases the repository's own index does not reach (a target image and an `any` image with one
 * GCC, every GCC above the wanted one, the same GCC in two images, tags in any order).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIndex, parseIndex, renderIndex } from '../../src/core/index-schema.js';
import type { BuilderName } from '../../src/core/names.js';
import { indexFromTags } from '../../src/core/registry-index.js';
import { selectBuilder } from '../../src/core/select.js';
import { parseGccVersion } from '../../src/core/version.js';
import { formatArchTag } from '../../src/core/names.js';
import { chooseImage, imagesMap, loadIndexFile, loadRepositoryTags, type DriverkitBuild } from '../support/driverkit.js';
import { atScale } from '../support/scale.js';

const gcc = fc.constantFrom('4.8.0', '4.8.5', '4.9.0', '5.0.0', '8.0.0', '9.0.0', '10.0.0', '12.0.0', '14.0.0');
const name: fc.Arbitrary<BuilderName> = fc.record({
  target: fc.constantFrom('any', 'centos', 'debian'),
  arch: fc.constantFrom('x86_64' as const, 'aarch64' as const),
  gccVersions: fc.uniqueArray(gcc, { minLength: 1, maxLength: 3 }),
});
const request = fc.record({ target: fc.constantFrom('centos', 'debian', 'ubuntu'), arch: fc.constantFrom('x86_64' as const, 'aarch64' as const), wanted: gcc });

function driverkit(load: (b: DriverkitBuild) => ReturnType<typeof loadIndexFile>, req: { target: string; arch: string; wanted: string }) {
  const build: DriverkitBuild = { target: req.target, arch: req.arch, imageTag: 'latest' };
  try {
    return chooseImage(imagesMap([load(build)], build), build, req.wanted);
  } catch {
    return null; // driverkit: "Could not load any builder image"
  }
}

describe('select makes the pick driverkit makes (property, random indexes)', () => {
  it('from an index file', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), request, (names, req) => {
        const text = renderIndex(buildIndex(names, ['r/b'], ['latest', 'v1']));
        const ours = selectBuilder(parseIndex(text), { target: req.target, arch: req.arch, tag: 'latest', gcc: parseGccVersion(req.wanted)! });
        expect(ours ? { name: ours.image.name, gcc: ours.gcc } : null).toEqual(driverkit((b) => loadIndexFile(text, b), req));
      }),
      { numRuns: atScale(200, 40) },
    );
  });

  it('from a tag list in any order', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), request, fc.integer(), (names, req, seed) => {
        const tags = [...new Set(names.map((n) => formatArchTag(n, 'latest')))].sort((a, b) => ((a.length * seed) % 7) - ((b.length * seed) % 7) || a.localeCompare(b));
        const ours = selectBuilder(indexFromTags('r/b', tags, ['latest']).entries, { target: req.target, arch: req.arch, tag: 'latest', gcc: parseGccVersion(req.wanted)! });
        expect(ours ? { name: ours.image.name, gcc: ours.gcc } : null).toEqual(driverkit((b) => loadRepositoryTags('r/b', tags, b), req));
      }),
      { numRuns: atScale(200, 40) },
    );
  });
});
