import { readFile } from 'node:fs/promises';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * @actions/workflow-parser ships `//# sourceMappingURL` comments whose maps name TypeScript sources the package
 * does not publish. Inlined (below), Vite follows each comment and warns once per file ("points to missing
 * source files"). This loader reads the package's files itself and drops the dangling comment, so Vite has no
 * map to follow for code nobody debugs here; every other module keeps its source maps.
 */
function withoutDanglingSourceMaps(packageName: string): Plugin {
  const inPackage = `/node_modules/${packageName}/`;
  return {
    name: 'without-dangling-source-maps',
    enforce: 'pre',
    async load(id) {
      const file = id.split('?')[0]!;
      if (!file.includes(inPackage) || !file.endsWith('.js')) return null;
      const code = await readFile(file, 'utf8');
      return { code: code.replace(/^\/\/# sourceMappingURL=.*$/gm, ''), map: null };
    },
  };
}

export default defineConfig({
  plugins: [withoutDanglingSourceMaps('@actions/workflow-parser')],
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
