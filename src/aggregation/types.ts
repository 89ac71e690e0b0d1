/** Shapes shared by the aggregator, the worker and everything that reports on a run. */

/**
 * A progress update as Sonobuoy's worker relays it. The appending fields let a plugin
 * report increments instead of totals.
 */
export interface ProgressUpdate {
  name: string;
  node: string;
  timestamp: string;
  msg: string;
  total: number;
  completed: number;
  errors?: string[];
  failures?: string[];
  appendtotals?: boolean;
  appendcompleted?: number;
  appendfailing?: string[];
  /** fathom's: failures dropped, oldest first, to keep the progress bounded (Sonobuoy readers ignore it). */
  droppedfailures?: number;
  /** fathom's: errors dropped, oldest first, for the same reason. */
  droppederrors?: number;
}

/** Per plugin and node: `running` until a result arrives, then `complete`, or `failed` for an error result. */
export type PluginRunStatus = 'running' | 'complete' | 'failed';

/** The overall run status, as Sonobuoy publishes it in the `sonobuoy.hept.io/status` annotation. */
export type RunPhase = 'running' | 'post-processing' | 'complete' | 'failed';

export interface PluginStatusEntry {
  plugin: string;
  node: string;
  status: PluginRunStatus;
  'result-status': string;
  'result-counts': Record<string, number> | null;
  progress?: ProgressUpdate;
}

export interface TarInfo {
  name: string;
  created: string;
  sha256: string;
  size: number;
}

/** Sonobuoy's status document, key for key, so its readers can read fathom's. */
export interface RunStatus {
  plugins: PluginStatusEntry[];
  status: RunPhase;
  'tar-info': TarInfo;
}

/** The exact text Sonobuoy records when a plugin's results do not arrive in time. */
export const TIMEOUT_ERROR_MESSAGE =
  'Plugin timeout while waiting for results so there are no results. Check pod logs or other cluster details for more information as to why this occurred.';
