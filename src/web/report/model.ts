/**
 * The report model: a run's plugin trees flattened into per-plugin and per-node counts and one
 * row per test (leaf). Shared by the HTML page and the merged JUnit writer; pure data in, data out.
 */
import {
  type Item,
  STATUS_FAILED,
  STATUS_PASSED,
  STATUS_SKIPPED,
  STATUS_TIMEOUT,
} from '../../results/index.js';
import type { ClusterSummaryView } from '../../results/cluster.js';
import type { ClusterHealth } from '../../results/health.js';
import type { RunMeta } from '../../results/reader.js';

/** The node name of results that belong to the whole cluster (Job plugins). */
export const GLOBAL = 'global';

/** How the report groups a leaf status: timeout counts as failed, custom and unknown as other. */
export type StatusClass = 'passed' | 'failed' | 'skipped' | 'other';

export function classify(status: string): StatusClass {
  if (status === STATUS_PASSED) return 'passed';
  if (status === STATUS_FAILED || status === STATUS_TIMEOUT) return 'failed';
  if (status === STATUS_SKIPPED) return 'skipped';
  return 'other';
}

export interface Counts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  other: number;
}

/** One test (a leaf of a plugin's tree). */
export interface TestRow {
  plugin: string;
  node: string;
  /** Names between the node level (or the plugin root) and the leaf: file, suite... */
  path: string[];
  name: string;
  status: string;
  statusClass: StatusClass;
  details?: Record<string, unknown>;
  /** `meta.file` of the leaf (raw results, errors), relative to the plugin's directory. */
  file?: string;
}

export interface NodeSummary {
  name: string;
  counts: Counts;
}

export interface PluginSummary {
  name: string;
  /** The plugin tree's root status (may be a count string for custom statuses). */
  status: string;
  counts: Counts;
  nodes: NodeSummary[];
  /** Why the plugin's results could not be read; then it has no counts and no tests. */
  error?: string;
}

/** What the run's `meta/config.json` says about it (read by the results reader). */
export type { RunMeta };

/** One plugin as the reader produced it: a tree or an error message. */
export interface PluginInput {
  name: string;
  item?: Item;
  error?: string;
}

export interface ReportInput {
  /** What was read (a tarball or directory name), shown in the title. */
  source: string;
  run?: RunMeta;
  plugins: readonly PluginInput[];
  /** `meta/clusterhealth.json`, when the run has one. */
  health?: ClusterHealth;
  /** The cluster snapshot's summary, when the run has one. */
  cluster?: ClusterSummaryView;
}

export interface ReportModel {
  source: string;
  run: RunMeta;
  /** `failed` when any test failed or a plugin could not be read, else `passed`. */
  status: 'passed' | 'failed';
  counts: Counts;
  plugins: PluginSummary[];
  tests: TestRow[];
  health?: ClusterHealth;
  cluster?: ClusterSummaryView;
}

export function emptyCounts(): Counts {
  return { total: 0, passed: 0, failed: 0, skipped: 0, other: 0 };
}

function add(counts: Counts, cls: StatusClass): void {
  counts.total++;
  counts[cls]++;
}

/** Every leaf of `root`, tagged with the node item it sits under (`global` when none). */
export function pluginRows(plugin: string, root: Item): TestRow[] {
  const rows: TestRow[] = [];
  // Only the first `type: node` level names a node; deeper ones are ordinary path steps.
  const walk = (item: Item, node: string | undefined, path: string[], isRoot: boolean): void => {
    if (item.items?.length) {
      const isNode = !isRoot && node === undefined && item.meta?.type === 'node';
      const nextNode = isNode ? item.name : node;
      const nextPath = isRoot || isNode ? path : [...path, item.name];
      for (const child of item.items) walk(child, nextNode, nextPath, false);
      return;
    }
    const row: TestRow = {
      plugin,
      node: node ?? GLOBAL,
      path,
      name: item.name,
      status: item.status,
      statusClass: classify(item.status),
    };
    if (item.details && Object.keys(item.details).length) row.details = item.details;
    if (item.meta?.file) row.file = item.meta.file.replaceAll('\\', '/');
    rows.push(row);
  };
  walk(root, undefined, [], true);
  return rows;
}

/** Counts for the plugin and for each node, nodes in first-seen order (a node listed twice merges). */
function summarize(name: string, status: string, rows: readonly TestRow[]): PluginSummary {
  const counts = emptyCounts();
  const nodes = new Map<string, Counts>();
  for (const r of rows) {
    add(counts, r.statusClass);
    let c = nodes.get(r.node);
    if (!c) nodes.set(r.node, (c = emptyCounts()));
    add(c, r.statusClass);
  }
  return { name, status, counts, nodes: [...nodes].map(([n, c]) => ({ name: n, counts: c })) };
}

/** Builds the model; `tests` holds every leaf in plugin order, then tree order. */
export function buildReportModel(input: ReportInput): ReportModel {
  const plugins: PluginSummary[] = [];
  const tests: TestRow[] = [];
  const counts = emptyCounts();
  let anyError = false;
  for (const p of input.plugins) {
    if (!p.item) {
      anyError = true;
      plugins.push({
        name: p.name,
        status: 'error',
        counts: emptyCounts(),
        nodes: [],
        error: p.error ?? 'no results',
      });
      continue;
    }
    const rows = pluginRows(p.name, p.item);
    const summary = summarize(p.name, p.item.status, rows);
    plugins.push(summary);
    for (const k of ['total', 'passed', 'failed', 'skipped', 'other'] as const) {
      counts[k] += summary.counts[k];
    }
    for (const r of rows) tests.push(r);
  }
  return {
    source: input.source,
    run: input.run ?? {},
    status: anyError || counts.failed > 0 ? 'failed' : 'passed',
    counts,
    plugins,
    tests,
    ...(input.health ? { health: input.health } : {}),
    ...(input.cluster ? { cluster: input.cluster } : {}),
  };
}
