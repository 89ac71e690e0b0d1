/**
 * `meta/clusterhealth.json` as Sonobuoy's aggregator writes it after its queries (reference
 * section e): node readiness from `resources/cluster/core_v1_nodes.json`, pod health from every
 * `core_v1_pods.json`, the server's gitVersion, and per pod-log file the lines that look like
 * errors or warnings. Pure: the caller walks the results root (health-file.ts) and hands the
 * files over in the order Go's filepath.Walk visits them.
 */
import { CORE_PODS_FILE_NAME } from './layout.js';

export interface HealthDetail {
  readonly name: string;
  readonly healthy: boolean;
  readonly ready: string;
  readonly reason?: string;
  readonly message?: string;
  readonly namespace?: string;
}

/** Sonobuoy names both counters `*_nodes`, for pods too. */
export interface HealthCounts {
  readonly total_nodes: number;
  readonly healthy_nodes: number;
  readonly details: readonly HealthDetail[];
}

export interface ClusterSummary {
  readonly node_health: HealthCounts;
  readonly pod_health: HealthCounts;
  readonly api_version: string;
  /** `Errors` / `Warnings` → pod-log file → lines that matched. */
  readonly error_summary: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** A file of the results root: its path relative to the root, `/`-separated, and its text. */
export interface RootFile {
  readonly path: string;
  readonly text: string;
}

export interface HealthInputs {
  /** `resources/cluster/core_v1_nodes.json`, when there is one. */
  readonly nodes?: string;
  /** `serverversion.json`, when there is one. */
  readonly serverVersion?: string;
  /** Every file named `core_v1_pods.json` that the walk reads (`podListFiles`), in walk order. */
  readonly podLists: readonly RootFile[];
  /** Line-match counts of every pod-log file (`isPodLog`), by path. */
  readonly logHits: ReadonlyMap<string, LogHits>;
}

/** Sonobuoy's pod-log file pattern (the glob podlogs, any, any, logs, any `.txt`; no end anchor). */
const POD_LOG = /^podlogs\/[^/]+\/[^/]+\/logs\/.+\.txt/;

/** Sonobuoy's default patterns: a line counts once per class however many of them it matches. */
const PATTERNS: readonly (readonly [string, readonly RegExp[]])[] = [
  ['Errors', [/[fF]ailed/, /[eE]rror/, /^E[0-9]+/, /level=error/]],
  ['Warnings', [/[wW]arn/, /^W[0-9]+/, /level=warn/]],
];

/** bufio.Scanner's default: a longer line ends the scan of its file (what was counted stays). */
export const MAX_LINE_BYTES = 64 * 1024 - 1;

export function isPodLog(path: string): boolean {
  return POD_LOG.test(path);
}

/**
 * The files named core_v1_pods.json that Sonobuoy's walk reads: after reading one, it skips
 * the rest of that file's directory (`filepath.SkipDir`). `paths` are in walk order.
 */
export function podListFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  let skip: string | undefined;
  for (const p of paths) {
    if (skip !== undefined && p.startsWith(skip)) continue;
    skip = undefined;
    const slash = p.lastIndexOf('/');
    if (p.slice(slash + 1) !== CORE_PODS_FILE_NAME) continue;
    out.push(p);
    skip = p.slice(0, slash + 1);
  }
  return out;
}

/** Matching lines per pattern class of one log file. */
export type LogHits = Map<string, number>;

/**
 * Counts a log's lines as bufio.Scanner splits them (`\n`, a trailing `\r` dropped), in pieces:
 * `push` the bytes as they come, then `end`. Bytes are matched one to a character (latin1): the
 * patterns are ASCII, so a match is a match of the bytes.
 */
export class LogScanner {
  readonly hits: LogHits = new Map();
  #partial = '';
  #stopped = false;

  push(chunk: Buffer): void {
    if (this.#stopped) return;
    const text = this.#partial + chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      if (!this.#line(text.slice(start, nl))) return;
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    if (this.#partial.length > MAX_LINE_BYTES) this.#stop();
  }

  end(): LogHits {
    if (!this.#stopped && this.#partial.length > 0) this.#line(this.#partial);
    this.#stop();
    return this.hits;
  }

  #stop(): void {
    this.#stopped = true;
    this.#partial = '';
  }

  #line(raw: string): boolean {
    if (raw.length > MAX_LINE_BYTES) {
      this.#stop();
      return false;
    }
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    for (const [name, patterns] of PATTERNS) {
      if (patterns.some((p) => p.test(line))) this.hits.set(name, (this.hits.get(name) ?? 0) + 1);
    }
    return true;
  }
}

type Obj = Record<string, unknown>;

/** Thrown for a document that Go's decoder would refuse for the fields read here. */
class DecodeError extends Error {}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A field as Go's decoder finds it: the key matched case-insensitively, the last one winning. */
function field(o: Obj, name: string): unknown {
  let value: unknown;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === want) value = v;
  return value;
}

/** A struct field: null or absent leave it zero; any other non-object is a type error. */
function struct(o: Obj, name: string): Obj {
  const v = field(o, name);
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new DecodeError(`${name}: not an object`);
  return v;
}

