import { nodeMatches, type ClusterNode } from '../core/nodes.js';
import type { ExpectedResult, PluginDefinition } from './types.js';
import { GLOBAL_NODE } from './types.js';

/** What the aggregator waits for: one `global` result for a Job, one per matching node for a DaemonSet. */
export function expectedResults(
  plugin: PluginDefinition,
  nodes: readonly ClusterNode[],
): ExpectedResult[] {
  if (plugin.driver === 'Job') return [{ plugin: plugin.name, node: GLOBAL_NODE }];
  return nodes
    .filter((n) => nodeMatches(plugin, n))
    .map((n) => ({ plugin: plugin.name, node: n.name }));
}
