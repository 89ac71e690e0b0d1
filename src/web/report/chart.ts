/** The inline SVG chart: one 100% stacked bar per plugin and per node (passed/failed/skipped/other). */
import { escapeHtml } from './escape.js';
import type { Counts, PluginSummary } from './model.js';

const WIDTH = 960;
const LABEL = 250;
const BAR = 560;
const ROW = 28;
const BAR_HEIGHT = 16;
const MAX_LABEL = 34;

const classes = ['passed', 'failed', 'skipped', 'other'] as const;

interface ChartRow {
  label: string;
  title: string;
  counts: Counts;
  indent: boolean;
}

function shorten(text: string): string {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

function describe(c: Counts): string {
  return `${c.total} tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.other} other`;
}

/** Rows: each plugin, then its nodes when it has more than the single `global` one. */
export function chartRows(plugins: readonly PluginSummary[]): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const p of plugins) {
    rows.push({ label: p.name, title: p.name, counts: p.counts, indent: false });
    const perNode = p.nodes.length > 1 || (p.nodes.length === 1 && p.nodes[0]!.name !== 'global');
    if (!perNode) continue;
    for (const n of p.nodes) {
      rows.push({ label: n.name, title: `${p.name} / ${n.name}`, counts: n.counts, indent: true });
    }
  }
  return rows;
}

function bar(c: Counts, y: number): string {
  if (c.total === 0) {
    return `<rect class="empty" x="${LABEL}" y="${y}" width="${BAR}" height="${BAR_HEIGHT}" rx="3"><title>no tests</title></rect>`;
  }
  let x = LABEL;
  const parts: string[] = [];
  for (const cls of classes) {
    if (c[cls] === 0) continue;
    const w = (BAR * c[cls]) / c.total;
    parts.push(
      `<rect class="${cls}" x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${BAR_HEIGHT}"><title>${c[cls]} ${cls}</title></rect>`,
    );
    x += w;
  }
  return parts.join('');
}

/** The chart as an `<svg>` element; every label is escaped. */
export function renderChart(plugins: readonly PluginSummary[]): string {
  const rows = chartRows(plugins);
  const height = Math.max(rows.length, 1) * ROW + 4;
  const body = rows
    .map((r, i) => {
      const y = i * ROW + 4;
      const text = y + BAR_HEIGHT - 3;
      const label = escapeHtml(shorten(r.label));
      const count =
        r.counts.failed > 0
          ? `${r.counts.failed} failed / ${r.counts.total}`
          : `${r.counts.passed} passed / ${r.counts.total}`;
      return (
        `<g><title>${escapeHtml(`${r.title}: ${describe(r.counts)}`)}</title>` +
        `<text x="${r.indent ? 18 : 0}" y="${text}"${r.indent ? '' : ' font-weight="600"'}>${label}</text>` +
        bar(r.counts, y) +
        `<text class="count" x="${LABEL + BAR + 12}" y="${text}">${escapeHtml(count)}</text></g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Test results per plugin and node">` +
    body +
    '</svg>'
  );
}
