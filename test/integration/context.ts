/** What the integration global setup hands to the tests through vitest's provide/inject. */
import type { NodePool } from '../cluster/nodes.js';

export interface ProvidedCluster {
  readonly kubeconfig: string;
  readonly server: string;
  readonly nodeNames: readonly string[];
}

/** The one cluster of an integration run: 5 nodes, one of them in a tainted, labelled pool. */
export const INTEGRATION_NODES = 5;
export const SPECIAL_POOL: NodePool = {
  name: 'special',
  count: 1,
  labels: { 'fathom.test/special': 'true' },
  taints: [{ key: 'fathom.test/special', value: 'true', effect: 'NoSchedule' }],
};

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running test cluster, or null when it could not be had (see fathomClusterSkip). */
    fathomCluster: ProvidedCluster | null;
    fathomClusterSkip: string;
  }
}
