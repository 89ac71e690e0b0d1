/**
 * The node-agent API's JSON, in the original's wire names (reference section b), so an agent that
 * speaks the original protocol can register, heartbeat and fetch. fathom's extensions ride in
 * fields the original never sends (`labels`, `stats`, `workers`) and in response headers
 * (`fathom-term`, `fathom-node-expiration-ms`), so the original's bodies stay exactly as they were.
 */
import { Type, type Static } from '../core/schema.js';
import type { CheckConfig, RunnerStatsMap } from './types.js';

/** `last_change` of a status POST that only says "I am alive". */
export const HEARTBEAT_ONLY = -1;
export const NODE_TYPE_CLC_RUNNER = 1;
export const NODE_TYPE_NODE_AGENT = 2;

/** Response headers carrying fathom's fencing facts. */
export const TERM_HEADER = 'fathom-term';
export const EXPIRATION_HEADER = 'fathom-node-expiration-ms';
/** The token's header when Authorization cannot get through (the API server's proxies strip it). */
export const TOKEN_HEADER = 'x-fathom-token';

const stringList = Type.Array(Type.String({ maxLength: 253 }), { maxItems: 1000 });

const statsSchema = Type.Object({
  AverageExecutionTime: Type.Number({ minimum: 0 }),
  MetricSamples: Type.Number({ minimum: 0 }),
  HistogramBuckets: Type.Number({ minimum: 0 }),
  Events: Type.Number({ minimum: 0 }),
  IsClusterCheck: Type.Boolean(),
  LastExecFailed: Type.Boolean(),
  TotalRuns: Type.Optional(Type.Number({ minimum: 0 })),
  TotalErrors: Type.Optional(Type.Number({ minimum: 0 })),
});

const runSchema = Type.Object({
  status: Type.Enum(['ok', 'warning', 'critical', 'unknown'] as const),
  message: Type.String({ maxLength: 1024 }),
  startedAt: Type.Number({ minimum: 0 }),
  durationMs: Type.Number({ minimum: 0 }),
});

/** The last run of a check instance as an agent reports it (fathom's extension). */
export type LastRun = Static<typeof runSchema>;

/** A status POST body. Unknown fields are ignored, as Go's decoder does. */
export const nodeStatusSchema = Type.Object({
  last_change: Type.Number(),
  node_type: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  check_compatibility: Type.Optional(
    Type.Object({ include: Type.Optional(stringList), exclude: Type.Optional(stringList) }),
  ),
  labels: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 63 }))),
  stats: Type.Optional(Type.Record(Type.String(), statsSchema)),
  workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  runs: Type.Optional(Type.Record(Type.String(), runSchema)),
});

export type NodeStatus = Static<typeof nodeStatusSchema>;

export interface StatusResponse {
  readonly isuptodate: boolean;
}

export interface ConfigResponse {
  readonly last_change: number;
  readonly configs: readonly CheckConfig[];
}

export interface StateNodeConfig {
  readonly instance_ids: readonly string[];
  readonly config: CheckConfig;
}

export interface StateResponse {
  readonly not_running: string;
  readonly warmup: boolean;
  readonly nodes: readonly {
    readonly name: string;
    readonly configs: readonly StateNodeConfig[];
    readonly stats?: RunnerStatsMap;
    /** fathom: each instance's last run on that node. */
    readonly runs?: Readonly<Record<string, LastRun>>;
  }[];
  readonly dangling: readonly CheckConfig[];
  /** fathom: the leader's identity and term. */
  readonly leader?: string;
  readonly term?: number;
}

export interface RebalanceResponse {
  readonly digest: string;
  readonly check_name: string;
  readonly check_weight: number;
  readonly source_node_name: string;
  readonly source_diff: number;
  readonly dest_node_name: string;
  readonly dest_diff: number;
}

export interface IsolateResponse {
  readonly check_id: string;
  readonly check_node: string;
  readonly is_isolated: boolean;
  readonly reason: string;
}

/**
 * JSON with `last_change` written as the exact integer it holds: nanosecond stamps are above
 * 2^53, where JavaScript's shortest form would print digits the value does not have.
 */
export function configResponseJson(r: ConfigResponse): string {
  const exact = Number.isInteger(r.last_change) ? BigInt(r.last_change).toString() : '0';
  return `{"last_change":${exact},"configs":${JSON.stringify(r.configs)}}`;
}
