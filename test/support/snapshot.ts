/** A run's cluster snapshot as the local backend writes it: the nodes' list and the server version. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeObject, nodeReadiness, serverVersion } from '../../src/backends/local/snapshot.js';
import type { ClusterNode } from '../../src/core/nodes.js';
import { listDocument } from '../../src/snapshot/layout.js';

/** Writes `nodes` (kubelet v1.36.3, made 2026-01-01) and server version v1.36.3 under `dir`. */
export async function writeNodesSnapshot(dir: string, nodes: readonly ClusterNode[]) {
  const at = { createdAt: '2026-01-01T00:00:00Z', now: '2026-01-01T00:00:00Z' };
  const items = nodes.map((n) =>
    nodeObject(n, nodeReadiness(n, true), { ...at, kubeletVersion: 'v1.36.3' }),
  );
  await mkdir(join(dir, 'resources/cluster'), { recursive: true });
  await writeFile(
    join(dir, 'resources/cluster/core_v1_nodes.json'),
    JSON.stringify(
      listDocument({ group: '', version: 'v1', resource: 'nodes', kind: 'Node' }, items),
    ),
  );
  await writeFile(join(dir, 'serverversion.json'), JSON.stringify(serverVersion('v1.36.3')));
}
