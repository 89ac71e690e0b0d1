/**
 * The embedded cluster: the simulated nodes every local run (and, next, check agents and session
 * components) is placed on, kept in `$FATHOM_HOME/cluster.json`. Written atomically and once
 * (a second writer finds it there), checked against a schema whenever it is read back.
 */
import { randomBytes } from 'node:crypto';
import { access, link, mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '../../core/schema.js';
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { validated } from '../../core/validated.js';
import { formatBytes, MiB, readFileAtMost } from '../../core/bounded.js';
import { deepFreeze } from '../../plugin/names.js';
import type { ClusterNode } from '../../core/nodes.js';
import {
  clusterLimits,
  defaultCluster,
  labelKeyPattern,
  nodeNamePattern,
  taintEffects,
  type LocalClusterConfig,
} from './cluster.js';

export const CLUSTER_API_VERSION = 'fathom.dev/v1alpha1';
/** How many nodes the cluster gets when a run finds none. */
export const DEFAULT_NODES = 3;
/** Far above what 1000 nodes with labels take, far below what would hurt to read. */
const FILE_LIMIT = 8 * MiB;

const TaintSchema = Type.Object(
  {
    key: Type.String({ pattern: labelKeyPattern }),
    value: Type.Optional(Type.String({ maxLength: 63 })),
    effect: Type.Enum([...taintEffects]),
  },
  { additionalProperties: false },
);

const NodeSchema = Type.Object(
  {
    name: Type.String({ pattern: nodeNamePattern, maxLength: 253 }),
    labels: Type.Record(Type.String(), Type.String()),
    taints: Type.Optional(Type.Array(TaintSchema)),
  },
  { additionalProperties: false },
);

const ClusterSchema = Type.Object(
  {
    apiVersion: Type.Literal(CLUSTER_API_VERSION),
    kind: Type.Literal('Cluster'),
    createdAt: Type.String(),
    nodes: Type.Array(NodeSchema, { minItems: 1, maxItems: clusterLimits.nodes }),
  },
  { additionalProperties: false },
);

/** The cluster as read back: frozen. */
export interface LocalCluster {
  readonly file: string;
  readonly createdAt: string;
  readonly nodes: readonly ClusterNode[];
}

export function clusterFileOf(home: string): string {
  return join(home, 'cluster.json');
}

const invalid = (file: string, problem: string, field?: string): FathomError =>
  new FathomError('FATHOM_CLUSTER_INVALID', `${file}: ${problem}`, {
    details: { file, ...(field ? { field } : {}) },
  });

/** The cluster, or undefined when there is none; FATHOM_CLUSTER_INVALID when the file is corrupt. */
export async function readCluster(home: string): Promise<LocalCluster | undefined> {
  const file = clusterFileOf(home);
  let bytes: Buffer | undefined;
  try {
    bytes = await readFileAtMost(file, FILE_LIMIT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalid(file, `cannot be read (${(err as Error).message})`);
  }
  if (!bytes) throw invalid(file, `is over ${formatBytes(FILE_LIMIT)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(file, `is not JSON (${(err as Error).message})`);
  }
  const cluster = validated(ClusterSchema, raw, { file, code: 'FATHOM_CLUSTER_INVALID' });
  const seen = new Set<string>();
  cluster.nodes.forEach((n, i) => {
    const field = `nodes[${i}].name`;
    if (seen.has(n.name)) throw invalid(file, `${field}: repeats "${n.name}"`, field);
    seen.add(n.name);
  });
  return deepFreeze({ file, createdAt: cluster.createdAt, nodes: cluster.nodes });
}

/**
 * Creates the cluster; FATHOM_CLUSTER_EXISTS when one is there. The file appears whole or not
 * at all: it is written aside and linked into place, which fails if another writer was first.
 */
export async function createCluster(
  home: string,
  config: LocalClusterConfig,
  clock: Clock,
): Promise<LocalCluster> {
  const file = clusterFileOf(home);
  await mkdir(home, { recursive: true });
  const createdAt = new Date(clock.now()).toISOString();
  const body = { apiVersion: CLUSTER_API_VERSION, kind: 'Cluster', createdAt, nodes: config.nodes };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const existing = await readCluster(home).catch(() => undefined);
    throw new FathomError(
      'FATHOM_CLUSTER_EXISTS',
      `a cluster already exists (${file}${existing ? `, ${existing.nodes.length} nodes` : ''}): \`fathom cluster delete\` it first`,
    );
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return deepFreeze({ file, createdAt, nodes: config.nodes });
}

/** Removes the cluster file, corrupt or not; false when there was none. */
export async function removeCluster(home: string): Promise<boolean> {
  const file = clusterFileOf(home);
  const existed = await access(file).then(
    () => true,
    () => false,
  );
  await rm(file, { force: true });
  return existed;
}

/** What `fathom run` asked of the cluster: `--nodes N` or `--cluster-config FILE`, if given. */
export interface ClusterWish {
  readonly nodes?: number;
  readonly config?: { readonly file: string; readonly cluster: LocalClusterConfig };
}

/**
 * The nodes a run is placed on: the cluster's, created on first use (from the run's `--nodes` or
 * `--cluster-config`, else 3 nodes). A flag that contradicts an existing cluster is refused
 * rather than quietly ignored or allowed to reshape nodes other work may be using.
 */
export async function clusterForRun(
  home: string,
  wish: ClusterWish,
  clock: Clock,
): Promise<LocalCluster> {
  if (wish.nodes !== undefined && wish.config) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      '--nodes and --cluster-config: give one or the other, not both',
    );
  }
  let cluster = await readCluster(home);
  if (!cluster) {
    const config = wish.config?.cluster ?? defaultCluster(wish.nodes ?? DEFAULT_NODES);
    try {
      return await createCluster(home, config, clock);
    } catch (err) {
      // Another run created it meanwhile: use that one, as if it had been there.
      if (!(err instanceof FathomError) || err.code !== 'FATHOM_CLUSTER_EXISTS') throw err;
      cluster = await readCluster(home);
      if (!cluster) throw err;
    }
  }
  const fix = `leave the flag out to run on it, or \`fathom cluster delete\` and create it anew`;
  if (wish.nodes !== undefined && wish.nodes !== cluster.nodes.length) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--nodes ${wish.nodes}: the cluster has ${cluster.nodes.length} nodes (${cluster.file}); ${fix}`,
      { details: { flag: '--nodes', file: cluster.file } },
    );
  }
  if (wish.config) {
    const difference = firstDifference(cluster.nodes, wish.config.cluster.nodes);
    if (difference) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--cluster-config ${wish.config.file}: ${difference} in the cluster (${cluster.file}); ${fix}`,
        { details: { flag: '--cluster-config', file: cluster.file } },
      );
    }
  }
  return cluster;
}

/** Where two node lists differ, in words; undefined when they are the same nodes. */
export function firstDifference(
  have: readonly ClusterNode[],
  want: readonly ClusterNode[],
): string | undefined {
  const byName = new Map(have.map((n) => [n.name, n]));
  for (const node of want) {
    const other = byName.get(node.name);
    if (!other) return `node "${node.name}" is not`;
    if (canonical(other.labels) !== canonical(node.labels)) {
      return `node "${node.name}" has other labels`;
    }
    if (JSON.stringify(other.taints ?? []) !== JSON.stringify(node.taints ?? [])) {
      return `node "${node.name}" has other taints`;
    }
  }
  if (have.length !== want.length) {
    return `the file lists ${want.length} nodes where there are ${have.length}`;
  }
  return undefined;
}

function canonical(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}
