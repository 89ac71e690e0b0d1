import { parseDocument } from 'yaml';
import { FathomError } from '../../core/errors.js';
import {
  formatBytes,
  jsonSize,
  MiB,
  readFileAtMost,
  yamlShapeProblem,
} from '../../core/bounded.js';
import type { ClusterNode, Taint, TaintEffect } from '../../core/nodes.js';

/** The simulated nodes of a local run. */
export interface LocalClusterConfig {
  readonly nodes: readonly ClusterNode[];
}

/** Bounds on a cluster file, which ends up in every local run's run.json. */
export const clusterLimits = { fileBytes: 1 * MiB, yamlNodes: 50_000, nodes: 1000 } as const;

export const taintEffects: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** A label or taint key: an optional DNS-subdomain prefix and a name, as Kubernetes checks it. */
export const labelKeyPattern =
  '^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

export const nodeNamePattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const nodeName = new RegExp(nodeNamePattern);

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
  if (!Number.isInteger(count) || count < 1 || count > clusterLimits.nodes) {
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
  const bytes = await readFileAtMost(file, clusterLimits.fileBytes).catch((cause: unknown) => {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${file}: cannot read cluster file`, { cause });
  });
  const limit = formatBytes(clusterLimits.fileBytes);
  const over = (what: string): FathomError =>
    new FathomError('FATHOM_CONFIG_INVALID', `${file}: ${what}, the limit for a cluster file`, {
      details: { file },
    });
  if (!bytes) throw over(`is over ${limit}`);
  const text = bytes.toString('utf8');
  // yaml's duplicate-key check is quadratic: count nodes before building them.
  if (yamlShapeProblem(text, 1, clusterLimits.yamlNodes)) {
    throw over(`holds more than one document or ${clusterLimits.yamlNodes} YAML nodes`);
  }
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
  // Aliases may expand it; what the run stores stays within the file limit.
  if (typeof jsonSize(raw, clusterLimits.fileBytes, 16) !== 'number') {
    throw over(`expands (aliases resolved, as JSON) to over ${limit} or nests over 16 levels`);
  }
  const list = (raw as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list) || list.length === 0) throw bad('nodes', 'must be a non-empty list');
  if (list.length > clusterLimits.nodes) {
    throw bad('nodes', `holds ${list.length} nodes, over the limit of ${clusterLimits.nodes}`);
  }
  const seen = new Set<string>();
  const nodes = list.map((entry: unknown, i): ClusterNode => {
    const e = (entry ?? {}) as { name?: unknown; labels?: unknown; taints?: unknown };
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
    const taints = taintsOf(e.taints, `nodes[${i}].taints`, bad);
    return {
      name: e.name,
      labels: { ...defaultLabels(e.name), ...(labels as Record<string, string>) },
      ...(taints.length ? { taints } : {}),
    };
  });
  return { nodes };
}

/** `taints: [{key: gpu, value: "true", effect: NoSchedule}]`, as a Node's spec.taints. */
function taintsOf(
  raw: unknown,
  at: string,
  bad: (field: string, why: string) => FathomError,
): Taint[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad(at, 'must be a list of {key, value, effect}');
  const keyOk = new RegExp(labelKeyPattern);
  return raw.map((entry: unknown, j): Taint => {
    const t = (entry ?? {}) as { key?: unknown; value?: unknown; effect?: unknown };
    if (typeof t.key !== 'string' || !keyOk.test(t.key)) {
      throw bad(`${at}[${j}].key`, 'must be a label key');
    }
    if (t.value !== undefined && typeof t.value !== 'string') {
      throw bad(`${at}[${j}].value`, 'must be a string');
    }
    if (!taintEffects.includes(t.effect as TaintEffect)) {
      throw bad(`${at}[${j}].effect`, `must be one of ${taintEffects.join(', ')}`);
    }
    return {
      key: t.key,
      ...(t.value ? { value: t.value } : {}),
      effect: t.effect as TaintEffect,
    };
  });
}
