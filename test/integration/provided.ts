/** The cluster the integration global setup provides, or why there is none (tests then skip). */
import { inject } from 'vitest';
import type { ProvidedCluster } from './context.js';

export function providedCluster(): { cluster: ProvidedCluster | null; skipReason: string } {
  return {
    cluster: inject('fathomCluster'),
    skipReason:
      inject('fathomClusterSkip') ||
      'no test cluster was provided: run with `npx vitest run --config vitest.integration.config.ts`',
  };
}
