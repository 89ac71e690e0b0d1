/**
 * Local workloads as Pod objects for `fathom cluster get` (cluster-view.ts), in the shape the
 * Kubernetes backend's workload pods have: labelled `component=fathom`, bound to their node.
 * There are no namespaces locally: a workload's owner (a session, `check-agents`) stands in.
 */
import type { KubeObject } from '../../../status/types.js';
import { isAlive } from '../process/group.js';
import { readAllWorkloads } from './files.js';

export const WORKLOAD_COMPONENT = 'workload';

export async function workloadPods(
  home: string,
  alive: (pid: number | undefined) => boolean = isAlive,
): Promise<KubeObject[]> {
  return (await readAllWorkloads(home, alive)).map((w) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: w.name,
      namespace: w.owner,
      labels: {
        component: 'fathom',
        'fathom-component': WORKLOAD_COMPONENT,
        'fathom-owner': w.owner,
      },
    },
    spec: {
      nodeName: w.node,
      restartPolicy: 'Never',
      containers: w.containers.map((c) => ({ name: c.name })),
    },
    status: { phase: w.phase },
  }));
}
