// SPDX-License-Identifier: Apache-2.0
// One root command runs every package's tests. Workspace packages resolve to their TypeScript
// sources through the "source" export condition, so tests never need a prior build.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sourceConditions = ['source', 'import', 'module', 'node', 'default'];

const project = (name: string, dir: string) => ({
  extends: true as const,
  test: {
    name,
    // Absolute, so per-package runs (`lerna run test`, started in the package folder) find the files.
    root: fileURLToPath(new URL(dir, import.meta.url)),
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
  },
});

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions, externalConditions: ['source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      project('core', 'core'),
      project('store-embedded', 'plugins/store-embedded'),
      project('store-etcd', 'plugins/store-etcd'),
      project('scheduler', 'plugins/scheduler'),
      project('apiserver', 'plugins/apiserver'),
      project('single-node', 'starters/single-node'),
      project('custom-scheduler', 'starters/custom-scheduler'),
      project('e2e', 'test'),
    ],
  },
});
