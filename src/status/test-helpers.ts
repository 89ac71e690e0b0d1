/** Builders shared by the status tests (not exported from index.ts). */
import { ManualClock } from '../core/clock.js';
import { identifierOf } from './fields.js';
import { createStatusPoller } from './poller.js';
import type { StatusPollerOptions } from './poller.js';
import type { ClusterReader } from './reader.js';
import type { KubeObject, ObjectIdentifier, PollEvent, ResourceStatus, Result } from './types.js';

export interface Parts {
  metadata?: Record<string, unknown>;
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

/** An object of `apiVersion`/`kind` named `x` in namespace `ns`, with the given parts. */
export function obj(apiVersion: string, kind: string, parts: Parts = {}): KubeObject {
  const { metadata, ...rest } = parts;
  const out: KubeObject = {
    apiVersion,
    kind,
    metadata: { name: 'x', namespace: 'ns', ...metadata },
  };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) out[k] = v;
  return out;
}

export function ip(reason: string, message: string): Result {
  return {
    status: 'InProgress',
    message,
    conditions: [{ type: 'Reconciling', status: 'True', reason, message }],
  };
}

export function failedResult(reason: string, message: string): Result {
  return {
    status: 'Failed',
    message,
    conditions: [{ type: 'Stalled', status: 'True', reason, message }],
  };
}

export function cur(message: string): Result {
  return { status: 'Current', message, conditions: [] };
}

export function unknownResult(error: string): Result {
  return { status: 'Unknown', message: error, conditions: [], error };
}

export function cond(
  type: string,
  status: string,
  reason = '',
  message = '',
): Record<string, string> {
  return { type, status, reason, message };
}

/** Any iterable as an async stream, pulled lazily (as a file or stdin delivers it). */
export async function* stream<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve(); // each chunk arrives on a later turn, as from a socket
    yield item;
  }
}

/** The poll interval the poller tests use. */
export const INTERVAL = 2000;

/** A Deployment selecting `app: name`, with `ready` of `replicas` ready and available. */
export function deployment(ns: string, name: string, ready: number, replicas = 2): KubeObject {
  return obj('apps/v1', 'Deployment', {
    metadata: { name, namespace: ns, generation: 1 },
    spec: { replicas, selector: { matchLabels: { app: name } } },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready,
      availableReplicas: ready,
      conditions: [cond('Available', ready === replicas ? 'True' : 'False')],
    },
  });
}

export function replicaSet(
  ns: string,
  name: string,
  app: string,
  ready: number,
  replicas = 2,
): KubeObject {
  return obj('apps/v1', 'ReplicaSet', {
    metadata: { name, namespace: ns, labels: { app } },
    spec: { replicas, selector: { matchLabels: { app } } },
    status: {
      replicas,
      fullyLabeledReplicas: replicas,
      availableReplicas: ready,
      readyReplicas: ready,
    },
  });
}

export function pod(
  ns: string,
  name: string,
  app: string,
  state: 'ready' | 'crash' | 'starting',
): KubeObject {
  const status =
    state === 'ready'
      ? { phase: 'Running', conditions: [cond('Ready', 'True')] }
      : state === 'crash'
        ? {
            phase: 'Running',
            containerStatuses: [
              { name: 'main', state: { waiting: { reason: 'CrashLoopBackOff' } } },
            ],
          }
        : { phase: 'Pending' };
  return obj('v1', 'Pod', { metadata: { name, namespace: ns, labels: { app } }, status });
}

export const idOf = (o: KubeObject): ObjectIdentifier => identifierOf(o);

/** Runs a poll in the background, collecting its events; `stop` aborts and waits for the end. */
export function startPoll(
  reader: ClusterReader,
  ids: readonly ObjectIdentifier[],
  options: StatusPollerOptions = {},
  clock = new ManualClock(),
) {
  const events: PollEvent[] = [];
  const ac = new AbortController();
  const iterable = createStatusPoller(reader, options).poll(ids, {
    pollInterval: INTERVAL,
    signal: ac.signal,
    clock,
  });
  const done = (async () => {
    for await (const e of iterable) events.push(e);
  })();
  return {
    events,
    clock,
    ac,
    updates: (): ResourceStatus[] =>
      events.flatMap((e) => (e.type === 'ResourceUpdate' ? [e.resource] : [])),
    /** One more cycle. */
    tick: () => clock.advance(INTERVAL),
    stop: async () => {
      ac.abort();
      await done;
    },
    done,
  };
}
