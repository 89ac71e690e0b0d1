/**
 * The local backend's objects as Kubernetes-shaped JSON, so `fathom health --watch` and the
 * kstatus poller read a local run as they read a cluster:
 *
 * - `Run` (`fathom.dev/v1alpha1`), one per namespace, named after the namespace: InProgress
 *   (Reconciling) while running or post-processing, Current (Ready) once complete, Failed
 *   (Stalled) when the aggregator stopped before the run finished.
 * - `Pod` (`v1`): `fathom-aggregator`, and one per plugin placement, named as the local runtime
 *   names them (`fathom-<plugin>-<node>` for a DaemonSet plugin, `fathom-<plugin>-job` for a
 *   Job), with a phase, containerStatuses and conditions, so kstatus's Pod rule applies.
 * - `Session` (`fathom.dev/v1alpha1`): each session of the session store, as stored, in its own
 *   namespace or `fathom` (sessions/objects.ts).
 *
 * Runs and pods are read from the run directory ($FATHOM_HOME/runs/<namespace>), sessions from
 * $FATHOM_HOME/state.db, on each call.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunStatus } from '../../aggregation/types.js';
import { FathomError, isFathomError } from '../../core/errors.js';
import { jobNode } from '../../plugin/tolerations.js';
import { GLOBAL_NODE } from '../../plugin/types.js';
import type { ClusterReader } from '../../status/reader.js';
import { formatGroupKind, groupKindKey, labelsOf } from '../../status/fields.js';
import { matchesSelector } from '../../status/selector.js';
import type { GroupKind, KubeObject, LabelSelector, ObjectIdentifier } from '../../status/types.js';
import type { ResourceScope } from '../../status/watch.js';
import {
  files,
  isAlive,
  localPodName,
  readRecord,
  readRunStatus,
  runDirOf,
  type LocalRunRecord,
} from './store.js';
import { NODE_HOST_OWNER } from './nodehost/protocol.js';
import { LocalSessionObjects, SESSION_GK } from './sessions/objects.js';

export const LOCAL_GROUP = 'fathom.dev';
export const LOCAL_API_VERSION = `${LOCAL_GROUP}/v1alpha1`;
export const RUN_KIND = 'Run';
/** The same name as the kubernetes backend's aggregator pod, so one manifest reads both. */
export const LOCAL_AGGREGATOR_POD = 'fathom-aggregator';

const RUN: GroupKind = { group: LOCAL_GROUP, kind: RUN_KIND };
const POD: GroupKind = { group: '', kind: 'Pod' };
/** The local runtime's container names (runtime.ts), in the order a pod spec lists them. */
const CONTAINERS = ['plugin', 'sonobuoy-worker'] as const;

/** A ClusterReader over local runs, which also says where each kind lives. */
export interface LocalClusterReader extends ClusterReader {
  /** `Namespaced` for the kinds above, undefined for any other. */
  scopeOf(gk: GroupKind): Promise<ResourceScope | undefined>;
  close(): void;
}

export interface LocalReaderOptions {
  /** $FATHOM_HOME (see `fathomHome`). */
  readonly home: string;
  /** Whether a process lives; `isAlive` (kill 0) by default. */
  readonly isAlive?: (pid: number | undefined) => boolean;
}

/** One run directory, read once per list call. */
export interface RunState {
  readonly namespace: string;
  readonly dir: string;
  readonly record: LocalRunRecord;
  readonly status: RunStatus;
  readonly aggregatorAlive: boolean;
}

/** The kinds the local backend serves per run; sessions are not a run's (see `list`). */
interface KindSource {
  readonly gk: GroupKind;
  list(run: RunState, alive: (pid: number | undefined) => boolean): Promise<KubeObject[]>;
}

const sources: readonly KindSource[] = [
  { gk: RUN, list: (run) => Promise.resolve([runObject(run)]) },
  { gk: POD, list: (run, alive) => podObjects(run, alive) },
];

const served = [...sources.map((s) => s.gk), SESSION_GK].map(formatGroupKind).join(', ');

const isSession = (gk: GroupKind): boolean => groupKindKey(gk) === groupKindKey(SESSION_GK);

