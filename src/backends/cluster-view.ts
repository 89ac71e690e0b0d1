/**
 * What `fathom cluster get` shows, in one shape for both backends: each node with its labels,
 * taints and the fathom workloads on it (the pods labelled `component=fathom` that are not
 * finished, as `kubectl describe node` lists non-terminated pods). Pure.
 */
import type { ClusterNode, Taint, TaintEffect } from '../core/nodes.js';
import type { KubeObject } from '../status/types.js';
import type { BackendName } from './backend.js';

/** The label every fathom pod carries, on both backends (kubernetes/names.ts, local/reader.ts). */
export const FATHOM_POD_SELECTOR = { matchLabels: { component: 'fathom' } } as const;

export interface NodeWorkload {
  readonly namespace: string;
  readonly name: string;
  /** `plugin` or `aggregator` (the `fathom-component` label). */
  readonly component: string;
  readonly plugin?: string;
  readonly phase: string;
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly workloads: readonly NodeWorkload[];
}

export interface ClusterView {
  readonly backend: BackendName;
  readonly nodes: readonly NodeView[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

/** A core/v1 Node as a ClusterNode: its name, labels and spec.taints. */
export function nodeOfObject(node: KubeObject): ClusterNode {
  const meta = obj(node.metadata);
  const taints = (Array.isArray(obj(node.spec).taints) ? (obj(node.spec).taints as unknown[]) : [])
    .map(obj)
    .filter((t) => typeof t.key === 'string' && typeof t.effect === 'string')
    .map((t): Taint => ({
      key: t.key as string,
      ...(str(t.value) ? { value: t.value as string } : {}),
      effect: t.effect as TaintEffect,
    }));
  return { name: str(meta.name) ?? '', labels: stringMap(meta.labels), taints };
}

const FINISHED = new Set(['Succeeded', 'Failed']);

/** The nodes, in the order given, each with the unfinished fathom pods placed on it. */
export function clusterView(
  backend: BackendName,
  nodes: readonly ClusterNode[],
  pods: readonly KubeObject[],
): ClusterView {
  const byNode = new Map<string, NodeWorkload[]>();
  for (const pod of pods) {
    const node = str(obj(pod.spec).nodeName);
    const phase = str(obj(pod.status).phase) ?? 'Pending';
    if (!node || FINISHED.has(phase)) continue;
    const meta = obj(pod.metadata);
    const labels = stringMap(meta.labels);
    const plugin = labels['fathom-plugin'];
    const workload: NodeWorkload = {
      namespace: str(meta.namespace) ?? '',
      name: str(meta.name) ?? '',
      component: labels['fathom-component'] ?? '',
      ...(plugin ? { plugin } : {}),
      phase,
    };
    byNode.set(node, [...(byNode.get(node) ?? []), workload]);
  }
  const order = (a: NodeWorkload, b: NodeWorkload): number =>
    `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1;
  return {
    backend,
    nodes: nodes.map((n) => ({
      name: n.name,
      labels: n.labels,
      taints: n.taints ?? [],
      workloads: (byNode.get(n.name) ?? []).sort(order),
    })),
  };
}
