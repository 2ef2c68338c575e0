// The tests `make mutation` runs against each mutant of src/core and src/adapters/{registry,http,compress,headers}
// (stryker.config.json): the unit tests, the registry client's integration tests (a real docker-registry, a hostile
// one, faults) and the headers ones (downloads from a local server, hostile packages).
// Left out: the image builds (push, build, engines) and the whole-command tests (bump, tag, check, cli-offline):
// they reach the same core code through the CLI, take seconds per run with their git repositories and
// registries, and would be re-run for every mutant that survives the unit tests (8 of the 10 CPU hours such a
// run could take here). The core is held to its score by tests written against it.
import type { TestSpecification } from 'vitest/node';
import { BaseSequencer } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * Stryker stops a mutant's run at its first failing test, so the cheap tests go first: unit test files (in-memory,
 * milliseconds) before the integration files (a real registry, git repositories, the CLI), each group by name.
 */
class UnitTestsFirst extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => (f.moduleId.includes('/test/unit/') ? 0 : 1);
    return Promise.resolve([...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId)));
  }
}

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/registry-*.test.ts',
      'test/integration/headers-*.test.ts',
    ],
    // Scale and property tests run small here (test/support/scale.ts).
    env: { BUILDER_IMAGES_MUTATION: '1' },
    sequence: { sequencer: UnitTestsFirst },
  },
});
