import { describe, expect, it } from 'vitest';
import { flushMicrotasks, ManualClock } from '../core/clock.js';
import { createMemoryClusterReader } from './memory.js';
import type { MemoryClusterReader } from './memory.js';
import { createStatusPoller, resourceStatusEqual } from './poller.js';
import type { ClusterReader } from './reader.js';
import type { StatusReader } from './status-readers.js';
import type { KubeObject, PollEvent, ResourceStatus } from './types.js';
import {
  cond,
  deployment,
  idOf,
  INTERVAL,
  obj,
  pod,
  replicaSet,
  startPoll,
} from './test-helpers.js';

describe('StatusPoller: events on change only', () => {
  it('Service IP, IP, Current and Deployment IP, Current give 4 updates (kstatus engine_test)', async () => {
    const svc = obj('v1', 'Service', { spec: { type: 'LoadBalancer' } });
    const dep = deployment('ns', 'web', 1);
    const memory = createMemoryClusterReader([svc, dep]);
    const run = startPoll(memory, [idOf(svc), idOf(dep)]);
    await flushMicrotasks();
    memory.set(deployment('ns', 'web', 2));
    await run.tick();
    memory.set(obj('v1', 'Service', { spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1' } }));
    await run.tick();
    await run.tick();
    await run.stop();
    expect(run.updates().map((u) => `${u.identifier.kind} ${u.status}`)).toEqual([
      'Service InProgress',
      'Deployment InProgress',
      'Deployment Current',
      'Service Current',
    ]);
    expect(run.events.filter((e) => e.type === 'Sync')).toHaveLength(1);
    expect(run.events[2]).toEqual({ type: 'Sync' });
  });

  it('a new generation is an event even when the status is the same; resourceVersion is not', async () => {
    const cm = obj('v1', 'ConfigMap', { metadata: { generation: 1, resourceVersion: '1' } });
    const memory = createMemoryClusterReader([cm]);
    const run = startPoll(memory, [idOf(cm)]);
    await flushMicrotasks();
    memory.set(obj('v1', 'ConfigMap', { metadata: { generation: 1, resourceVersion: '2' } }));
    await run.tick();
    memory.set(obj('v1', 'ConfigMap', { metadata: { generation: 2, resourceVersion: '3' } }));
    await run.tick();
    await run.stop();
    expect(
      run.updates().map((u) => (u.resource?.metadata as { generation: number }).generation),
    ).toEqual([1, 2]);
  });

  it('NotFound is a status: missing, then created, then deleted', async () => {
    const memory = createMemoryClusterReader();
    const cm = obj('v1', 'ConfigMap');
    const run = startPoll(memory, [idOf(cm)]);
    await flushMicrotasks();
    memory.set(cm);
    await run.tick();
    memory.delete(idOf(cm));
    await run.tick();
    await run.stop();
    expect(run.updates().map((u) => [u.status, u.message, u.resource === undefined])).toEqual([
      ['NotFound', 'Resource not found', true],
      ['Current', 'Resource is always ready', false],
      ['NotFound', 'Resource not found', true],
    ]);
  });

  it('per-object problems are Unknown statuses with the error, not Error events', async () => {
    const bad = obj('v1', 'Pod', { metadata: { name: 'bad' }, status: { phase: 'Unknown' } });
    const noSelector = obj('apps/v1', 'Deployment', { metadata: { name: 'nosel' }, spec: {} });
    const denied = obj('example.com/v1', 'Widget', { metadata: { name: 'w' } });
    const memory = createMemoryClusterReader([bad, noSelector, denied]);
    memory.failList(
      { group: 'example.com', kind: 'Widget' },
      'ns',
      new Error('widgets is forbidden'),
    );
    const run = startPoll(memory, [idOf(bad), idOf(noSelector), idOf(denied)]);
    await flushMicrotasks();
    await run.stop();
    expect(
      run
        .updates()
        .map((u) => [u.identifier.name, u.status, u.message, u.error, u.resource !== undefined]),
    ).toEqual([
      ['bad', 'Unknown', '', 'unknown phase Unknown', true],
      ['nosel', 'Unknown', '', 'no selector found', true],
      ['w', 'Unknown', '', 'widgets is forbidden', false],
    ]);
    expect(run.events.some((e) => e.type === 'Error')).toBe(false);
  });
});

describe('StatusPoller: generated resources', () => {
  function cluster(): { memory: MemoryClusterReader; dep: KubeObject; sts: KubeObject } {
    const dep = deployment('ns', 'web', 1);
    const sts = obj('apps/v1', 'StatefulSet', {
      metadata: { name: 'db' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'db' } } },
      status: { replicas: 3, readyReplicas: 1 },
    });
    const memory = createMemoryClusterReader([
      dep,
      replicaSet('ns', 'web-2', 'web', 1),
      replicaSet('ns', 'web-1', 'web', 0, 0),
      pod('ns', 'web-2-b', 'web', 'crash'),
      pod('ns', 'web-2-a', 'web', 'ready'),
      pod('other', 'web-x', 'web', 'crash'), // another namespace: not selected
      sts,
      pod('ns', 'db-0', 'db', 'ready'),
      pod('ns', 'db-1', 'db', 'crash'),
      pod('ns', 'db-2', 'db', 'crash'),
    ]);
    return { memory, dep, sts };
  }

  it('Deployment → ReplicaSets → Pods by selector; failed pods escalate the ReplicaSet, not the Deployment', async () => {
    const { memory, dep, sts } = cluster();
    const run = startPoll(memory, [idOf(dep), idOf(sts)]);
    await flushMicrotasks();
    await run.stop();
    const [d, s] = run.updates();
    expect([d!.status, d!.message]).toEqual(['InProgress', 'Available: 1/2']);
    expect(d!.generatedResources.map((r) => [r.identifier.name, r.status, r.message])).toEqual([
      ['web-1', 'Current', 'ReplicaSet is available. Replicas: 0'],
      ['web-2', 'Failed', '1 pods have failed'],
    ]);
    expect(
      d!.generatedResources[1]!.generatedResources.map((p) => [p.identifier.name, p.status]),
    ).toEqual([
      ['web-2-a', 'Current'],
      ['web-2-b', 'Failed'],
    ]);
    expect([s!.status, s!.message]).toEqual(['Failed', '2 pods have failed']);
    expect(s!.generatedResources).toHaveLength(3);
  });

  it('a controller that is Current is not escalated by a failed pod', async () => {
    const rs = replicaSet('ns', 'solo', 'solo', 1, 1);
    const memory = createMemoryClusterReader([rs, pod('ns', 'solo-a', 'solo', 'crash')]);
    const run = startPoll(memory, [idOf(rs)]);
    await flushMicrotasks();
    await run.stop();
    expect(run.updates()[0]).toMatchObject({
      status: 'Current',
      message: 'ReplicaSet is available. Replicas: 1',
    });
  });

  it('DaemonSet → Pods are followed and shown, but (as in kstatus) never escalate its status', async () => {
    const ds = obj('apps/v1', 'DaemonSet', {
      metadata: { name: 'agent', namespace: 'ns', generation: 1 },
      spec: { selector: { matchLabels: { app: 'agent' } } },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: 1,
        numberReady: 1,
      },
    });
    const memory = createMemoryClusterReader([
      ds,
      pod('ns', 'agent-a', 'agent', 'ready'),
      pod('ns', 'agent-b', 'agent', 'crash'),
    ]);
    const run = startPoll(memory, [idOf(ds)]);
    await flushMicrotasks();
    await run.stop();
    const [d] = run.updates();
    expect([d!.status, d!.message]).toEqual(['InProgress', 'Available: 1/2']);
    expect(d!.generatedResources.map((p) => [p.identifier.name, p.status])).toEqual([
      ['agent-a', 'Current'],
      ['agent-b', 'Failed'],
    ]);
  });

  it('a change in a generated resource is an event', async () => {
    const { memory, dep } = cluster();
    const run = startPoll(memory, [idOf(dep)]);
    await flushMicrotasks();
    memory.set(pod('ns', 'web-2-b', 'web', 'starting'));
    await run.tick();
    await run.tick();
    await run.stop();
    const rsStatuses = run.updates().map((u) => u.generatedResources[1]!.message);
    expect(rsStatuses).toEqual(['1 pods have failed', 'Available: 1/2']);
  });
});

