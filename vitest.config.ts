import { defineConfig } from 'vitest/config';

const jsonReport = process.env.FATHOM_VITEST_JSON;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Real processes, sockets and TLS handshakes: give slow CI machines room, never rely on it for sync.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // CI reads the counts from a JSON report (.ci/run), people read the default one.
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
