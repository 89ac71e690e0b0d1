import { describe, expect, it } from 'vitest';
import { flushMicrotasks, ManualClock } from '../core/clock.js';
import { createMemoryClusterReader } from './memory.js';
import { createStatusPoller, type StatusPollerOptions } from './poller.js';
import type { ClusterReader } from './reader.js';
import { deployment, idOf, INTERVAL, obj } from './test-helpers.js';
import type { GroupKind, ObjectIdentifier } from './types.js';
import { identifiersOf, watchStatus, type WatchOptions, type WatchUpdate } from './watch.js';

/** Starts a watch in the background over `reader` with a ManualClock. */
function startWatch(
  reader: ClusterReader,
  ids: readonly ObjectIdentifier[],
  options: Partial<WatchOptions> = {},
  pollerOptions: StatusPollerOptions = {},
) {
  const clock = new ManualClock();
  const updates: WatchUpdate[] = [];
  let settled = false;
  const outcome = watchStatus(
    createStatusPoller(reader, pollerOptions),
    ids,
    { until: 'current', pollInterval: INTERVAL, clock, ...options },
    (u) => updates.push(u),
  ).finally(() => (settled = true));
  return { clock, updates, outcome, settled: () => settled };
}

describe('watchStatus', () => {
  it('stops as soon as the aggregate is Current, with every update seen', async () => {
    const memory = createMemoryClusterReader([deployment('shop', 'web', 0)]);
    const w = startWatch(memory, [idOf(deployment('shop', 'web', 0))]);
    await flushMicrotasks();
    expect(w.settled()).toBe(false);
    memory.set(deployment('shop', 'web', 1));
    await w.clock.advance(INTERVAL);
    expect(w.settled()).toBe(false);
    memory.set(deployment('shop', 'web', 2));
    await w.clock.advance(INTERVAL);
    const outcome = await w.outcome;
    expect(outcome).toMatchObject({
      end: 'reached',
      desired: 'Current',
      aggregate: 'Current',
      pending: 0,
      total: 1,
      elapsedMs: 2 * INTERVAL,
    });
    expect(w.updates.map((u) => [u.event.type, u.aggregate, u.at - w.updates[0]!.at])).toEqual([
      ['ResourceUpdate', 'InProgress', 0],
      ['Sync', 'InProgress', 0],
      ['ResourceUpdate', 'InProgress', INTERVAL],
      ['ResourceUpdate', 'Current', 2 * INTERVAL],
    ]);
    expect(w.clock.pending).toBe(0); // neither the poll nor the timeout is left sleeping
  });

  it('--until deleted waits for NotFound; an object not yet read counts as Unknown', async () => {
    const a = obj('v1', 'ConfigMap', { metadata: { name: 'a' } });
    const b = obj('v1', 'ConfigMap', { metadata: { name: 'b' } });
    const memory = createMemoryClusterReader([a, b]);
    const w = startWatch(memory, [idOf(a), idOf(b)], { until: 'deleted' });
    await flushMicrotasks();
    memory.delete(idOf(a));
    await w.clock.advance(INTERVAL);
    expect(w.settled()).toBe(false);
    memory.delete(idOf(b));
    await w.clock.advance(INTERVAL);
    const outcome = await w.outcome;
    expect(outcome).toMatchObject({ end: 'reached', desired: 'NotFound', aggregate: 'NotFound' });
    // The first update (a read, b not yet) is Unknown in aggregate; then a gone, b not yet.
    expect(w.updates.map((u) => u.aggregate)).toEqual([
      'Unknown',
      'InProgress',
      'InProgress',
      'InProgress',
      'NotFound',
    ]);
  });

  it('times out on the clock, counting what is not yet desired', async () => {
    const memory = createMemoryClusterReader([
      deployment('shop', 'web', 0),
      deployment('shop', 'api', 2),
    ]);
    const w = startWatch(
      memory,
      [idOf(deployment('shop', 'web', 0)), idOf(deployment('shop', 'api', 2))],
      { timeoutMs: 5000 },
    );
    await w.clock.advance(4999);
    expect(w.settled()).toBe(false);
    await w.clock.advance(1);
    const outcome = await w.outcome;
    expect(outcome).toMatchObject({ end: 'timeout', pending: 1, total: 2, elapsedMs: 5000 });
    expect(outcome.aggregate).toBe('InProgress');
    expect(w.clock.pending).toBe(0);
  });

  it('the signal (Ctrl-C) ends it as interrupted, with the latest statuses', async () => {
    const memory = createMemoryClusterReader([deployment('shop', 'web', 1)]);
    const ac = new AbortController();
    const w = startWatch(memory, [idOf(deployment('shop', 'web', 1))], { signal: ac.signal });
    await flushMicrotasks();
    ac.abort();
    const outcome = await w.outcome;
    expect(outcome.end).toBe('interrupted');
    expect(outcome.observation.statuses.map((s) => s.message)).toEqual(['Available: 1/2']);
  });

  it('forever never stops by itself, even when everything is Current', async () => {
    const memory = createMemoryClusterReader([deployment('shop', 'web', 2)]);
    const ac = new AbortController();
    const w = startWatch(memory, [idOf(deployment('shop', 'web', 2))], {
      until: 'forever',
      signal: ac.signal,
    });
    await w.clock.advance(10 * INTERVAL);
    expect(w.settled()).toBe(false);
    ac.abort();
    expect(await w.outcome).toMatchObject({ end: 'interrupted', aggregate: 'Current' });
  });

  it('a fatal poll error ends it with the error', async () => {
    const failing: ClusterReader = {
      get: () => Promise.resolve(undefined),
      list: () => Promise.resolve([]),
      sync: () => Promise.reject(new Error('cannot reach the API server')),
    };
    const w = startWatch(
      createMemoryClusterReader(),
      [idOf(deployment('shop', 'web', 2))],
      {},
      { clusterReaderFactory: () => failing },
    );
    const outcome = await w.outcome;
    expect(outcome.end).toBe('error');
    expect(outcome.error?.message).toBe('cannot reach the API server');
    expect(w.updates.map((u) => u.event.type)).toEqual(['Error']);
  });

  it('an empty set is reached at once, without polling', async () => {
    const memory = createMemoryClusterReader();
    const outcome = await startWatch(memory, []).outcome;
    expect(outcome).toMatchObject({ end: 'reached', total: 0 });
    expect(memory.counts).toEqual({ get: 0, list: 0 });
  });
});

