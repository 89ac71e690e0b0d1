/** What fathom reads from a Sonobuoy plugin definition, after validation. Frozen once loaded. */
import type { NodePlacement, Toleration } from '../core/nodes.js';

/** The node name used for a result that belongs to the whole cluster (a Job plugin). */
export const GLOBAL_NODE = 'global';

export type Driver = 'Job' | 'DaemonSet';

/** `e2e` is processed like `junit`; an empty or unknown format is `raw`. */
export type ResultFormat = 'junit' | 'e2e' | 'gojson' | 'raw' | 'manual';

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

/** The subset of a core/v1 Container that fathom acts on; the rest is kept in `PluginDefinition.manifest`. */
export interface PluginContainer {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly EnvVar[];
  readonly workingDir?: string;
}

export interface PluginSource {
  /** The file the definition came from ('-' for stdin, '<generated>' for built-ins). */
  readonly file: string;
  /** 0-based index of the YAML document within the file. */
  readonly document: number;
}

export interface PluginDefinition extends NodePlacement {
  readonly name: string;
  readonly driver: Driver;
  readonly resultFormat: ResultFormat;
  readonly resultFiles: readonly string[];
  readonly skipCleanup: boolean;
  /**
   * fathom's `sonobuoy-config.exit-code-verdict` (raw plugins only): the worker waits for the
   * plugin to exit, records its exit code as the result's verdict and sends the results dir.
   */
  readonly exitCodeVerdict: boolean;
  readonly description: string;
  readonly sourceUrl: string;
  readonly order: number;
  readonly container: PluginContainer;
  // nodeSelector and requiredNodeAffinity (NodePlacement): DaemonSets only run on matching nodes.
  /** podSpec.tolerations, or the driver's default when the plugin brings no podSpec. */
  readonly tolerations: readonly Toleration[];
  /** `config-map`: file name → contents, mounted at SONOBUOY_CONFIG_DIR. */
  readonly configMap: Readonly<Record<string, string>>;
  /** The definition as written (for definition.json and for the Kubernetes backend). */
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly source: PluginSource;
}

/** A result the aggregator waits for: one per Job plugin (`global`), one per matching node for a DaemonSet. */
export interface ExpectedResult {
  readonly plugin: string;
  readonly node: string;
}

/** The key Sonobuoy uses to match a result against what is expected: `<plugin>/<node|global>`. */
export function resultKey(plugin: string, node: string): string {
  return `${plugin}/${node}`;
}
