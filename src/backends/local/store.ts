import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '../../core/schema.js';
import { runStatusSchema } from '../../aggregation/status-schema.js';
import type { RunStatus } from '../../aggregation/types.js';
import { FathomError } from '../../core/errors.js';
import type { ClusterNode } from '../../core/nodes.js';
import { validatedJson } from '../../core/validated.js';
import { clusterNodeSchema, pluginDefinitionSchema } from '../../plugin/schema.js';
import type { PluginDefinition } from '../../plugin/types.js';
import { isAlive } from './process/group.js';
import { writeFileAtomic } from './process/pidfile.js';

export { isAlive };

/** Everything the aggregator process needs to run, written by `fathom run` before it starts. */
export interface LocalRunRecord {
  readonly uuid: string;
  readonly namespace: string;
  readonly createdAt: string;
  readonly timeoutMs: number;
  readonly maxResultBytes: number;
  readonly terminatedGraceMs: number;
  readonly nodes: readonly ClusterNode[];
  readonly plugins: readonly PluginDefinition[];
  /** `--pool`: the pool whose nodes (`nodes`) the session controller granted the run. */
  readonly pool?: string;
  /** The plugins' SONOBUOY_K8S_VERSION (`--kubernetes-version`, else the local cluster's). */
  readonly kubernetesVersion?: string;
  /** What the cluster snapshot collects, as meta/config.json's keys (absent: the defaults). */
  readonly snapshot?: Readonly<Record<string, unknown>>;
}

/** The Kubernetes version of the embedded cluster (the test control plane's, test/cluster/). */
export const LOCAL_KUBERNETES_VERSION = 'v1.36.3';

const Count = Type.Integer({ minimum: 0 });

/** run.json as read back: written by this code, but a file a user or another version may touch. */
const recordSchema = Type.Object({
  uuid: Type.String({ minLength: 1 }),
  namespace: Type.String({ minLength: 1 }),
  createdAt: Type.String(),
  timeoutMs: Count,
  maxResultBytes: Count,
  terminatedGraceMs: Count,
  nodes: Type.Array(clusterNodeSchema),
  plugins: Type.Array(pluginDefinitionSchema),
  pool: Type.Optional(Type.String({ minLength: 1 })),
  kubernetesVersion: Type.Optional(Type.String()),
  // Checked field by field by readSnapshotConfig where the aggregator takes it.
  snapshot: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
const _record = (v: Static<typeof recordSchema>): LocalRunRecord => v;

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Where local runs keep their state: $FATHOM_HOME, else $XDG_STATE_HOME/fathom, else ~/.local/state/fathom. */
export function fathomHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FATHOM_HOME) return env.FATHOM_HOME;
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'fathom');
}

/** The run directory of a namespace; the namespace becomes a path, so it must be a DNS label. */
export function runDirOf(home: string, namespace: string): string {
  if (!dnsLabel.test(namespace)) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--namespace "${namespace}" must be a DNS label (lower-case letters, digits and '-', at most 63)`,
    );
  }
  return join(home, 'runs', namespace);
}

export const files = {
  record: 'run.json',
  status: 'status.json',
  daemonPid: 'aggregator.pid',
  log: 'aggregator.log',
  results: 'results',
  pids: 'pids',
  pods: 'pods',
  journal: 'journal.jsonl',
  restarts: 'restarts',
  restartLock: 'restart.lock',
  /** `run --pool`: the process waiting for the pool's nodes, until the aggregator runs. */
  claimWaiter: 'pool-claim.pid',
} as const;

/** The run's record, checked and frozen; a corrupt one is FATHOM_STATE_INVALID naming file and field. */
export async function readRecord(dir: string, namespace: string): Promise<LocalRunRecord> {
  const file = join(dir, files.record);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new FathomError('FATHOM_RUN_NOT_FOUND', `no run in namespace "${namespace}"`, { cause });
  }
  return validatedJson(recordSchema, text, { file });
}

/**
 * The aggregator's last status, checked and frozen; undefined before it wrote one. It is replaced
 * atomically, so a bad one is corrupt, not half-written: FATHOM_STATE_INVALID naming the field.
 */
/**
 * Throws FATHOM_RUN_NOT_FOUND unless the run's directory exists, whatever its files hold: what
 * delete needs, so that a run whose run.json is corrupt or was never written can be removed.
 */
export async function assertRunDirExists(dir: string, namespace: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new FathomError('FATHOM_RUN_NOT_FOUND', `no run in namespace "${namespace}"`);
  }
}

export async function readStatus(dir: string): Promise<RunStatus | undefined> {
  const file = join(dir, files.status);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : validatedJson(runStatusSchema, text, { file });
}

/** Replaces a JSON file atomically, so a reader in another terminal never sees half of it. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2));
}

/** A plugin process's pod name: `fathom-<plugin>-job` for a Job, `fathom-<plugin>-<node>` per node. */
export function localPodName(plugin: string, job: boolean, node: string): string {
  return `fathom-${plugin}-${job ? 'job' : node}`;
}

const emptyTar = { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 };

/**
 * A run's status as every reader must tell it: the aggregator's last word, or, when the
 * aggregator is gone before finishing, Sonobuoy's "failed" (the aggregator itself failed).
 */
export async function readRunStatus(
  dir: string,
  alive: (pid: number | undefined) => boolean = isAlive,
): Promise<{ status: RunStatus; aggregatorAlive: boolean }> {
  let status = await readStatus(dir);
  const pid = Number(await readFile(join(dir, files.daemonPid), 'utf8').catch(() => ''));
  const aggregatorAlive = alive(pid || undefined);
  // The aggregator may have written its last status and exited since the first read.
  if (!aggregatorAlive) status = await readStatus(dir);
  if (status && (status.status === 'complete' || aggregatorAlive)) {
    return { status, aggregatorAlive };
  }
  return {
    status: {
      plugins: status?.plugins ?? [],
      status: aggregatorAlive ? 'running' : 'failed',
      'tar-info': status?.['tar-info'] ?? emptyTar,
    },
    aggregatorAlive,
  };
}
