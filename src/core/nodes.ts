/**
 * Nodes as fathom sees them (simulated or real) and Kubernetes' rules for which nodes a pod may
 * land on, shared by every domain that places work on nodes.
 */

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** A node taint as Kubernetes writes it (`key=value:Effect`). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

/** A pod toleration: an empty key with Exists tolerates every taint, an empty effect every effect. */
export interface Toleration {
  readonly key?: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
}

/** A simulated or real node. */
export interface ClusterNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Absent in run records written before nodes had taints. */
  readonly taints?: readonly Taint[];
}

export type NodeSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

/** One `matchExpressions` (label) or `matchFields` (`metadata.name`) entry of a node selector term. */
export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: NodeSelectorOperator;
  readonly values: readonly string[];
}

/** A term of `requiredDuringSchedulingIgnoredDuringExecution`: its requirements are ANDed. */
export interface NodeSelectorTerm {
  readonly matchExpressions: readonly NodeSelectorRequirement[];
  readonly matchFields: readonly NodeSelectorRequirement[];
}

/** Where a workload may run: a pod spec's nodeSelector and required node affinity. */
export interface NodePlacement {
  /** podSpec.nodeSelector. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /**
   * podSpec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
   * (ORed). Absent or empty when none is set.
   */
  readonly requiredNodeAffinity?: readonly NodeSelectorTerm[];
}

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
 * Whether a workload's (a plugin's) pods would land on `node`: every podSpec.nodeSelector label matches and,
 * when set, at least one required node affinity term matches. Taints are not considered
 * (Sonobuoy's default DaemonSet podSpec tolerates everything).
 */
export function nodeMatches(plugin: NodePlacement, node: ClusterNode): boolean {
  for (const [key, value] of Object.entries(plugin.nodeSelector)) {
    if (!Object.hasOwn(node.labels, key) || node.labels[key] !== value) return false;
  }
  const terms = plugin.requiredNodeAffinity ?? [];
  return terms.length === 0 || terms.some((t) => termMatches(t, node));
}
