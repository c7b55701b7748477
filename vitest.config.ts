import { defineConfig } from 'vitest/config';

// Packages resolve to their TypeScript sources in tests (the "source" export
// condition); spawned processes run the built `dist/` (npm test builds first).
const conditions = ['source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  // Vitest hands ssr.resolve.conditions to Node as --conditions for every
  // external module, `require` included: "import" there makes CommonJS
  // dependencies (express's router → is-promise) load ESM files and break.
  // Vite adds "import"/"require" and "default" by itself.
  ssr: { resolve: { conditions: ['source', 'node', 'development|production'], externalConditions: ['source'] } },
  test: {
    testTimeout: 60_000,
    // Two cores: two test files at a time. Projects run one after another
    // (groupOrder): unit, then integration, then the fault suite alone.
    maxWorkers: 2,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', sequence: { groupOrder: 0 }, include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['**/*.int.test.ts', '**/node_modules/**'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['packages/*/test/**/*.int.test.ts', 'apps/*/test/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          exclude: ['test/faults/**', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: { name: 'faults', sequence: { groupOrder: 2 }, include: ['test/faults/**/*.int.test.ts'], fileParallelism: false },
      },
    ],
  },
});
