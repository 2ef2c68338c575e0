// The tests `make mutation` runs against each mutant of src/core and src/adapters/registry (stryker.config.json):
// the unit tests and the integration tests that exercise those modules, without the image builds (push, build,
// engines), which add seconds to minutes per mutant and reach the same core code through the same paths.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

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
  },
});
