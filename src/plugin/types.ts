/** What fathom reads from a Sonobuoy plugin definition, after validation. Frozen once loaded. */

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

export interface PluginDefinition {
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
  /** podSpec.nodeSelector (DaemonSets only run on matching nodes). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /**
   * podSpec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
   * (ORed). Absent or empty when the plugin sets none.
   */
  readonly requiredNodeAffinity?: readonly NodeSelectorTerm[];
  /** podSpec.tolerations, or the driver's default when the plugin brings no podSpec. */
  readonly tolerations: readonly Toleration[];
  /** `config-map`: file name → contents, mounted at SONOBUOY_CONFIG_DIR. */
  readonly configMap: Readonly<Record<string, string>>;
  /** The definition as written (for definition.json and for the Kubernetes backend). */
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly source: PluginSource;
}

export type NodeSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

/** One `matchExpressions` (label) or `matchFields` (`metadata.name`) entry of a node selector term. */
export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: NodeSelectorOperator;
  readonly values: readonly string[];
}

/** A term of `requiredDuringSchedulingIgnoredDuringExecution`: its requirements are ANDed. */
export interface NodeSelectorTerm {
  readonly matchExpressions: readonly NodeSelectorRequirement[];
  readonly matchFields: readonly NodeSelectorRequirement[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** A node taint as Kubernetes writes it (`key=value:Effect`). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

/** A pod toleration: an empty key with Exists tolerates every taint, an empty effect every effect. */
export interface Toleration {
  readonly key?: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
}

/** A simulated or real node as the run sees it. */
export interface ClusterNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Absent in run records written before nodes had taints. */
  readonly taints?: readonly Taint[];
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