function list(o: Obj, name: string): Obj[] {
  const v = field(o, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DecodeError(`${name}: not an array`);
  return v.map((e) => {
    if (e === null) return {};
    if (!isObj(e)) throw new DecodeError(`${name}: holds a non-object`);
    return e;
  });
}

function str(o: Obj, name: string): string {
  const v = field(o, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DecodeError(`${name}: not a string`);
  return v;
}

function decodeDoc(text: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DecodeError((err as Error).message);
  }
  if (!isObj(value)) throw new DecodeError('not a JSON object');
  return value;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

function conditions(item: Obj): Condition[] {
  return list(struct(item, 'status'), 'conditions').map((c) => ({
    type: str(c, 'type'),
    status: str(c, 'status'),
    reason: str(c, 'reason'),
    message: str(c, 'message'),
  }));
}

function detail(d: HealthDetail): HealthDetail {
  return {
    name: d.name,
    healthy: d.healthy,
    ready: d.ready,
    ...(d.reason ? { reason: d.reason } : {}),
    ...(d.message ? { message: d.message } : {}),
    ...(d.namespace ? { namespace: d.namespace } : {}),
  };
}

/** Node readiness: each node's Ready condition (none leaves it unhealthy, ready ""). */
export function nodeHealth(text: string | undefined): HealthCounts {
  if (text === undefined) return { total_nodes: 0, healthy_nodes: 0, details: [] };
  const items = list(decodeDoc(text), 'items');
  let healthy = 0;
  const details = items.map((node) => {
    let d: HealthDetail = {
      name: str(struct(node, 'metadata'), 'name'),
      healthy: false,
      ready: '',
    };
    for (const c of conditions(node)) {
      if (c.type !== 'Ready') continue;
      d = { name: d.name, healthy: c.status === 'True', ready: c.status };
      d = detail({ ...d, reason: c.reason, message: c.message });
      if (d.healthy) healthy++;
    }
    return detail(d);
  });
  return { total_nodes: items.length, healthy_nodes: healthy, details };
}

/**
 * Pod health: Running and Succeeded pods are healthy (ready `Ready`); any other pod takes the
 * first condition that is not True. A file Go cannot decode is skipped, as Sonobuoy logs and
 * skips it.
 */
export function podHealth(files: readonly RootFile[]): HealthCounts {
  let total = 0;
  let healthy = 0;
  const details: HealthDetail[] = [];
  for (const file of files) {
    let pods: HealthDetail[];
    try {
      pods = list(decodeDoc(file.text), 'items').map((pod) => {
        const meta = struct(pod, 'metadata');
        const phase = str(struct(pod, 'status'), 'phase');
        const base = { name: str(meta, 'name'), namespace: str(meta, 'namespace') };
        const conds = conditions(pod);
        if (phase === 'Running' || phase === 'Succeeded') {
          return detail({ ...base, healthy: true, ready: 'Ready' });
        }
        const c = conds.find((x) => x.status !== 'True');
        return detail({ ...base, healthy: false, ready: c?.status ?? '', ...c });
      });
    } catch (err) {
      if (err instanceof DecodeError) continue;
      throw err;
    }
    total += pods.length;
    healthy += pods.filter((p) => p.healthy).length;
    details.push(...pods);
  }
  return { total_nodes: total, healthy_nodes: healthy, details };
}

/** `gitVersion` of serverversion.json; "" when absent or unreadable, as Sonobuoy goes on. */
export function apiVersion(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    return str(decodeDoc(text), 'gitVersion');
  } catch (err) {
    if (err instanceof DecodeError) return '';
    throw err;
  }
}

/**
 * The summary, or an Error when the nodes file cannot be read as a NodeList: then Sonobuoy
 * writes no clusterhealth.json at all.
 */
export function clusterSummary(inputs: HealthInputs): ClusterSummary | Error {
  let nodes: HealthCounts;
  try {
    nodes = nodeHealth(inputs.nodes);
  } catch (err) {
    if (err instanceof DecodeError) return new Error(`core_v1_nodes.json: ${err.message}`);
    throw err;
  }
  const summary = new Map<string, Map<string, number>>();
  for (const [path, hits] of inputs.logHits) {
    for (const [name, n] of hits) {
      if (n === 0) continue;
      if (!summary.has(name)) summary.set(name, new Map());
      summary.get(name)!.set(path, n);
    }
  }
  return {
    node_health: nodes,
    pod_health: podHealth(inputs.podLists),
    api_version: apiVersion(inputs.serverVersion),
    error_summary: summary,
  };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string as Go's json.Marshal writes it: HTML characters and U+2028/9 escaped. */
export function goJsonString(s: string): string {
  return JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Go sorts map keys by their UTF-8 bytes. */
function goKeys(keys: Iterable<string>): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function countsJson(c: HealthCounts): string {
  let out = `{"total_nodes":${c.total_nodes},"healthy_nodes":${c.healthy_nodes}`;
  if (c.details.length > 0) {
    const rows = c.details.map((d) => {
      let row = `{"name":${goJsonString(d.name)},"healthy":${d.healthy},"ready":${goJsonString(d.ready)}`;
      for (const k of ['reason', 'message', 'namespace'] as const) {
        if (d[k]) row += `,"${k}":${goJsonString(d[k])}`;
      }
      return `${row}}`;
    });
    out += `,"details":[${rows.join(',')}]`;
  }
  return `${out}}`;
}

/** The file's bytes, exactly as Sonobuoy's json.Marshal of its ClusterSummary writes them. */
export function clusterSummaryJson(s: ClusterSummary): string {
  const types = goKeys(s.error_summary.keys()).map((t) => {
    const files = s.error_summary.get(t)!;
    const entries = goKeys(files.keys()).map((f) => `${goJsonString(f)}:${files.get(f)}`);
    return `${goJsonString(t)}:{${entries.join(',')}}`;
  });
  return (
    `{"node_health":${countsJson(s.node_health)},"pod_health":${countsJson(s.pod_health)},` +
    `"api_version":${goJsonString(s.api_version)},"error_summary":{${types.join(',')}}}`
  );
}
