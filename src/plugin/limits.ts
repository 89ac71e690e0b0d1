import { formatBytes, KiB, MiB, yamlShapeProblem } from '../core/bounded.js';
import { FathomError } from '../core/errors.js';

/**
 * Bounds on what a run accepts as plugin definitions. Real plugins (Sonobuoy's e2e and
 * systemd-logs) are a few KiB; the bounds leave room for config-map files up to Kubernetes'
 * 1 MiB ConfigMap limit while keeping load time, memory and run.json small.
 */
export const pluginLimits = {
  /** Bytes of one plugin file, stdin or built-in. */
  fileBytes: 2 * MiB,
  /** YAML documents (`---`/`...` separated) in one file. */
  documentsPerFile: 100,
  /** Keys, values, list items and aliases in one file; yaml's duplicate-key check is quadratic. */
  yamlNodesPerFile: 10_000,
  /** One definition as JSON, with anchors, aliases and merge keys expanded. */
  definitionBytes: 2 * MiB,
  /** Nesting of mappings and lists in a definition. */
  nestingDepth: 64,
  descriptionBytes: 64 * KiB,
  /** `spec.command` and `spec.args` together. */
  commandBytes: 256 * KiB,
  /** One container's env names and values together. */
  envBytes: 256 * KiB,
  /** All config-map keys and contents of one plugin (Kubernetes' ConfigMap limit). */
  configMapBytes: 1 * MiB,
  /** Nodes and documents of one config-map entry that is parsed as YAML (`*.yaml`, `*.json`). */
  configYamlNodes: 100_000,
  configYamlDocuments: 1000,
  /** `podSpec` as JSON. */
  podSpecBytes: 256 * KiB,
  /** `*.yaml`/`*.yml` files in a directory given to `--plugin`. */
  directoryFiles: 100,
  /** All plugin files of one run together. */
  runFileBytes: 16 * MiB,
  /** All definitions of one run as stored in the local backend's run.json. */
  runDefinitionBytes: 16 * MiB,
} as const;

export function tooLarge(message: string, details: Record<string, unknown>): FathomError {
  return new FathomError('FATHOM_PLUGIN_TOO_LARGE', message, { details });
}

/** Why a config-map entry is too big to parse as YAML (it is counted first), if it is. */
export function configYamlProblem(text: string): string | undefined {
  const { configYamlDocuments: docs, configYamlNodes: nodes } = pluginLimits;
  if (!yamlShapeProblem(text, docs, nodes)) return undefined;
  return `holds more than ${nodes} YAML nodes or ${docs} documents, the limit`;
}

/** Refuses a plugin file that is too big to parse safely, before the yaml library builds anything. */
export function checkPluginText(text: string, file: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > pluginLimits.fileBytes) {
    throw tooLarge(
      `${file}: the file is ${bytes} bytes, over the ${formatBytes(pluginLimits.fileBytes)} limit for a plugin file`,
      { file, limit: pluginLimits.fileBytes },
    );
  }
  const { documentsPerFile, yamlNodesPerFile } = pluginLimits;
  const problem = yamlShapeProblem(text, documentsPerFile, yamlNodesPerFile);
  if (problem === 'documents') {
    throw tooLarge(
      `${file}: holds more than ${documentsPerFile} YAML documents, the limit for a plugin file`,
      { file, limit: documentsPerFile },
    );
  }
  if (problem === 'nodes') {
    throw tooLarge(
      `${file}: holds more than ${yamlNodesPerFile} YAML nodes (keys, values, list items), the limit for a plugin file`,
      { file, limit: yamlNodesPerFile },
    );
  }
}
