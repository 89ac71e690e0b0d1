/**
 * Node pools from node labels: every node labelled `<key>=<name>` is one machine of pool
 * `<name>` (the key is `pool` unless configured). Recomputed from the cluster's nodes whenever
 * they change; readiness, taints and cordoning are the backend's business, as in the original.
 */
import type { ClusterNode } from '../core/nodes.js';

export const defaultPoolLabel = 'pool';

/** Pool name → the names of its nodes, sorted; pools in sorted order. */
export type Pools = ReadonlyMap<string, readonly string[]>;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function poolsFromNodes(
  nodes: readonly ClusterNode[],
  labelKey: string = defaultPoolLabel,
): Pools {
  const pools = new Map<string, string[]>();
  for (const node of nodes) {
    const pool = Object.hasOwn(node.labels, labelKey) ? node.labels[labelKey] : undefined;
    if (!pool) continue; // no label, or an empty value: in no pool
    const list = pools.get(pool);
    if (list) list.push(node.name);
    else pools.set(pool, [node.name]);
  }
  return new Map(
    [...pools]
      .sort(([a], [b]) => byName(a, b))
      .map(([pool, names]) => [pool, [...new Set(names)].sort(byName)]),
  );
}
