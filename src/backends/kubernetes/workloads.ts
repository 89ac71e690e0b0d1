/**
 * The workload port on Kubernetes: one Pod per workload, bound to its node, in one namespace.
 * State comes from the Pod's status as the kubelet writes it; waiting is on watches.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { FathomError, isFathomError } from '../../core/errors.js';
import {
  checkWorkloadSpec,
  type LogOptions,
  type WorkloadEvent,
  type WorkloadRuntime,
  type WorkloadSpec,
  type WorkloadState,
} from '../../core/workload.js';
import { resourcePath, type KubeClient } from './api/client.js';
import { watchObjects, type WatchedObject } from './api/informer.js';
import {
  checkedPod,
  isWorkloadPod,
  ownerSelector,
  workloadPod,
  workloadStateOf,
} from './workload-pod.js';

export interface KubeWorkloadOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
}

/** Beyond its grace period, how long a kubelet may take to confirm a deletion before it is forced. */
export const CONFIRM_DELETE_MS = 30_000;
/** The Pod default when the caller gives no grace period. */
const DEFAULT_GRACE_MS = 30_000;

type RawPod = WatchedObject & {
  metadata: { uid?: string; labels?: Record<string, string> };
};

export function createKubeWorkloadRuntime(options: KubeWorkloadOptions): WorkloadRuntime {
  const { client, namespace, clock } = options;
  const pods = resourcePath('', 'pods', namespace);
  const podPath = (name: string): string => resourcePath('', 'pods', namespace, name);
  const where = (name: string): string => `Pod ${namespace}/${name}`;
  const stateOf = (pod: RawPod): WorkloadState =>
    workloadStateOf(checkedPod(pod, where(pod.metadata.name)));

  const find = async (name: string): Promise<RawPod | undefined> => {
    const pod = await client.find<RawPod>(podPath(name), `reading ${where(name)}`);
    return pod && isWorkloadPod(pod) ? pod : undefined;
  };

  /** Resolves once no Pod `name` with `uid` is left (a watch, not polling), or `signal` fires. */
  const gone = async (
    name: string,
    uid: string | undefined,
    signal: AbortSignal,
  ): Promise<void> => {
    const same = (p: RawPod): boolean => p.metadata.name === name && p.metadata.uid === uid;
    for await (const e of watchObjects<RawPod>({
      client,
      path: pods,
      fieldSelector: `metadata.name=${name}`,
      clock,
      signal,
      what: `watching the deletion of ${where(name)}`,
    })) {
      if (e.type === 'deleted' && same(e.object)) return;
      if ((e.type === 'synced' || e.type === 'resync') && !e.objects.some(same)) return;
    }
  };

  const remove = async (name: string, opts: { readonly graceMs?: number } = {}) => {
    const pod = await find(name);
    if (!pod) return false;
    const graceMs = Math.max(0, opts.graceMs ?? DEFAULT_GRACE_MS);
    const uid = pod.metadata.uid;
    const del = async (seconds: number): Promise<boolean> => {
      try {
        await client.request('DELETE', podPath(name), `deleting ${where(name)}`, {
          // All in the body: the API server ignores the query's options when there is one.
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: seconds,
            // Only this Pod: another of the same name placed meanwhile is not ours to remove.
            ...(uid ? { preconditions: { uid } } : {}),
          },
        });
        return true;
      } catch (err) {
        if (
          isFathomError(err, 'FATHOM_KUBE_NOT_FOUND') ||
          isFathomError(err, 'FATHOM_KUBE_CONFLICT')
        )
          return false;
        throw err;
      }
    };
    if (!(await del(Math.ceil(graceMs / 1000)))) return false;
    const stop = new AbortController();
    try {
      // A kubelet that never confirms (its node is down) must not hold us forever: force it.
      const confirmed = await Promise.race([
        gone(name, uid, stop.signal).then(() => true),
        clock.sleep(graceMs + CONFIRM_DELETE_MS, stop.signal).then(() => false),
      ]);
      if (!confirmed) {
        await del(0);
        await gone(name, uid, stop.signal);
      }
    } finally {
      stop.abort();
    }
    return true;
  };

  return {
    async place(spec: WorkloadSpec): Promise<WorkloadState> {
      checkWorkloadSpec(spec);
      const body = workloadPod(spec);
      const node = await client.find(
        resourcePath('', 'nodes', undefined, spec.node),
        `reading Node ${spec.node}`,
      );
      // Bound to a Node that does not exist, a Pod would stay Pending forever.
      if (!node) {
        throw new FathomError(
          'FATHOM_WORKLOAD_INVALID',
          `workload ${spec.name}: node: there is no Node ${spec.node}`,
          { details: { field: 'node' } },
        );
      }
      try {
        return stateOf(await client.create<RawPod>(pods, body, `creating ${where(spec.name)}`));
      } catch (err) {
        if (!isFathomError(err, 'FATHOM_KUBE_CONFLICT')) throw err;
        throw new FathomError(
          'FATHOM_WORKLOAD_EXISTS',
          `workload ${spec.name}: ${where(spec.name)} exists already`,
          { cause: err },
        );
      }
    },

    async get(name) {
      const pod = await find(name);
      return pod && stateOf(pod);
    },

    async list(owner) {
      const found = await client.list<RawPod>(pods, `listing the workloads of ${owner}`, {
        labelSelector: ownerSelector(owner),
      });
      return found.items
        .map(stateOf)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    watch: (owner, signal) => watchWorkloads(options, owner, signal, stateOf),

    logs: (name, container, opts = {}) => podLogs(options, name, container, opts, stateOf),

    remove,
  };
}