function sourceOf(gk: GroupKind): KindSource {
  const source = sources.find((s) => groupKindKey(s.gk) === groupKindKey(gk));
  if (!source) {
    throw new FathomError(
      'FATHOM_CONFIG_INVALID',
      `the local backend has no kind ${formatGroupKind(gk)} (it serves ${served})`,
      { details: { group: gk.group, kind: gk.kind } },
    );
  }
  return source;
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error
      ? signal.reason
      : new DOMException('aborted', 'AbortError');
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

class LocalReader implements LocalClusterReader {
  readonly #alive: (pid: number | undefined) => boolean;
  readonly #sessions: LocalSessionObjects;

  constructor(readonly options: LocalReaderOptions) {
    this.#alive = options.isAlive ?? isAlive;
    this.#sessions = new LocalSessionObjects(options.home);
  }

  scopeOf(gk: GroupKind): Promise<ResourceScope | undefined> {
    const known = isSession(gk) || sources.some((s) => groupKindKey(s.gk) === groupKindKey(gk));
    return Promise.resolve(known ? 'Namespaced' : undefined);
  }

  async get(id: ObjectIdentifier, signal?: AbortSignal): Promise<KubeObject | undefined> {
    const objects = await this.list(id, id.namespace, undefined, signal);
    return objects.find((o) => (o.metadata as { name?: unknown }).name === id.name);
  }

  async list(
    gk: GroupKind,
    namespace: string,
    selector?: LabelSelector,
    signal?: AbortSignal,
  ): Promise<KubeObject[]> {
    abortIfNeeded(signal);
    if (isSession(gk)) {
      const all = await this.#sessions.list(namespace);
      return selector ? all.filter((o) => matchesSelector(labelsOf(o), selector)) : all;
    }
    const source = sourceOf(gk);
    const namespaces = namespace === '' ? await this.#namespaces() : [namespace];
    const out: KubeObject[] = [];
    for (const ns of namespaces) {
      const run = await this.#run(ns);
      if (!run) continue;
      for (const o of await source.list(run, this.#alive)) {
        if (!selector || matchesSelector(labelsOf(o), selector)) out.push(o);
      }
    }
    return out;
  }

  close(): void {
    this.#sessions.close();
  }

  async #namespaces(): Promise<string[]> {
    const names = await readdir(join(this.options.home, 'runs')).catch(() => [] as string[]);
    return names.sort();
  }

  /** The run in `namespace`, or undefined when there is none (or the name cannot be one). */
  async #run(namespace: string): Promise<RunState | undefined> {
    let dir: string;
    try {
      dir = runDirOf(this.options.home, namespace);
    } catch {
      return undefined;
    }
    // Checked as every reader of run.json checks it: corrupt is an error, absent is no run.
    const record = await readRecord(dir, namespace).catch((err: unknown) => {
      if (isFathomError(err, 'FATHOM_RUN_NOT_FOUND')) return undefined;
      throw err;
    });
    if (!record) return undefined;
    const { status, aggregatorAlive: alive } = await readRunStatus(dir, this.#alive);
    return { namespace, dir, record, status, aggregatorAlive: alive };
  }
}

/** The local backend's objects through the ClusterReader contract. */
export function createLocalClusterReader(options: LocalReaderOptions): LocalClusterReader {
  return new LocalReader(options);
}

function condition(type: string, status: boolean, reason: string, message: string) {
  return { type, status: status ? 'True' : 'False', reason, message };
}

/** The run's status in kstatus's conventions: Reconciling, Stalled or Ready. */
function runConditions(status: RunStatus): { phase: string; conditions: object[] } {
  const total = status.plugins.length;
  const done = status.plugins.filter((e) => e.status !== 'running').length;
  if (status.status === 'complete') {
    const message = `Run complete: ${total} results in`;
    return { phase: 'Complete', conditions: [condition('Ready', true, 'Complete', message)] };
  }
  const [phase, type, message] =
    status.status === 'failed'
      ? ['Failed', 'Stalled', 'The aggregator stopped before the run finished']
      : status.status === 'post-processing'
        ? ['PostProcessing', 'Reconciling', 'All results are in; post-processing them']
        : ['Running', 'Reconciling', `${done} of ${total} results in`];
  const reason = phase === 'Failed' ? 'AggregatorFailed' : phase;
  return {
    phase,
    conditions: [
      condition(type, true, reason, message),
      condition('Ready', false, reason, message),
    ],
  };
}

function runLabels(uuid: string): Record<string, string> {
  // The kubernetes backend's label keys (names.ts), so selectors carry over.
  return { component: 'fathom', 'fathom-run': uuid };
}

function runObject(run: RunState): KubeObject {
  const { record, status } = run;
  const { phase, conditions } = runConditions(status);
  const failed = status.plugins.filter(
    (e) => e.status === 'failed' || e['result-status'] === 'failed',
  ).length;
  return {
    apiVersion: LOCAL_API_VERSION,
    kind: RUN_KIND,
    metadata: {
      name: run.namespace,
      namespace: run.namespace,
      uid: record.uuid,
      creationTimestamp: record.createdAt,
      labels: runLabels(record.uuid),
    },
    spec: {
      plugins: record.plugins.map((p) => p.name),
      nodes: record.nodes.map((n) => n.name),
    },
    status: {
      phase,
      results: {
        expected: status.plugins.length,
        received: status.plugins.filter((e) => e.status !== 'running').length,
        failed,
      },
      ...(status['tar-info'].name ? { tarball: status['tar-info'].name } : {}),
      conditions,
    },
  };
}

interface PodSnapshot {
  containers?: { name: string; state: string; exitCode?: number; reason?: string }[];
}

type ContainerStatus = Record<string, unknown> & { name: string; ready: boolean };

function containerStatus(
  name: string,
  snap: NonNullable<PodSnapshot['containers']>[number] | undefined,
): ContainerStatus {
  if (!snap || snap.state === 'waiting') {
    return {
      name,
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    };
  }
  if (snap.state === 'running') {
    return { name, ready: true, restartCount: 0, started: true, state: { running: {} } };
  }
  return {
    name,
    ready: false,
    restartCount: 0,
    started: false,
    state: { terminated: { exitCode: snap.exitCode ?? 128, reason: snap.reason ?? 'Error' } },
  };
}

/**
 * A pod's phase as the kubelet gives it with restartPolicy Never: Pending until every container
 * has started, Running while one runs, then Succeeded (all exited 0) or Failed.
 */
function podStatus(containers: readonly ContainerStatus[]): Record<string, unknown> {
  const state = (c: ContainerStatus): string => Object.keys(c.state as object)[0]!;
  const terminated = containers.filter((c) => state(c) === 'terminated');
  const phase = containers.some((c) => state(c) === 'waiting')
    ? 'Pending'
    : terminated.length === containers.length
      ? terminated.every(
          (c) => (c.state as { terminated: { exitCode: number } }).terminated.exitCode === 0,
        )
        ? 'Succeeded'
        : 'Failed'
      : 'Running';
  const ready = phase === 'Running' && containers.every((c) => c.ready);
  const why = ready ? '' : phase === 'Running' ? 'ContainersNotReady' : `Pod${phase}`;
  return {
    phase,
    conditions: [
      condition('PodScheduled', true, '', ''),
      condition('Initialized', true, '', ''),
      condition('ContainersReady', ready, why, ''),
      condition('Ready', ready, why, ''),
    ],
    containerStatuses: containers,
  };
}

async function createdAt(path: string, fallback: string): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return fallback;
  return new Date(s.birthtimeMs || s.ctimeMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `pod/container` → pid, from the pid files the runtime writes for `fathom delete`. */
async function containerPids(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pids = await readdir(join(dir, files.pids)).catch(() => [] as string[]);
  for (const pid of pids) {
    const owner = await readFile(join(dir, files.pids, pid), 'utf8').catch(() => '');
    if (owner.trim()) out.set(owner.trim(), Number(pid));
  }
  return out;
}

/** The run's pods: the aggregator and each plugin placement (also the cluster snapshot's). */
export async function podObjects(
  run: RunState,
  alive: (pid: number | undefined) => boolean,
): Promise<KubeObject[]> {
  const { record, dir, namespace } = run;
  const uuid = record.uuid;
  const out: KubeObject[] = [aggregatorPod(run)];
  // With the aggregator gone nobody updates the snapshots: a "running" container whose process
  // is gone is lost, as the kubelet reports a container it can no longer find.
  const pids = run.aggregatorAlive ? undefined : await containerPids(dir);
  const podsDir = join(dir, files.pods);
  for (const plugin of (await readdir(podsDir).catch(() => [] as string[])).sort()) {
    const def = record.plugins.find((p) => p.name === plugin);
    for (const key of (await readdir(join(podsDir, plugin)).catch(() => [] as string[])).sort()) {
      const podDir = join(podsDir, plugin, key);
      const job = def?.driver === 'Job' || key === GLOBAL_NODE;
      const name = localPodName(plugin, job, key);
      const node = job && def ? jobNode(def, record.nodes)?.name : key;
      const snap = await readJson<PodSnapshot>(join(podDir, 'status.json'));
      const containers = CONTAINERS.map((c) => {
        let s = snap?.containers?.find((x) => x.name === c);
        // A worker runs in the node host: it lives as long as the host does.
        const pid = pids?.get(`${name}/${c}`) ?? pids?.get(NODE_HOST_OWNER);
        if (s?.state === 'running' && pids && !alive(pid)) {
          s = { name: c, state: 'terminated', exitCode: 137, reason: 'ContainerStatusUnknown' };
        }
        return containerStatus(c, s);
      });
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          creationTimestamp: await createdAt(podDir, record.createdAt),
          labels: {
            ...runLabels(uuid),
            'fathom-component': 'plugin',
            'fathom-plugin': plugin,
            'sonobuoy-component': 'plugin',
            'sonobuoy-plugin': plugin,
          },
        },
        spec: {
          ...(node ? { nodeName: node } : {}),
          restartPolicy: 'Never',
          containers: CONTAINERS.map((c) => ({ name: c })),
        },
        status: podStatus(containers),
      });
    }
  }
  return out;
}

/** The aggregator process as a pod: Running while alive, then Succeeded or Failed with the run. */
function aggregatorPod(run: RunState): KubeObject {
  const done = run.status.status === 'complete';
  const container = containerStatus(
    'aggregator',
    run.aggregatorAlive
      ? { name: 'aggregator', state: 'running' }
      : {
          name: 'aggregator',
          state: 'terminated',
          exitCode: done ? 0 : 1,
          reason: done ? 'Completed' : 'Error',
        },
  );
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: LOCAL_AGGREGATOR_POD,
      namespace: run.namespace,
      creationTimestamp: run.record.createdAt,
      labels: { ...runLabels(run.record.uuid), 'fathom-component': 'aggregator' },
    },
    spec: { restartPolicy: 'Never', containers: [{ name: 'aggregator' }] },
    status: podStatus([container]),
  };
}
