/**
 * Taints and tolerations, as the Kubernetes scheduler and DaemonSet controller apply them: a pod
 * lands only on a node whose NoSchedule and NoExecute taints it all tolerates (PreferNoSchedule
 * is a preference, never a refusal). Pure.
 */
import { nodeMatches, type ClusterNode, type Taint, type Toleration } from '../core/nodes.js';
import type { Driver, PluginDefinition } from './types.js';

/** The tolerations of Sonobuoy's default podSpec for a driver (`gen.ts` writes the same). */
export function defaultTolerations(driver: Driver): readonly Toleration[] {
  if (driver === 'Job') {
    return [
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'CriticalAddonsOnly', operator: 'Exists' },
      { key: 'kubernetes.io/e2e-evict-taint-key', operator: 'Exists' },
    ];
  }
  return [{ operator: 'Exists' }];
}

/** What the DaemonSet controller adds to every DaemonSet pod, so node conditions do not evict it. */
export const daemonSetTolerations: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** Kubernetes' Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
}

/** The first taint that keeps a pod with these tolerations off the node, if any. */
export function untoleratedTaint(
  tolerations: readonly Toleration[],
  taints: readonly Taint[] = [],
): Taint | undefined {
  return taints.find(
    (taint) =>
      taint.effect !== 'PreferNoSchedule' && !tolerations.some((t) => toleratesTaint(t, taint)),
  );
}

/** `key=value:Effect`, as kubectl prints a taint. */
export function formatTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}

/** The tolerations a plugin's pods carry once created (a DaemonSet's get the controller's too). */
export function podTolerations(plugin: PluginDefinition): readonly Toleration[] {
  return plugin.driver === 'DaemonSet'
    ? [...plugin.tolerations, ...daemonSetTolerations]
    : plugin.tolerations;
}

/** The taint that keeps the plugin's pod off `node`, if any. */
export function blockingTaint(plugin: PluginDefinition, node: ClusterNode): Taint | undefined {
  // Untainted nodes (all of them in runs recorded before taints) need no tolerations.
  if (!node.taints?.length) return undefined;
  return untoleratedTaint(podTolerations(plugin), node.taints);
}

/** Where a pod of the plugin may run: its selectors and affinity match and it tolerates the taints. */
export function schedulable(plugin: PluginDefinition, node: ClusterNode): boolean {
  return nodeMatches(plugin, node) && !blockingTaint(plugin, node);
}

/** The node a Job plugin's one pod runs on: the first it may run on. */
export function jobNode(
  plugin: PluginDefinition,
  nodes: readonly ClusterNode[],
): ClusterNode | undefined {
  return nodes.find((n) => schedulable(plugin, n));
}

/**
 * The scheduler's message when no node fits, e.g. `0/3 nodes are available: 1 node(s) had
 * untolerated taint {gpu: true}, 2 node(s) didn't match Pod's node affinity/selector.`
 */
export function unschedulableMessage(
  plugin: PluginDefinition,
  nodes: readonly ClusterNode[],
): string {
  const reasons = new Map<string, number>();
  for (const node of nodes) {
    const taint = nodeMatches(plugin, node) ? blockingTaint(plugin, node) : undefined;
    const reason = taint
      ? `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`
      : "node(s) didn't match Pod's node affinity/selector";
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  // The scheduler sorts the "<count> <reason>" strings.
  const parts = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
  return `0/${nodes.length} nodes are available: ${parts.join(', ')}.`;
}
