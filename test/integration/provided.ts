/**
 * The cluster the integration global setup provides, or why there is none (tests then skip;
 * under CI the file fails instead, see test/support/required.ts).
 */
import { inject } from 'vitest';
import { available } from '../support/required.js';
import type { ProvidedCluster } from './context.js';

export function providedCluster(): { cluster: ProvidedCluster | null; skipReason: string } {
  const cluster = inject('fathomCluster');
  const skipReason =
    inject('fathomClusterSkip') ||
    'no test cluster was provided: run with `npx vitest run --config vitest.integration.config.ts`';
  available(cluster !== null, skipReason);
  return { cluster, skipReason };
}
