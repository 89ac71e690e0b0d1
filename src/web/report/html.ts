/**
 * The results report as one self-contained HTML page: inline CSS, inline script, inline SVG, no
 * fonts, images or requests. Every value from the results is escaped, and a Content-Security-Policy
 * lets only the page's own style and script (by hash) run and forbids any connection.
 */
import { createHash } from 'node:crypto';
import { SCRIPT, STYLE } from './assets.js';
import { renderChart } from './chart.js';
import { escapeHtml as esc, truncate } from './escape.js';
import { clusterSection } from './cluster.js';
import { errorFiles, healthPercent, unhealthy, type ClusterHealth } from '../../results/health.js';
import type { Counts, ReportModel, StatusClass, TestRow } from './model.js';

export interface HtmlReportOptions {
  /** Shown in the footer, e.g. `fathom 0.1.0`. */
  generator?: string;
  /** Most rows in the "All tests" table (default 20,000); failures always come first. */
  maxTests?: number;
  /** Most expandable failures (default 2,000). */
  maxFailures?: number;
  /** Longest text shown for one detail (failure message, output) in characters (default 64 Ki). */
  maxDetailChars?: number;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64');

/** Only the inline style and script of this page may apply; nothing may be fetched or sent. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${sha256(STYLE)}'`,
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const detailOrder = ['failure', 'error', 'system-out', 'system-err'];

function badge(status: string, cls: StatusClass): string {
  return `<span class="badge ${cls} status-text">${esc(status || 'unknown')}</span>`;
}

function where(t: TestRow): string {
  return [t.plugin, t.node, ...t.path].join(' › ');
}

function detailText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function detailsBody(t: TestRow, max: number): string {
  const parts: string[] = [];
  const details = t.details ?? {};
  const keys = [
    ...detailOrder.filter((k) => k in details),
    ...Object.keys(details)
      .filter((k) => !detailOrder.includes(k))
      .sort(),
  ];
  for (const key of keys) {
    const { text, omitted } = truncate(detailText(details[key]), max);
    parts.push(`<h4>${esc(key)}</h4><pre>${esc(text)}</pre>`);
    if (omitted > 0) {
      parts.push(
        `<p class="note">${omitted} more characters not shown; see <code>fathom results -m detailed</code>.</p>`,
      );
    }
  }
  if (t.file) parts.push(`<p class="where">File: plugins/${esc(t.plugin)}/${esc(t.file)}</p>`);
  if (parts.length === 0) parts.push('<p class="note">No message was recorded for this test.</p>');
  return parts.join('');
}

function failureEntry(t: TestRow, i: number, max: number): string {
  return (
    `<details class="test" id="f-${i}" data-status="${t.statusClass}"><summary>${badge(t.status, t.statusClass)}` +
    `<span class="name">${esc(t.name)}</span><span class="where">${esc(where(t))}</span></summary>` +
    `<div class="body">${detailsBody(t, max)}</div></details>`
  );
}

function testRow(t: TestRow, failureId: number | undefined): string {
  const name =
    failureId === undefined
      ? `<span class="name">${esc(t.name)}</span>`
      : `<a class="name" href="#f-${failureId}">${esc(t.name)}</a>`;
  return (
    `<tr data-status="${t.statusClass}"><td>${badge(t.status, t.statusClass)}</td>` +
    `<td class="test-name">${name}<span class="where">${esc(where(t))}</span></td></tr>`
  );
}

function countCells(c: Counts): string {
  return (['total', 'passed', 'failed', 'skipped', 'other'] as const)
    .map((k) => `<td class="n">${c[k]}</td>`)
    .join('');
}

function pluginTable(model: ReportModel): string {
  const rows: string[] = [];
  for (const p of model.plugins) {
    if (p.error !== undefined) {
      rows.push(
        `<tr class="plugin"><td>${esc(p.name)}</td><td><span class="badge failed">error</span></td>` +
          `<td colspan="5" class="error-text">${esc(p.error)}</td></tr>`,
      );
      continue;
    }
    const cls: StatusClass =
      p.counts.failed > 0 ? 'failed' : p.status === 'passed' ? 'passed' : 'other';
    rows.push(
      `<tr class="plugin"><td>${esc(p.name)}</td><td>${badge(p.status, cls)}</td>${countCells(p.counts)}</tr>`,
    );
    if (p.nodes.length === 1 && p.nodes[0]!.name === 'global') continue;
    for (const n of p.nodes) {
      const ncls: StatusClass = n.counts.failed > 0 ? 'failed' : 'passed';
      rows.push(
        `<tr class="node"><td>${esc(n.name)}</td><td>${badge(ncls, ncls)}</td>${countCells(n.counts)}</tr>`,
      );
    }
  }
  return (
    '<table class="plugins"><thead><tr><th>Plugin / node</th><th>Status</th><th class="n">Total</th>' +
    '<th class="n">Passed</th><th class="n">Failed</th><th class="n">Skipped</th><th class="n">Other</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function card(label: string, value: number, cls: string): string {
  return `<div class="card ${cls}" data-count="${cls}"><div class="label">${label}</div><div class="value">${value}</div></div>`;
}

function runLine(model: ReportModel): string {
  const parts: string[] = [];
  if (model.run.uuid) parts.push(`<span>run ${esc(model.run.uuid)}</span>`);
  if (model.run.namespace) parts.push(`<span>namespace ${esc(model.run.namespace)}</span>`);
  if (model.run.version) parts.push(`<span>written by ${esc(model.run.version)}</span>`);
  parts.push(`<span>${model.plugins.length} plugin${model.plugins.length === 1 ? '' : 's'}</span>`);
  return `<p class="run">${parts.join('')}</p>`;
}

function healthSection(h: ClusterHealth): string {
  const line = (label: string, c: ClusterHealth['node_health']): string => {
    const pct = healthPercent(c);
    return `<p>${label}: <strong>${c.healthy_nodes}/${c.total_nodes}</strong>${pct === undefined ? '' : ` (${pct}%)`}</p>`;
  };
  const list = (items: ReturnType<typeof unhealthy>): string =>
    items.length === 0
      ? ''
      : `<table><tbody>${items
          .map(
            (d) =>
              `<tr><td>${esc(d.namespace ? `${d.namespace}/${d.name}` : d.name)}</td><td>Ready: ${esc(d.ready)}</td>` +
              `<td>${esc(d.reason ?? '')}</td><td>${esc(d.message ?? '')}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const errors = errorFiles(h.error_summary)
    .map(
      (t) =>
        `<h4>${esc(t.type)}</h4><table><tbody>${t.files
          .map((f) => `<tr><td class="n">${f.count}</td><td>${esc(f.file)}</td></tr>`)
          .join('')}</tbody></table>`,
    )
    .join('');
  return (
    '<section id="run-details"><h2>Run details</h2>' +
    `<p>API server version: <strong>${esc(h.api_version || 'unknown')}</strong></p>` +
    line('Node health', h.node_health) +
    list(unhealthy(h.node_health.details)) +
    line('Pod health', h.pod_health) +
    list(unhealthy(h.pod_health.details)) +
    (errors ? `<p>Errors detected in files:</p><div class="body">${errors}</div>` : '') +
    '</section>'
  );
}

/** The whole page. Pure: the same model gives the same bytes. */
export function renderReportHtml(model: ReportModel, options: HtmlReportOptions = {}): string {
  const maxTests = options.maxTests ?? 20_000;
  const maxFailures = options.maxFailures ?? 2_000;
  const maxDetail = options.maxDetailChars ?? 64 * 1024;
  const failures = model.tests.filter((t) => t.statusClass === 'failed');
  // Failures first everywhere: a reader opens the page to see what broke.
  const ordered = [...failures, ...model.tests.filter((t) => t.statusClass !== 'failed')];
  const shownFailures = failures.slice(0, maxFailures);
  const shownTests = ordered.slice(0, maxTests);
  const c = model.counts;
  const title = `fathom results: ${model.source}`;

  const failureList =
    failures.length === 0
      ? '<p class="note">No failures.</p>'
      : shownFailures.map((t, i) => failureEntry(t, i, maxDetail)).join('') +
        '<p class="note" id="no-matching-failures" hidden>No failure matches the filter.</p>' +
        (failures.length > shownFailures.length
          ? `<p class="note">${failures.length - shownFailures.length} more failures not shown.</p>`
          : '');
  const rows = shownTests
    .map((t, i) =>
      testRow(t, i < shownFailures.length && t.statusClass === 'failed' ? i : undefined),
    )
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>fathom results ${badge(model.status, model.status)}</h1>
<div class="source">${esc(model.source)}</div>
${runLine(model)}
</header>
<main>
<section id="summary"><h2>Summary</h2><div class="cards">
${card('Tests', c.total, 'total')}${card('Passed', c.passed, 'passed')}${card('Failed', c.failed, 'failed')}${card('Skipped', c.skipped, 'skipped')}${card('Other', c.other, 'other')}
</div></section>
<section id="plugins"><h2>Plugins and nodes</h2>
<ul class="legend"><li class="passed">passed</li><li class="failed">failed or timed out</li><li class="skipped">skipped</li><li class="other">other status</li></ul>
${renderChart(model.plugins)}
${pluginTable(model)}
</section>
<div class="toolbar" role="search">
<input type="search" id="search" placeholder="Filter tests by name, plugin or node" aria-label="Filter tests" autocomplete="off">
<select id="status-filter" aria-label="Status"><option value="all">All statuses</option><option value="failed">Failed</option><option value="passed">Passed</option><option value="skipped">Skipped</option><option value="other">Other</option></select>
<button type="button" data-open="true">Expand all</button><button type="button" data-open="false">Collapse all</button>
<span class="shown" id="shown">${shownTests.length} tests</span>
</div>
<section id="failures"><h2>Failures (${failures.length})</h2>
${failureList}
</section>
<section id="tests"><h2>All tests (${c.total})</h2>
<table class="tests"><thead><tr><th>Status</th><th>Test</th></tr></thead><tbody>
${rows}
</tbody></table>
${ordered.length > shownTests.length ? `<p class="note">${ordered.length - shownTests.length} more tests not shown; see <code>fathom results -m detailed</code>.</p>` : ''}
</section>
${model.cluster ? clusterSection(model.cluster) : ''}
${model.health ? healthSection(model.health) : ''}
</main>
<footer>${esc(options.generator ?? 'fathom')}: a self-contained page; it loads nothing from the network.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
