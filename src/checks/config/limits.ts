import { MiB } from '../../core/bounded.js';

/**
 * Bounds on check configs, checked before anything is built: a config directory is written by
 * people (a few files of a few KiB), and a ConfigMap holds at most 1 MiB, so these leave room
 * while keeping a hostile or runaway file from costing the dispatcher memory or time.
 */
export const checkLimits = {
  /** `*.yaml`/`*.yml` files read from one directory. */
  directoryFiles: 1000,
  /** Bytes of one file, ConfigMap key or Service annotation. */
  fileBytes: 1 * MiB,
  /** YAML documents in one file. */
  documentsPerFile: 1000,
  /** Keys, values, list items and aliases in one file (yaml's duplicate-key check is quadratic). */
  yamlNodesPerFile: 100_000,
  /** Aliases one document may resolve. */
  aliases: 100,
  /** One check config as JSON, aliases expanded. */
  configBytes: 1 * MiB,
  /** Nesting of mappings and lists in one document. */
  nestingDepth: 32,
  /** Instances of one check. */
  instances: 1000,
  /** Endpoint addresses one Service annotation expands to. */
  endpointAddresses: 1000,
} as const;

export const checkDurations = {
  defaultIntervalMs: 15_000,
  minIntervalMs: 1000,
  maxIntervalMs: 24 * 3_600_000,
  /** The timeout defaults to the smaller of this and the interval. */
  defaultTimeoutMs: 10_000,
} as const;
