import type { KeyPair } from '../core/pki.js';
import type { ClusterNode } from '../core/nodes.js';
import type { ExpectedResult, PluginDefinition } from '../plugin/types.js';

/** What a plugin's pods need to phone home. */
export interface LaunchContext {
  /** The run's id (Sonobuoy's session id): names pods and labels. */
  readonly runId: string;
  readonly aggregatorUrl: string;
  readonly caPem: string;
  /** This plugin's client certificate: its DNS SAN is the plugin name. */
  readonly clientCert: KeyPair;
  /** The nodes a DaemonSet plugin runs on (already filtered by its node selector). */
  readonly nodes: readonly ClusterNode[];
}

/** A problem the runtime saw with a plugin's pods; it becomes an error result for that node. */
export interface MonitorError {
  /** The node, or `global` for a Job plugin. */
  readonly node: string;
  readonly error: string;
  /** Extra facts stored beside the error (Sonobuoy stores the pod). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * What a backend does for the aggregator: Sonobuoy's plugin.Interface, minus the Kubernetes
 * client. The local backend runs processes; the Kubernetes backend creates Pods and DaemonSets.
 */
export interface PluginRuntime {
  listNodes(): Promise<ClusterNode[]>;
  /** Starts the plugin's pods and returns without waiting for them. */
  launch(plugin: PluginDefinition, context: LaunchContext): Promise<void>;
  /**
   * Takes over the pods an aggregator launched before it was restarted, so that `monitor` and
   * `cleanup` see them; starts nothing.
   */
  adopt(plugin: PluginDefinition, context: LaunchContext): Promise<void>;
  /**
   * Yields problems with the plugin's pods as they appear, until `signal` aborts. An error for a
   * result that already arrived is ignored by the aggregator, so runtimes need not track results.
   */
  monitor(
    plugin: PluginDefinition,
    expected: readonly ExpectedResult[],
    signal: AbortSignal,
  ): AsyncIterable<MonitorError>;
  /**
   * Replaces the run CA and the plugin's client pair where its workers read them (certificate
   * renewal); workers re-read them on each upload attempt.
   */
  renewCredentials?(
    plugin: PluginDefinition,
    material: { readonly caPem: string; readonly clientCert: KeyPair },
  ): Promise<void>;
  /** Stops and removes the plugin's pods. */
  cleanup(plugin: PluginDefinition): Promise<void>;
}
