import type { ClusterView } from '../../backends/cluster-view.js';
import { formatTaint } from '../../plugin/tolerations.js';
import { renderData, type OutputFormat } from './status.js';
import { kubectlTable } from './table.js';

/** The label that groups nodes into pools (sessions place their components by it). */
export const POOL_LABEL = 'pool';
/** Workloads named in a table cell before the rest are counted. */
const NAMED_WORKLOADS = 3;

/**
 * `fathom cluster get`: JSON/YAML as the view is, or a kubectl-style table with one row per node
 * (`--show-labels` adds every label, as `kubectl get nodes --show-labels`).
 */
export function renderCluster(
  view: ClusterView,
  format: OutputFormat,
  options: { readonly showLabels?: boolean } = {},
): string {
  if (format !== 'table') return renderData(view, format);
  const head = ['NAME', 'POOL', 'TAINTS', 'WORKLOADS', ...(options.showLabels ? ['LABELS'] : [])];
  const table = kubectlTable(head);
  for (const node of view.nodes) {
    const named = node.workloads.slice(0, NAMED_WORKLOADS).map((w) => `${w.namespace}/${w.name}`);
    const more = node.workloads.length - named.length;
    table.push([
      node.name,
      node.labels[POOL_LABEL] ?? '<none>',
      node.taints.map(formatTaint).join(',') || '<none>',
      [...named, ...(more > 0 ? [`+${more} more`] : [])].join(',') || '<none>',
      ...(options.showLabels
        ? [
            Object.entries(node.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',') || '<none>',
          ]
        : []),
    ]);
  }
  return `${table.toString()}\n`;
}
