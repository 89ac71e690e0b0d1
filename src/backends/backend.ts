import type { RunStatus } from '../aggregation/types.js';
import type { PluginDefinition } from '../plugin/types.js';
import type { SnapshotConfig } from '../snapshot/config.js';

export type BackendName = 'local' | 'kubernetes';

/** What the user asked for, validated. */
export interface RunSpec {
  readonly namespace: string;
  readonly plugins: readonly PluginDefinition[];
  /** Per-plugin result timeout; 0 = none. */
  readonly timeoutMs: number;
  /** Largest upload accepted for one result. */
  readonly maxResultBytes: number;
  /** `--pool`: run only on nodes of this pool, admitted with sessions (README: runs on a pool). */
  readonly pool?: PoolRequest;
  /** `--kubernetes-version`: the plugins' SONOBUOY_K8S_VERSION (else the cluster's), as in Sonobuoy. */
  readonly kubernetesVersion?: string;
  /** `--resources` and the like: what the cluster snapshot collects (Sonobuoy's defaults when absent). */
  readonly snapshot?: SnapshotConfig;
}

/** What `--pool` asks for, validated. */
export interface PoolRequest {
  readonly name: string;
  /** Nodes wanted; every node of the pool when undefined. */
  readonly nodes?: number;
  readonly priority: number;
  /** The node label whose value names a pool. */
  readonly labelKey: string;
}

export interface StartOptions {
  /** Lines to show while the run waits (for the nodes of its pool). */
  readonly progress?: (line: string) => void;
  /** Gives up waiting. */
  readonly signal?: AbortSignal;
}

export interface RunInfo {
  readonly namespace: string;
  readonly uuid: string;
  readonly backend: BackendName;
  readonly createdAt: string;
}

export interface LogLine {
  /** `aggregator`, or `<plugin>/<node>/<container>`. */
  readonly source: string;
  readonly line: string;
}

export interface RetrieveOptions {
  /** For a run that is not complete: a tarball of every result accepted so far. */
  readonly partial?: boolean;
}

/** What `fathom resume` found: the run finished, its aggregator runs, or it was restarted now. */
export type ResumeOutcome = 'complete' | 'running' | 'restarted';

export interface LogOptions {
  readonly plugin?: string;
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Where runs happen. The CLI drives every backend through this contract and cannot tell them apart.
 */
export interface Backend {
  readonly name: BackendName;
  /** Creates the run and returns once it is started; results keep coming in the background. */
  start(spec: RunSpec, options?: StartOptions): Promise<RunInfo>;
  /** The run's status document; FATHOM_RUN_NOT_FOUND when there is no run. */
  status(namespace: string): Promise<RunStatus>;
  /** Status snapshots as they change, until the run completes or `signal` aborts. */
  watch(namespace: string, signal?: AbortSignal): AsyncIterable<RunStatus>;
  /** Copies the results tarball into `destDir` (`partial`: what was accepted so far); returns its path. */
  retrieve(namespace: string, destDir: string, options?: RetrieveOptions): Promise<string>;
  /** Brings back a run whose aggregator died: it resumes from its journal. */
  resume(namespace: string): Promise<ResumeOutcome>;
  /** Stops everything the run started and removes its state. */
  delete(namespace: string, options?: { wait?: boolean }): Promise<void>;
  /** The namespaces that hold a run. */
  list(): Promise<string[]>;
  logs(namespace: string, options?: LogOptions): AsyncIterable<LogLine>;
  /** The cluster's Kubernetes version as a conformance image tag (`v1.36.3`), for `-p e2e`. */
  kubernetesVersion(): Promise<string>;
}
