/**
 * `meta/clusterhealth.json`, the cluster health summary newer Sonobuoy aggregators write (node and
 * pod readiness, log error counts). fathom reads it to show "Run Details"; it does not write one.
 */

export interface HealthDetail {
  name: string;
  healthy: boolean;
  ready: string;
  reason?: string;
  message?: string;
  namespace?: string;
}

export interface HealthCounts {
  total_nodes: number;
  healthy_nodes: number;
  details?: HealthDetail[];
}

/** Field names and order as Sonobuoy's JSON/YAML tags give them. */
export interface ClusterHealth {
  node_health: HealthCounts;
  pod_health: HealthCounts;
  api_version: string;
  /** error type (`Errors`, `Warnings`...) → file → count. */
  error_summary: Record<string, Record<string, number>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function detail(v: unknown): HealthDetail {
  const o = isObject(v) ? v : {};
  const d: HealthDetail = { name: str(o.name), healthy: o.healthy === true, ready: str(o.ready) };
  for (const k of ['reason', 'message', 'namespace'] as const) if (str(o[k])) d[k] = str(o[k]);
  return d;
}

function counts(v: unknown): HealthCounts {
  const o = isObject(v) ? v : {};
  const c: HealthCounts = { total_nodes: int(o.total_nodes), healthy_nodes: int(o.healthy_nodes) };
  if (Array.isArray(o.details) && o.details.length) c.details = o.details.map(detail);
  return c;
}

/**
 * The summary from parsed JSON, every field defaulted as Go's decoder leaves it (zero values).
 * Throws when the document is not an object.
 */
export function toClusterHealth(value: unknown): ClusterHealth {
  if (!isObject(value)) throw new Error('not a JSON object');
  const summary = new Map<string, Map<string, number>>();
  if (isObject(value.error_summary)) {
    for (const [type, files] of Object.entries(value.error_summary)) {
      if (!isObject(files)) continue;
      summary.set(type, new Map(Object.entries(files).map(([f, n]) => [f, int(n)])));
    }
  }
  // Null-prototype maps: file and type names come from the cluster and may be "__proto__".
  const errorSummary = Object.create(null) as Record<string, Record<string, number>>;
  for (const [type, files] of summary) {
    const out = Object.create(null) as Record<string, number>;
    for (const [f, n] of files) out[f] = n;
    errorSummary[type] = out;
  }
  return {
    node_health: counts(value.node_health),
    pod_health: counts(value.pod_health),
    api_version: str(value.api_version),
    error_summary: errorSummary,
  };
}

/** `100*healthy/total` rounded down as Go's integer division does; undefined when total is 0. */
export function healthPercent(c: HealthCounts): number | undefined {
  return c.total_nodes === 0 ? undefined : Math.trunc((100 * c.healthy_nodes) / c.total_nodes);
}

/** Unhealthy entries sorted by namespace, then name. */
export function unhealthy(details: readonly HealthDetail[] | undefined): HealthDetail[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return (details ?? [])
    .filter((d) => !d.healthy)
    .sort((a, b) => cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name));
}

/**
 * Error types sorted by name, each with its files by count (highest first), then by name.
 * Sonobuoy walks a Go map here, so its order varies from run to run; fathom's does not.
 */
export function errorFiles(
  summary: ClusterHealth['error_summary'],
): { type: string; files: { file: string; count: number }[] }[] {
  return Object.keys(summary)
    .sort()
    .map((type) => ({
      type,
      files: Object.entries(summary[type]!)
        .map(([file, count]) => ({ file, count }))
        .sort((a, b) => b.count - a.count || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
    }))
    .filter((t) => t.files.length > 0);
}
