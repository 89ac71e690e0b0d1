import { describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../core/clock.js';
import { createMemoryClusterReader } from './memory.js';
import type { MemoryClusterReader } from './memory.js';
import { createDirectClusterReader } from './reader.js';
import type { KubeObject, ObjectIdentifier } from './types.js';
import { deployment, idOf, INTERVAL, obj, pod, replicaSet, startPoll } from './test-helpers.js';

describe('StatusPoller: request counts', () => {
  /** 1,000 objects of 5 kinds in 10 namespaces, with 2 pods behind each Deployment and StatefulSet. */
  function bigCluster(): { memory: MemoryClusterReader; ids: ObjectIdentifier[] } {
    const objects: KubeObject[] = [];
    const ids: ObjectIdentifier[] = [];
    for (let n = 0; n < 10; n++) {
      const ns = `ns-${n}`;
      for (let i = 0; i < 20; i++) {
        const name = `app-${i}`;
        const dep = deployment(ns, name, 2);
        const sts = obj('apps/v1', 'StatefulSet', {
          metadata: { name: `db-${i}`, namespace: ns },
          spec: { replicas: 1, selector: { matchLabels: { app: `db-${i}` } } },
          status: { replicas: 1, readyReplicas: 1, currentReplicas: 1 },
        });
        const svc = obj('v1', 'Service', { metadata: { name, namespace: ns } });
        const cm = obj('v1', 'ConfigMap', { metadata: { name, namespace: ns } });
        const cr = obj('example.com/v1', 'Widget', { metadata: { name, namespace: ns } });
        for (const o of [dep, sts, svc, cm, cr]) {
          objects.push(o);
          ids.push(idOf(o));
        }
        objects.push(replicaSet(ns, `${name}-rs`, name, 2));
        objects.push(pod(ns, `${name}-a`, name, 'ready'), pod(ns, `${name}-b`, name, 'ready'));
        objects.push(pod(ns, `db-${i}-0`, `db-${i}`, 'ready'));
      }
    }
    return { memory: createMemoryClusterReader(objects), ids };
  }

  it('the caching reader makes exactly one LIST per (GroupKind, namespace) per cycle, generated kinds included', async () => {
    const { memory, ids } = bigCluster();
    expect(ids).toHaveLength(1000);
    const run = startPoll(memory, ids);
    await flushMicrotasks();
    // Deployment, ReplicaSet, Pod, StatefulSet, Service, ConfigMap, Widget in each of 10 namespaces.
    expect(memory.counts).toEqual({ get: 0, list: 70 });
    expect(run.updates()).toHaveLength(1000);
    expect(run.updates().every((u) => u.status === 'Current')).toBe(true);
    await run.tick();
    await run.tick();
    expect(memory.counts).toEqual({ get: 0, list: 210 });
    expect(run.updates()).toHaveLength(1000); // nothing changed
    await run.stop();
  });

  it('the direct reader GETs every object and LISTs per controller', async () => {
    const { memory, ids } = bigCluster();
    const run = startPoll(memory, ids, { clusterReaderFactory: createDirectClusterReader });
    await flushMicrotasks();
    await run.stop();
    // 200 Deployments: a ReplicaSet LIST each, then a Pod LIST per ReplicaSet; 200 StatefulSets: a Pod LIST each.
    expect(memory.counts).toEqual({ get: 1000, list: 600 });
  });

  it('waits pollInterval between cycle starts, and an abort ends the poll at once', async () => {
    const { memory, ids } = bigCluster();
    const run = startPoll(memory, ids.slice(0, 5));
    await flushMicrotasks();
    expect(run.clock.pendingDelays()).toEqual([INTERVAL]);
    await run.clock.advance(INTERVAL - 1);
    expect(memory.counts.list).toBe(7);
    await run.clock.advance(1);
    expect(memory.counts.list).toBe(14);
    run.ac.abort();
    await run.done;
    await run.clock.advance(INTERVAL * 3);
    expect(memory.counts.list).toBe(14);
    expect(run.clock.pending).toBe(0);
  });
});
