import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real registries and builds; give them room but keep runaway tests bounded.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two cores here: more workers only make the real builds fight.
    maxWorkers: 2,
    // @actions/workflow-parser imports JSON without an import attribute, which Node 20 refuses: let Vite load it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