describe('StatusPoller: errors and options', () => {
  it('an abort inside a read ends the poll silently', async () => {
    const memory = createMemoryClusterReader([obj('v1', 'ConfigMap', { metadata: { name: 'a' } })]);
    const ac = new AbortController();
    const reader: ClusterReader = {
      get: (id, signal) => memory.get(id, signal),
      list: (gk, ns, sel, signal) => {
        ac.abort();
        return memory.list(gk, ns, sel, signal);
      },
    };
    const events: PollEvent[] = [];
    for await (const e of createStatusPoller(reader).poll(
      [{ group: '', kind: 'ConfigMap', namespace: 'ns', name: 'a' }],
      {
        pollInterval: INTERVAL,
        signal: ac.signal,
        clock: new ManualClock(),
      },
    )) {
      events.push(e);
    }
    expect(events).toEqual([]);
  });

  it('a failing sync is one Error event, then the end', async () => {
    const memory = createMemoryClusterReader();
    const failing = (): ClusterReader => ({
      get: (id) => memory.get(id),
      list: (gk, ns) => memory.list(gk, ns),
      sync: () => Promise.reject(new Error('apiserver unreachable')),
    });
    const run = startPoll(memory, [{ group: '', kind: 'Pod', namespace: 'ns', name: 'p' }], {
      clusterReaderFactory: failing,
    });
    await run.done;
    expect(run.events).toEqual([{ type: 'Error', error: new Error('apiserver unreachable') }]);
  });

  it('a failing factory is an Error event', async () => {
    const run = startPoll(createMemoryClusterReader(), [], {
      clusterReaderFactory: () => {
        throw new Error('no mapper');
      },
    });
    await run.done;
    expect(run.events).toEqual([
      { type: 'Error', error: new Error('error creating new ClusterReader: no mapper') },
    ]);
  });

  it('a namespaced kind without a namespace is an Error event when the scope is known', async () => {
    const run = startPoll(
      createMemoryClusterReader(),
      [{ group: 'apps', kind: 'Deployment', namespace: '', name: 'd' }],
      {
        scopeOf: (gk) => (gk.kind === 'Namespace' ? 'Cluster' : 'Namespaced'),
      },
    );
    await run.done;
    expect(run.events).toHaveLength(1);
    expect(run.events[0]).toMatchObject({
      type: 'Error',
      error: {
        code: 'FATHOM_CONFIG_INVALID',
        message: 'resource Deployment.apps d is namespace scoped, but namespace is not set',
      },
    });
  });

  it('rejects a poll interval that is not positive', () => {
    const poller = createStatusPoller(createMemoryClusterReader());
    expect(() => poller.poll([], { pollInterval: 0, clock: new ManualClock() })).toThrow(
      /poll interval must be a positive duration/,
    );
  });

  it('an empty set still syncs', async () => {
    const run = startPoll(createMemoryClusterReader(), []);
    await flushMicrotasks();
    await run.stop();
    expect(run.events).toEqual([{ type: 'Sync' }]);
  });

  it('custom status readers come first, and compute options reach the default readers', async () => {
    const custom: StatusReader = {
      supports: (gk) => gk.kind === 'Widget',
      readStatus: (_r, identifier) =>
        Promise.resolve({
          identifier,
          status: 'Failed',
          message: 'custom',
          generatedResources: [],
        }),
      readStatusForObject: () => Promise.reject(new Error('unused')),
    };
    const widget = obj('example.com/v1', 'Widget');
    const gadget = obj('example.com/v1', 'Gadget');
    const run = startPoll(
      createMemoryClusterReader([widget, gadget]),
      [idOf(widget), idOf(gadget)],
      {
        statusReaders: [custom],
        compute: { freshGuard: 'status' },
      },
    );
    await flushMicrotasks();
    await run.stop();
    expect(run.updates().map((u) => [u.identifier.kind, u.status, u.message])).toEqual([
      ['Widget', 'Failed', 'custom'],
      ['Gadget', 'InProgress', 'Resource has no status yet'],
    ]);
  });

  it('the Pod scheduling window uses the poll clock', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 5));
    const p = obj('v1', 'Pod', {
      metadata: { creationTimestamp: '2026-01-01T00:00:00Z' },
      status: { phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable')] },
    });
    const run = startPoll(createMemoryClusterReader([p]), [idOf(p)], {}, clock);
    await flushMicrotasks();
    // Created at 0 s, first read at 5 s, then every 2 s: 15 s is reached at the fifth tick.
    for (let i = 0; i < 4; i++) await run.tick();
    expect(run.updates().map((u) => u.status)).toEqual(['InProgress']);
    await run.tick();
    await run.stop();
    expect(run.updates().map((u) => u.status)).toEqual(['InProgress', 'Failed']);
  });
});

describe('resourceStatusEqual', () => {
  const base: ResourceStatus = {
    identifier: { group: '', kind: 'Pod', namespace: 'a', name: 'p' },
    status: 'Current',
    message: 'm',
    generatedResources: [],
  };
  it('compares status, message, generation (missing is 0), error and generated resources', () => {
    expect(resourceStatusEqual(undefined, base)).toBe(false);
    expect(resourceStatusEqual(base, { ...base })).toBe(true);
    expect(resourceStatusEqual(base, { ...base, message: 'n' })).toBe(false);
    expect(resourceStatusEqual(base, { ...base, resource: { metadata: { generation: 0 } } })).toBe(
      true,
    );
    expect(resourceStatusEqual(base, { ...base, resource: { metadata: { generation: 1 } } })).toBe(
      false,
    );
    expect(resourceStatusEqual(base, { ...base, error: 'x' })).toBe(false);
    expect(resourceStatusEqual(base, { ...base, generatedResources: [base] })).toBe(false);
    expect(
      resourceStatusEqual(
        { ...base, generatedResources: [base] },
        { ...base, generatedResources: [{ ...base, status: 'Failed' }] },
      ),
    ).toBe(false);
  });
});
