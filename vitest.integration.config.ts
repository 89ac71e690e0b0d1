import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';

/**
 * test/integration/ against a real control plane (test/cluster/), started once by the global
 * setup: `npx vitest run --config vitest.integration.config.ts`. `integrationProject` is the
 * same thing as a `test.projects` entry for the main config.
 */
export const integrationProject = {
  extends: true,
  test: {
    name: 'integration',
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['test/integration/setup.ts'],
    // One shared cluster on a 2-core machine: one test file at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
} satisfies TestProjectInlineConfiguration;

export default defineConfig({
  test: {
    ...integrationProject.test,
    pool: 'forks',
    setupFiles: ['test/support/temp-root.ts'],
    reporters: process.env.FATHOM_VITEST_JSON
      ? ['default', ['json', { outputFile: process.env.FATHOM_VITEST_JSON }]]
      : ['default'],
  },
});