describe('identifiersOf', () => {
  const scopes: Record<string, 'Namespaced' | 'Cluster'> = {
    '/Namespace': 'Cluster',
    'apps/Deployment': 'Namespaced',
  };
  const scopeOf = (gk: GroupKind) => Promise.resolve(scopes[`${gk.group}/${gk.kind}`]);

  it("keeps an object's own namespace, defaults the rest, and leaves cluster kinds without", async () => {
    const ids = await identifiersOf(
      [
        obj('apps/v1', 'Deployment', { metadata: { name: 'web', namespace: 'shop' } }),
        obj('apps/v1', 'Deployment', { metadata: { name: 'api', namespace: undefined } }),
        obj('v1', 'Namespace', { metadata: { name: 'shop', namespace: 'ignored' } }),
        obj('example.com/v1', 'Widget', { metadata: { name: 'w', namespace: undefined } }),
        obj('apps/v1', 'Deployment', { metadata: { name: 'web', namespace: 'shop' } }),
      ],
      { defaultNamespace: 'dflt', scopeOf },
    );
    expect(ids).toEqual([
      { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
      { group: 'apps', kind: 'Deployment', namespace: 'dflt', name: 'api' },
      { group: '', kind: 'Namespace', namespace: '', name: 'shop' },
      { group: 'example.com', kind: 'Widget', namespace: 'dflt', name: 'w' },
    ]);
  });
});
