/**
 * The cluster summary of a run's snapshot, from `resources/cluster/core_v1_nodes.json` and
 * `serverversion.json` of any tarball (fathom's, either backend, or Sonobuoy's): the server's
 * version, each node's readiness, kubelet version, roles and taints. Pure; the results reader
 * hands over the files' text. Fields of the wrong type read as absent: a summary is shown
 * whatever a snapshot holds, never refused for a field it does not show.
 */
import { CORE_NODES_FILE } from '../snapshot/layout.js';

export interface ClusterNodeSummary {
  readonly name: string;
  /** The Ready condition's status (`True`, `False`, `Unknown`), or "" when the node has none. */
  readonly ready: string;
  readonly reason: string;
  readonly message: string;
  readonly kubeletVersion: string;
  /** `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`, sorted. */
  readonly roles: readonly string[];
  /** As kubectl writes them: `key=value:Effect`. */
  readonly taints: readonly string[];
}

export interface ClusterSummaryView {
  /** `gitVersion` of serverversion.json; undefined when the snapshot has none. */
  readonly serverVersion?: string;
  readonly nodes: readonly ClusterNodeSummary[];
  readonly ready: number;
  /** Nodes whose Ready condition is not True, in the file's order. */
  readonly notReady: readonly ClusterNodeSummary[];
  /** Kubelet versions with how many nodes run each, most first. */
  readonly kubeletVersions: readonly { readonly version: string; readonly nodes: number }[];
}

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const ROLE_PREFIX = 'node-role.kubernetes.io/';

function rolesOf(labels: Obj): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(ROLE_PREFIX) && k.length > ROLE_PREFIX.length) {
      roles.add(k.slice(ROLE_PREFIX.length));
    }
    if (k === 'kubernetes.io/role' && str(v)) roles.add(str(v));
  }
  return [...roles].sort();
}

function taintText(t: Obj): string {
  const value = str(t.value);
  return `${str(t.key)}${value ? `=${value}` : ''}:${str(t.effect)}`;
}

function nodeSummary(item: unknown): ClusterNodeSummary {
  const node = obj(item);
  const meta = obj(node.metadata);
  const status = obj(node.status);
  const ready = arr(status.conditions)
    .map(obj)
    .filter((c) => c.type === 'Ready')
    .pop();
  return {
    name: str(meta.name),
    ready: str(ready?.status),
    reason: str(ready?.reason),
    message: str(ready?.message),
    kubeletVersion: str(obj(status.nodeInfo).kubeletVersion),
    roles: rolesOf(obj(meta.labels)),
    taints: arr(obj(node.spec).taints).map((t) => taintText(obj(t))),
  };
}

function parse(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The summary, or undefined when the snapshot has neither file. Throws (naming the file) when
 * one is not JSON.
 */
export function clusterSummaryOf(files: {
  readonly nodes?: string;
  readonly serverVersion?: string;
}): ClusterSummaryView | undefined {
  if (files.nodes === undefined && files.serverVersion === undefined) return undefined;
  // A List object; older Sonobuoy versions wrote the bare array of items (its 2021 tarballs).
  const list = files.nodes === undefined ? [] : parse(files.nodes, CORE_NODES_FILE);
  const nodes = (Array.isArray(list) ? list : arr(obj(list).items)).map(nodeSummary);
  const version =
    files.serverVersion === undefined
      ? undefined
      : str(obj(parse(files.serverVersion, 'serverversion.json')).gitVersion);
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.kubeletVersion, (counts.get(n.kubeletVersion) ?? 0) + 1);
  const notReady = nodes.filter((n) => n.ready !== 'True');
  return {
    ...(version !== undefined ? { serverVersion: version } : {}),
    nodes,
    ready: nodes.length - notReady.length,
    notReady,
    kubeletVersions: [...counts]
      .map(([v, n]) => ({ version: v, nodes: n }))
      .sort((a, b) => b.nodes - a.nodes || (a.version < b.version ? -1 : 1)),
  };
}
