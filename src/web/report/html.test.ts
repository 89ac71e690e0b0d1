import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../results/index.js';
import { clusterSummaryOf } from '../../results/cluster.js';
import { renderChart } from './chart.js';
import { clusterSection } from './cluster.js';
import { escapeHtml } from './escape.js';
import { toClusterHealth } from '../../results/health.js';
import { CONTENT_SECURITY_POLICY, renderReportHtml } from './html.js';
import { buildReportModel, classify, pluginRows } from './model.js';

const evil = '<script>window.pwned=1</script><img src=x onerror="alert(1)">';

const job: Item = {
  name: 'e2e',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'junit.xml',
      status: 'failed',
      meta: { type: 'file', file: 'results/global/junit.xml' },
      items: [
        {
          name: 'suite',
          status: 'failed',
          items: [
            { name: 'ok', status: 'passed' },
            {
              name: evil,
              status: 'failed',
              details: { failure: `msg ${evil}`, 'system-out': 'x'.repeat(50), extra: { k: [1] } },
            },
            { name: 'later', status: 'timeout' },
            { name: 'skip', status: 'skipped' },
            { name: 'custom', status: 'complete' },
          ],
        },
      ],
    },
    { name: 'err', status: 'failed', meta: { file: 'errors\\global\\error.json' } },
  ],
};

const daemonSet: Item = {
  name: 'ds',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'n1',
      status: 'passed',
      meta: { type: 'node' },
      items: [{ name: 'a', status: 'passed' }],
    },
    {
      name: 'n2',
      status: 'failed',
      meta: { type: 'node' },
      items: [{ name: 'b', status: 'failed' }],
    },
    // A node with results and errors appears twice in Sonobuoy's tree; the report merges it.
    {
      name: 'n1',
      status: 'failed',
      meta: { type: 'node' },
      items: [{ name: 'c', status: 'failed' }],
    },
  ],
};

const model = buildReportModel({
  source: 'x.tar.gz',
  run: { uuid: 'u-1', version: 'v0.57.5', namespace: 'sonobuoy' },
  plugins: [
    { name: 'e2e', item: job },
    { name: 'ds', item: daemonSet },
    { name: `bad ${evil}`, error: `cannot read ${evil}` },
  ],
});

describe('buildReportModel', () => {
  it('classifies statuses as the report counts them', () => {
    expect(
      ['passed', 'failed', 'timeout', 'skipped', 'unknown', 'complete', ''].map(classify),
    ).toEqual(['passed', 'failed', 'failed', 'skipped', 'other', 'other', 'other']);
  });

  it('counts per plugin and per node, merging a node listed twice', () => {
    expect(model.status).toBe('failed');
    expect(model.counts).toEqual({ total: 9, passed: 2, failed: 5, skipped: 1, other: 1 });
    const ds = model.plugins[1]!;
    expect(ds.nodes).toEqual([
      { name: 'n1', counts: { total: 2, passed: 1, failed: 1, skipped: 0, other: 0 } },
      { name: 'n2', counts: { total: 1, passed: 0, failed: 1, skipped: 0, other: 0 } },
    ]);
    expect(model.plugins[0]!.nodes.map((n) => n.name)).toEqual(['global']);
    expect(model.plugins[2]).toMatchObject({ status: 'error', error: `cannot read ${evil}` });
  });

  it('gives each test its node and its path below the node', () => {
    const rows = pluginRows('e2e', job);
    expect(rows[1]).toMatchObject({ node: 'global', path: ['junit.xml', 'suite'], name: evil });
    expect(rows[5]).toMatchObject({ path: [], name: 'err', file: 'errors/global/error.json' });
    expect(pluginRows('ds', daemonSet)[2]).toMatchObject({ node: 'n1', path: [], name: 'c' });
    // A plugin with no results at all is one unknown leaf, as Sonobuoy counts it.
    expect(pluginRows('p', { name: 'p', status: 'unknown' })).toMatchObject([
      { name: 'p', statusClass: 'other' },
    ]);
  });
});

