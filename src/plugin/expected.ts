import type {
  ClusterNode,
  ExpectedResult,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PluginDefinition,
} from './types.js';
import { GLOBAL_NODE } from './types.js';

function toInt(s: string | undefined): bigint | undefined {
  return s !== undefined && /^-?\d+$/.test(s) ? BigInt(s) : undefined;
}

/** Kubernetes' node selector requirement semantics, against a label (or field) value. */
function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (req.operator) {
    case 'In':
      return value !== undefined && req.values.includes(value);
    case 'NotIn':
      return value === undefined || !req.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const have = toInt(value);
      const want = toInt(req.values[0]);
      if (have === undefined || want === undefined) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
  }
}

/** A term matches when it has requirements and all of them hold; an empty term matches nothing. */
function termMatches(term: NodeSelectorTerm, node: ClusterNode): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  const label = (key: string): string | undefined =>
    Object.hasOwn(node.labels, key) ? node.labels[key] : undefined;
  return (
    term.matchExpressions.every((r) => requirementMatches(r, label(r.key))) &&
    term.matchFields.every((r) =>
      requirementMatches(r, r.key === 'metadata.name' ? node.name : undefined),
    )
  );
}

/**
 * Whether a plugin's pods would land on `node`: every podSpec.nodeSelector label matches and,
 * when set, at least one required node affinity term matches. Taints are not considered
 * (Sonobuoy's default DaemonSet podSpec tolerates everything).
 */
export function nodeMatches(plugin: PluginDefinition, node: ClusterNode): boolean {
  for (const [key, value] of Object.entries(plugin.nodeSelector)) {
    if (!Object.hasOwn(node.labels, key) || node.labels[key] !== value) return false;
  }
  const terms = plugin.requiredNodeAffinity ?? [];
  return terms.length === 0 || terms.some((t) => termMatches(t, node));
}

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
