/**
 * Issue 5, polling: API requests per cycle for 1,000 objects of 5 kinds in 10 namespaces,
 * through the caching reader and the direct reader, counted by the in-memory cluster (each
 * get/list it serves is one API request). The caching reader must make exactly one LIST per
 * distinct (GroupKind, namespace), generated kinds included; anything else fails the bench.
 */
import type { Clock } from '../../src/core/clock.js';
import {
  cacheScopes,
  createCachingClusterReader,
  createDirectClusterReader,
  createMemoryClusterReader,
  createStatusPoller,
  identifierOf,
  type ClusterReader,
  type ClusterReaderFactory,
  type KubeObject,
  type MemoryClusterReader,
  type ObjectIdentifier,
  type ResourceStatus,
} from '../../src/status/index.js';
import { stats, type Stats } from '../lib/measure.js';

export const NAMESPACES = 10;
const PER_KIND_PER_NAMESPACE = 20;
export const CYCLES = 5;

const ready = [{ type: 'Ready', status: 'True' }];

/**
 * Per namespace: 20 each of Deployment (2 replicas, its ReplicaSet and 2 Pods), StatefulSet
 * (1 Pod), Service, ConfigMap and a custom resource: 1,000 identifiers, 1,800 objects in all.
 */
export function pollingCluster(): { objects: KubeObject[]; ids: ObjectIdentifier[] } {
  const objects: KubeObject[] = [];
  const ids: ObjectIdentifier[] = [];
  const add = (o: KubeObject, polled: boolean): void => {
    objects.push(o);
    if (polled) ids.push(identifierOf(o));
  };
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = `ns-${n}`;
    for (let i = 0; i < PER_KIND_PER_NAMESPACE; i++) {
      const app = `app-${i}`;
      const db = `db-${i}`;
      const meta = (name: string, labels?: Record<string, string>): Record<string, unknown> => ({
        name,
        namespace,
        ...(labels ? { labels } : {}),
      });
      const pod = (name: string, label: string): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta(name, { app: label }),
        status: { phase: 'Running', conditions: ready },
      });
      add(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { ...meta(app), generation: 1 },
          spec: { replicas: 2, selector: { matchLabels: { app } } },
          status: {
            observedGeneration: 1,
            replicas: 2,
            updatedReplicas: 2,
            readyReplicas: 2,
            availableReplicas: 2,
            conditions: [{ type: 'Available', status: 'True' }],
          },
        },
        true,
      );
      add(
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: meta(`${app}-rs`, { app }),
          spec: { replicas: 2, selector: { matchLabels: { app } } },
          status: { replicas: 2, fullyLabeledReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
        },
        false,
      );
      add(pod(`${app}-a`, app), false);
      add(pod(`${app}-b`, app), false);
      add(
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: meta(db),
          spec: { replicas: 1, selector: { matchLabels: { app: db } } },
          status: { replicas: 1, readyReplicas: 1, currentReplicas: 1 },
        },
        true,
      );
      add(pod(`${db}-0`, db), false);
      add({ apiVersion: 'v1', kind: 'Service', metadata: meta(app) }, true);
      add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(app), data: { k: 'v' } }, true);
      add(
        {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: meta(app),
          status: { conditions: ready },
        },
        true,
      );
    }
  }
  return { objects, ids };
}

export interface PollingFigures {
  reader: 'caching' | 'direct';
  /** Requests of each cycle, in order. */
  cycles: { list: number; get: number; ms: number }[];
  /** Statuses of the first cycle's updates. */
  statuses: Record<string, number>;
  cycleMs: Stats;
}

/** A clock whose sleeps end on the next turn: cycles run back to back. */
const backToBack: Clock = {
  now: () => Date.now(),
  sleep: (_ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      setImmediate(resolve);
    }),
};

/**
 * Polls `ids` for CYCLES cycles through `factory`, reading the request counters at each cycle
 * boundary (the reader's sync, which the poller calls first thing in every cycle).
 */
export async function pollCycles(
  memory: MemoryClusterReader,
  ids: readonly ObjectIdentifier[],
  reader: PollingFigures['reader'],
): Promise<PollingFigures> {
  const make: ClusterReaderFactory =
    reader === 'caching' ? createCachingClusterReader : createDirectClusterReader;
  const ac = new AbortController();
  const marks: { list: number; get: number; t: number }[] = [];
  const factory: ClusterReaderFactory = (inner, idList) => {
    const r = make(inner, idList);
    const counted: ClusterReader = {
      get: (id, signal) => r.get(id, signal),
      list: (gk, ns, sel, signal) => r.list(gk, ns, sel, signal),
      async sync(signal) {
        marks.push({ ...memory.counts, t: performance.now() });
        if (marks.length > CYCLES) {
          ac.abort();
          throw new DOMException('enough cycles', 'AbortError');
        }
        await r.sync?.(signal);
      },
    };
    return counted;
  };
  memory.resetCounts();
  const updates: ResourceStatus[] = [];
  const poll = createStatusPoller(memory, { clusterReaderFactory: factory }).poll(ids, {
    pollInterval: 1,
    signal: ac.signal,
    clock: backToBack,
  });
  for await (const e of poll) {
    if (e.type === 'Error') throw e.error;
    if (e.type === 'ResourceUpdate') updates.push(e.resource);
  }
  const cycles = marks.slice(1).map((m, i) => ({
    list: m.list - marks[i]!.list,
    get: m.get - marks[i]!.get,
    ms: m.t - marks[i]!.t,
  }));
  const statuses: Record<string, number> = {};
  for (const u of updates) statuses[u.status] = (statuses[u.status] ?? 0) + 1;
  return { reader, cycles, statuses, cycleMs: stats(cycles.map((c) => c.ms)) };
}

/** Both readers over the same cluster; throws unless the caching reader hits its goal exactly. */
export async function pollingFigures(): Promise<{
  ids: number;
  objects: number;
  pairs: number;
  caching: PollingFigures;
  direct: PollingFigures;
}> {
  const { objects, ids } = pollingCluster();
  const memory = createMemoryClusterReader(objects);
  const pairs = cacheScopes(ids).length;
  const caching = await pollCycles(memory, ids, 'caching');
  const direct = await pollCycles(memory, ids, 'direct');
  for (const f of [caching, direct]) {
    if (f.cycles.length !== CYCLES) {
      throw new Error(`${f.reader} reader: ${f.cycles.length} cycles ran, not ${CYCLES}`);
    }
    if (f.statuses.Current !== ids.length) {
      throw new Error(`${f.reader} reader: first cycle gave ${JSON.stringify(f.statuses)}`);
    }
  }
  const off = caching.cycles.find((c) => c.list !== pairs || c.get !== 0);
  if (off) {
    throw new Error(
      `caching reader: a cycle made ${off.list} LISTs and ${off.get} GETs; the goal is exactly ${pairs} LISTs (one per GroupKind × namespace) and no GET`,
    );
  }
  return { ids: ids.length, objects: objects.length, pairs, caching, direct };
}