describe('renderReportHtml', () => {
  const html = renderReportHtml(model, { generator: 'fathom test', maxDetailChars: 20 });

  it('escapes every value from the results', () => {
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(evil));
    // The page's own script is the only script element.
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('allows only its own style and script, by hash, and fetches nothing', () => {
    const hash = (s: string): string => createHash('sha256').update(s).digest('base64');
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(CONTENT_SECURITY_POLICY).toContain(`'sha256-${hash(style)}'`);
    expect(CONTENT_SECURITY_POLICY).toContain(`'sha256-${hash(script)}'`);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(html).toContain(`content="${CONTENT_SECURITY_POLICY}"`);
    // No attribute points anywhere but inside the page.
    const refs = [...html.matchAll(/\s(?:src|href|action|data)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.every((r) => r!.startsWith('#f-'))).toBe(true);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('lists failures first with their details, cut to the limit', () => {
    const failures = html.slice(
      html.indexOf('<section id="failures">'),
      html.indexOf('<section id="tests">'),
    );
    expect(failures).toContain('Failures (5)');
    expect(failures.match(/<details class="test"/g)).toHaveLength(5);
    expect(failures).toContain(
      `<h4>failure</h4><pre>${escapeHtml(`msg ${evil}`.slice(0, 20))}</pre>`,
    );
    expect(failures).toContain('<h4>extra</h4>');
    expect(failures).toContain('30 more characters not shown');
    expect(failures).toContain('File: plugins/e2e/errors/global/error.json');
    const firstRow = /<tbody>\s*<tr data-status="(\w+)"/.exec(
      html.slice(html.indexOf('<section id="tests">')),
    );
    expect(firstRow![1]).toBe('failed');
  });

  it('shows the summary, the run and the plugin that could not be read', () => {
    expect(html).toContain('<div class="label">Tests</div><div class="value">9</div>');
    expect(html).toContain('run u-1');
    expect(html).toContain(`cannot read ${escapeHtml(evil)}`);
  });

  it('caps the tests table', () => {
    const capped = renderReportHtml(model, { maxTests: 3, maxFailures: 2 });
    expect(capped.match(/<tr data-status=/g)).toHaveLength(3);
    expect(capped).toContain('6 more tests not shown');
    expect(capped).toContain('3 more failures not shown');
  });

  it('shows cluster health when the run has it', () => {
    const withHealth = renderReportHtml(
      buildReportModel({
        source: 's',
        plugins: [],
        health: toClusterHealth({
          api_version: 'v1.30.0',
          node_health: {
            total_nodes: 2,
            healthy_nodes: 1,
            details: [{ name: evil, healthy: false }],
          },
          error_summary: { Errors: { 'podlogs/a.txt': 4 } },
        }),
      }),
    );
    expect(withHealth).toContain('<section id="run-details">');
    expect(withHealth).toContain('(50%)');
    expect(withHealth).toContain(escapeHtml(evil));
    expect(withHealth).toContain('podlogs/a.txt');
  });
});

describe('the Cluster section', () => {
  const summary = clusterSummaryOf({
    serverVersion: JSON.stringify({ gitVersion: evil }),
    nodes: JSON.stringify({
      items: [
        { metadata: { name: 'ok' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        {
          metadata: { name: evil },
          spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] },
          status: {
            conditions: [{ type: 'Ready', status: 'False', reason: 'Down', message: evil }],
          },
        },
      ],
    }),
  })!;
  it('lists not-ready nodes first, escaped, and only when the run has a snapshot', () => {
    const html = renderReportHtml(buildReportModel({ source: 's', plugins: [], cluster: summary }));
    const start = html.indexOf('<section id="cluster">');
    const section = html.slice(start, html.indexOf('</section>', start));
    expect(section).toContain(
      `<tr class="not-ready" data-ready="False"><td>${escapeHtml(evil)}</td>`,
    );
    expect(section.indexOf('not-ready')).toBeLessThan(section.indexOf('<tr class="ready"'));
    expect(section).toContain('k:NoSchedule');
    expect(section).not.toContain('<script');
    expect(renderReportHtml(buildReportModel({ source: 's', plugins: [] }))).not.toContain(
      'id="cluster"',
    );
  });
  it('caps the node rows', () => {
    expect(clusterSection(summary, 1)).toContain('1 more nodes not shown');
  });
});

describe('renderChart', () => {
  it('draws a row per plugin and per node, labels escaped', () => {
    const svg = renderChart(model.plugins);
    expect(svg.match(/<g>/g)).toHaveLength(5);
    expect(svg).not.toContain('<script');
    expect(svg).toContain('class="empty"');
  });
});
