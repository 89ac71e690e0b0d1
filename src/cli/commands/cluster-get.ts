/**
 * `fathom cluster get`: the nodes of the local cluster (its file) or of the Kubernetes cluster
 * (its Node objects), with the fathom pods on each, read through the backend's ClusterReader.
 */
import {
  clusterView,
  FATHOM_POD_SELECTOR,
  nodeOfObject,
  type ClusterView,
} from '../../backends/cluster-view.js';
import { FathomError } from '../../core/errors.js';
import type { ClusterNode } from '../../core/nodes.js';
import type { KubeObject } from '../../status/types.js';
import { openClusterReader } from '../cluster-reader.js';
import type { ClusterOptions, Io } from '../context.js';

const POD = { group: '', kind: 'Pod' } as const;
const NODE = { group: '', kind: 'Node' } as const;

export async function getCluster(
  options: Pick<ClusterOptions, 'backend' | 'kubeconfig' | 'context' | 'requestTimeout'>,
  io: Io,
): Promise<ClusterView> {
  const opened = await openClusterReader(options, io);
  try {
    let nodes: readonly ClusterNode[];
    const pods: KubeObject[] = [];
    if (options.backend === 'kubernetes') {
      nodes = (await opened.reader.list(NODE, '')).map(nodeOfObject);
    } else {
      const [{ readCluster }, { fathomHome }, { workloadPods }] = await Promise.all([
        import('../../backends/local/cluster-store.js'),
        import('../../backends/local/store.js'),
        import('../../backends/local/workloads/index.js'),
      ]);
      const home = fathomHome(io.env);
      const cluster = await readCluster(home);
      if (!cluster) {
        throw new FathomError(
          'FATHOM_CLUSTER_NOT_FOUND',
          'there is no local cluster yet: `fathom cluster create` makes one, and `fathom run` makes one of 3 nodes on first use',
        );
      }
      nodes = cluster.nodes;
      // Workloads (check agents, session components) live apart from runs on this backend.
      pods.push(...(await workloadPods(home)));
    }
    pods.push(...(await opened.reader.list(POD, '', FATHOM_POD_SELECTOR)));
    return clusterView(options.backend, nodes, pods);
  } finally {
    opened.close();
  }
}
