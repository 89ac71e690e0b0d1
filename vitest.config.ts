import { defineConfig } from 'vitest/config';
import { integrationProject } from './vitest.integration.config.js';

const jsonReport = process.env.FATHOM_VITEST_JSON;

export default defineConfig({
  test: {
    // Real processes, sockets and TLS handshakes: give slow CI machines room, never rely on it for sync.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/support/temp-root.ts'],
    // CI reads the counts from a JSON report (.ci/run), people read the default one.
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/integration/**'],
        },
      },
      // Starts one real control plane (test/cluster/) for test/integration/.
      integrationProject,
    ],
  },
});
