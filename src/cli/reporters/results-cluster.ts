/**
 * `fathom results TARBALL --cluster`: the cluster summary of the run's snapshot as a table (one
 * row a node), with the server version above it and the nodes that are not ready below, or as
 * one JSON/YAML document.
 */
import { visible } from '../../core/visible.js';
import type { ClusterNodeSummary, ClusterSummaryView } from '../../results/cluster.js';
import { kubectlTable } from './table.js';

const cell = (text: string): string => visible(text, 'line') || '<none>';

function why(n: ClusterNodeSummary): string {
  const parts = [n.reason, n.message].filter(Boolean);
  return parts.length ? parts.join(': ') : n.ready ? 'Ready is not True' : 'no Ready condition';
}

/** The text view. */
export function formatClusterSummary(v: ClusterSummaryView): string {
  let out = `Server version: ${v.serverVersion === undefined ? '<unknown>' : cell(v.serverVersion)}\n`;
  out += `Nodes: ${v.nodes.length} (${v.ready} ready, ${v.notReady.length} not ready)\n`;
  if (v.kubeletVersions.length > 1) {
    const versions = v.kubeletVersions.map((k) => `${cell(k.version)} (${k.nodes})`);
    out += `Kubelet versions: ${versions.join(', ')}\n`;
  }
  if (v.nodes.length === 0) return out;
  const table = kubectlTable(['NODE', 'READY', 'VERSION', 'ROLES', 'TAINTS']);
  for (const n of v.nodes) {
    table.push([
      cell(n.name),
      cell(n.ready || 'Unknown'),
      cell(n.kubeletVersion),
      cell(n.roles.join(',')),
      cell(n.taints.join(',')),
    ]);
  }
  out += `\n${table.toString()}\n`;
  if (v.notReady.length > 0) {
    out += '\nNot ready:\n';
    for (const n of v.notReady) out += `${cell(n.name)}: ${visible(why(n), 'line')}\n`;
  }
  return out;
}

/** The document `-o json|yaml` prints. */
export function clusterDocument(v: ClusterSummaryView): Record<string, unknown> {
  return {
    serverVersion: v.serverVersion ?? null,
    nodes: v.nodes.length,
    ready: v.ready,
    notReady: v.notReady.map((n) => n.name),
    kubeletVersions: Object.fromEntries(v.kubeletVersions.map((k) => [k.version, k.nodes])),
    items: v.nodes.map((n) => ({
      name: n.name,
      ready: n.ready,
      ...(n.reason ? { reason: n.reason } : {}),
      ...(n.message ? { message: n.message } : {}),
      kubeletVersion: n.kubeletVersion,
      roles: [...n.roles],
      taints: [...n.taints],
    })),
  };
}
