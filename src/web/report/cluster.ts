/**
 * The report's Cluster section: the run's snapshot summarised (src/results/cluster.ts), the
 * server version, node counts, kubelet versions and one row a node, not-ready nodes first and
 * highlighted, since they are what a reader looks for.
 */
import type { ClusterNodeSummary, ClusterSummaryView } from '../../results/cluster.js';
import { escapeHtml as esc } from './escape.js';

const list = (items: readonly string[]): string =>
  items.length === 0 ? '<span class="none">none</span>' : items.map(esc).join('<br>');

function nodeRow(n: ClusterNodeSummary): string {
  const ready = n.ready === 'True';
  const why = [n.reason, n.message].filter(Boolean).join(': ');
  return (
    `<tr class="${ready ? 'ready' : 'not-ready'}" data-ready="${esc(n.ready || 'Unknown')}">` +
    `<td>${esc(n.name)}</td>` +
    `<td class="ready">${esc(n.ready || 'Unknown')}${!ready && why ? `<div class="why">${esc(why)}</div>` : ''}</td>` +
    `<td>${esc(n.kubeletVersion)}</td><td>${list(n.roles)}</td><td>${list(n.taints)}</td></tr>`
  );
}

/** The section; at most `maxNodes` rows (not-ready ones first), the rest counted. */
export function clusterSection(v: ClusterSummaryView, maxNodes = 5_000): string {
  const ordered = [...v.notReady, ...v.nodes.filter((n) => n.ready === 'True')];
  const shown = ordered.slice(0, maxNodes);
  const versions = v.kubeletVersions
    .map((k) => `${esc(k.version || 'unknown')} (${k.nodes})`)
    .join(', ');
  const notReady = v.notReady.length;
  return (
    '<section id="cluster"><h2>Cluster</h2>' +
    `<p>Server version: <strong>${esc(v.serverVersion || 'unknown')}</strong></p>` +
    `<p>Nodes: <strong>${v.nodes.length}</strong>, <strong data-count="ready">${v.ready}</strong> ready, ` +
    `<strong data-count="not-ready" class="${notReady ? 'not-ready' : ''}">${notReady}</strong> not ready</p>` +
    (versions ? `<p>Kubelet versions: ${versions}</p>` : '') +
    (shown.length === 0
      ? ''
      : '<table class="nodes"><thead><tr><th>Node</th><th>Ready</th><th>Kubelet</th><th>Roles</th><th>Taints</th></tr></thead>' +
        `<tbody>${shown.map(nodeRow).join('')}</tbody></table>`) +
    (ordered.length > shown.length
      ? `<p class="note">${ordered.length - shown.length} more nodes not shown; see <code>fathom results --cluster</code>.</p>`
      : '') +
    '</section>'
  );
}
