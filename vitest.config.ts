import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources: the `@pay/source` export condition points
// every workspace package at its `src/index.ts`, so no build is needed first.
const conditions = ['@pay/source', 'module', 'node', 'development|production'];
const packages = readdirSync(new URL('./packages', import.meta.url));

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      { extends: true, test: { name: 'examples', root: 'examples', include: ['test/**/*.test.ts'] } },
    ],
    coverage: { provider: 'v8', include: ['packages/*/src/**'] },
  },
});