async function* watchWorkloads(
  { client, namespace, clock }: KubeWorkloadOptions,
  owner: string,
  signal: AbortSignal,
  stateOf: (pod: RawPod) => WorkloadState,
): AsyncGenerator<WorkloadEvent> {
  // The first list arrives as one `added` per Pod: every workload as it is now.
  for await (const e of watchObjects<RawPod>({
    client,
    path: resourcePath('', 'pods', namespace),
    labelSelector: ownerSelector(owner),
    clock,
    signal,
    what: `watching the workloads of ${owner} in namespace ${namespace}`,
  })) {
    if (e.type === 'error') yield { type: 'error', error: e.error };
    else if (e.type === 'deleted') yield { type: 'removed', name: e.object.metadata.name };
    else if (e.type === 'added' || e.type === 'updated') {
      let state: WorkloadState;
      try {
        state = stateOf(e.object);
      } catch (err) {
        yield { type: 'error', error: err as Error };
        continue;
      }
      yield { type: 'changed', workload: state };
    }
  }
}

/** Resolves with whether `container` of Pod `name` has started (or ended); false if the Pod went. */
async function started(
  { client, namespace, clock }: KubeWorkloadOptions,
  name: string,
  container: string,
  signal: AbortSignal,
  stateOf: (pod: RawPod) => WorkloadState,
): Promise<boolean> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const e of watchObjects<RawPod>({
      client,
      path: resourcePath('', 'pods', namespace),
      fieldSelector: `metadata.name=${name}`,
      clock,
      signal: stop.signal,
      what: `watching Pod ${namespace}/${name}`,
    })) {
      if (e.type === 'deleted') return false;
      if (e.type === 'synced' && !e.objects.length) return false;
      if (e.type !== 'added' && e.type !== 'updated') continue;
      const c = stateOf(e.object).containers.find((s) => s.name === container);
      if (!c) return false;
      if (c.state !== 'waiting') return true;
    }
    return false;
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/** Whether the container of workload `name` is still waiting to start. */
async function waiting(
  { client, namespace }: KubeWorkloadOptions,
  name: string,
  container: string,
): Promise<boolean> {
  const pod = await client.find<RawPod>(
    resourcePath('', 'pods', namespace, name),
    `reading Pod ${namespace}/${name}`,
  );
  if (!pod || !isWorkloadPod(pod)) return false;
  const state = workloadStateOf(checkedPod(pod, `Pod ${namespace}/${name}`));
  return state.containers.some((c) => c.name === container && c.state === 'waiting');
}

async function* podLogs(
  options: KubeWorkloadOptions,
  name: string,
  container: string,
  opts: LogOptions,
  stateOf: (pod: RawPod) => WorkloadState,
): AsyncGenerator<Buffer> {
  const { client, namespace } = options;
  const signal = opts.signal ?? new AbortController().signal;
  const what = `reading the log of Pod ${namespace}/${name} container ${container}`;
  // The log endpoint refuses a container that has not started: with follow, wait for it.
  if (opts.follow && !(await started(options, name, container, signal, stateOf))) return;
  if (signal.aborted) return;
  let res: IncomingMessage;
  try {
    res = await client.stream(`${resourcePath('', 'pods', namespace, name)}/log`, what, {
      query: { container, ...(opts.follow ? { follow: true } : {}) },
      signal,
    });
  } catch (err) {
    if (signal.aborted) return;
    // A container that has not started has no output yet: nothing, not an error (as locally);
    // the kubelet says 400, or a node without one cannot be reached at all.
    if (isFathomError(err) && (await waiting(options, name, container))) return;
    throw err;
  }
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if (signal.aborted) return;
    throw new FathomError('FATHOM_KUBE_API_ERROR', `${what}: the stream broke`, { cause: err });
  } finally {
    res.destroy();
  }
}
