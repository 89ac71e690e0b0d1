/**
 * Cluster checks: continuous checks that must each run on exactly one node of the cluster,
 * spread over node agents by a leader-elected dispatcher (Datadog's cluster checks). These are
 * the domain's shared shapes; the wire shapes of the node-agent API are in `wire.ts`.
 */

export type CheckType = 'http' | 'tcp' | 'dns' | 'command' | 'kubernetes-status' | 'plugin';

export const checkTypes: readonly CheckType[] = [
  'http',
  'tcp',
  'dns',
  'command',
  'kubernetes-status',
  'plugin',
];

/** One instance of a check: its type's settings (`url`, `host`, `command`, ...). */
export type CheckInstance = Readonly<Record<string, unknown>>;

/**
 * A check config, validated and frozen. It is identified by `digest`, a hash of everything but
 * `source`: changing any field makes a new config (unschedule the old digest, schedule the new).
 */
export interface CheckConfig {
  readonly name: string;
  readonly type: CheckType;
  /** How often each instance runs (the original's `min_collection_interval`, default 15 s). */
  readonly intervalMs: number;
  /** How long one run may take before it is stopped and reported critical. */
  readonly timeoutMs: number;
  readonly instances: readonly CheckInstance[];
  /** Only nodes whose labels match every entry may run it. */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Never dispatched (the original's `exclude_checks`). */
  readonly exclude?: boolean;
  /** Dispatched but never moved by rebalancing (`exclude_checks_from_dispatching`). */
  readonly pinned?: boolean;
  /** An endpoints check: served only to the agent of this node, never dispatched. */
  readonly node?: string;
  /** Where it came from, for messages: `checks/web.yaml:3`, `ConfigMap ns/name`, `Service ns/name`. */
  readonly source: string;
  readonly digest: string;
}

/** How a run ended, as Datadog service checks report it. */
export type CheckStatus = 'ok' | 'warning' | 'critical' | 'unknown';

/** One run of one instance. */
export interface CheckRun {
  /** `<name>:<16 hex digits>`: the instance's check ID. */
  readonly id: string;
  readonly status: CheckStatus;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** One line, bounded; empty when ok. */
  readonly message: string;
  /** Named measurements (`latency_ms`, `cert_days_left`, `exit_code`, ...). */
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * Execution statistics of one check instance on an agent, in the original's wire names
 * (CLCRunnerStats): what busyness and utilization are computed from.
 */
export interface RunnerStats {
  /** Milliseconds, averaged over recent runs. */
  readonly AverageExecutionTime: number;
  /** Metrics of the last run. */
  readonly MetricSamples: number;
  readonly HistogramBuckets: number;
  readonly Events: number;
  readonly IsClusterCheck: boolean;
  readonly LastExecFailed: boolean;
  readonly TotalRuns?: number;
  readonly TotalErrors?: number;
}

/** Stats per check ID, as an agent reports them. */
export type RunnerStatsMap = Readonly<Record<string, RunnerStats>>;
