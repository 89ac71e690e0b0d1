import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { FathomError } from '../../core/errors.js';
import type { ClusterNode } from '../../plugin/types.js';

/** The simulated nodes of a local run. */
export interface LocalClusterConfig {
  readonly nodes: readonly ClusterNode[];
}

const nodeName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Labels every local node carries, as a kubelet would set them. */
function defaultLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
  };
}

/** `count` nodes named node-1..node-N. */
export function defaultCluster(count: number): LocalClusterConfig {
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--nodes must be a whole number from 1 to 1000, not ${count}`,
    );
  }
  const nodes = Array.from({ length: count }, (_, i) => {
    const name = `node-${i + 1}`;
    return { name, labels: defaultLabels(name) };
  });
  return { nodes };
}

/**
 * Reads a cluster file:
 * ```yaml
 * nodes:
 *   - name: gpu-1
 *     labels: { pool: gpu }
 * ```
 */
export async function loadClusterFile(file: string): Promise<LocalClusterConfig> {
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${file}: cannot read cluster file`, { cause });
  });
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const [line, col] = first.linePos?.[0] ? [first.linePos[0].line, first.linePos[0].col] : [1, 1];
    throw new FathomError(
      'FATHOM_YAML_SYNTAX',
      `${file}:${line}:${col}: ${first.message.split('\n')[0]}`,
    );
  }
  const bad = (field: string, why: string): FathomError =>
    new FathomError('FATHOM_CONFIG_INVALID', `${file}: ${field} ${why}`, {
      details: { file, field },
    });
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const list = (raw as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list) || list.length === 0) throw bad('nodes', 'must be a non-empty list');
  const seen = new Set<string>();
  const nodes = list.map((entry: unknown, i): ClusterNode => {
    const e = (entry ?? {}) as { name?: unknown; labels?: unknown };
    if (typeof e.name !== 'string' || !nodeName.test(e.name)) {
      throw bad(`nodes[${i}].name`, 'must be a lower-case DNS name');
    }
    if (seen.has(e.name)) throw bad(`nodes[${i}].name`, `repeats "${e.name}"`);
    seen.add(e.name);
    const labels = e.labels ?? {};
    if (typeof labels !== 'object' || Array.isArray(labels))
      throw bad(`nodes[${i}].labels`, 'must be a map');
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') throw bad(`nodes[${i}].labels.${k}`, 'must be a string');
    }
    return {
      name: e.name,
      labels: { ...defaultLabels(e.name), ...(labels as Record<string, string>) },
    };
  });
  return { nodes };
}
