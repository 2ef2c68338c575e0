// The tests `make mutation` runs against each mutant of src/core and src/adapters/registry (stryker.config.json):
// the unit tests and the integration tests that exercise those modules, without the image builds (push, build,
// engines), which add seconds to minutes per mutant and reach the same core code through the same paths.
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
      'test/integration/check.test.ts',
      'test/integration/tag.test.ts',
      'test/integration/cli-offline.test.ts',
      'test/integration/bump.test.ts',
    ],
    // Scale and property tests run small here (test/support/scale.ts).
    env: { BUILDER_IMAGES_MUTATION: '1' },
    sequence: { sequencer: UnitTestsFirst },
  },
});
