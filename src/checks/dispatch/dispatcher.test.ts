import { describe, expect, it } from 'vitest';
import type { CheckConfig, RunnerStats } from '../types.js';
import { configResponseJson, type NodeStatus } from '../wire.js';
import { Dispatcher, type DispatcherOptions } from './dispatcher.js';
import type { Strategy } from './placement.js';

const T0 = Date.UTC(2026, 11, 5, 2, 0, 0);

function cfg(name: string, extra: Partial<CheckConfig> = {}): CheckConfig {
  return {
    name,
    type: 'tcp',
    intervalMs: 15_000,
    timeoutMs: 10_000,
    instances: [{ host: 'h', port: 1 }],
    source: `test:${name}`,
    digest: `d-${name}`,
    ...extra,
  };
}

function dispatcher(strategy: Strategy = 'count', more: Partial<DispatcherOptions> = {}) {
  const moved: string[] = [];
  const d = new Dispatcher({
    strategy,
    nodeExpirationMs: 30_000,
    unscheduledThresholdMs: 60_000,
    rebalancePeriodMs: 600_000,
    minImprovementPercent: 10,
    checkIds: (c) => c.instances.map((_, i) => `${c.name}:${i}`),
    random: () => 0,
    observer: { moved: (ms) => moved.push(...ms.map((m) => `${m.digest}:${m.from}>${m.to}`)) },
    ...more,
  });
  return { d, moved };
}

const status = (last_change: number, more: Partial<NodeStatus> = {}): NodeStatus => ({
  last_change,
  ...more,
});

/** Where each config runs: node → sorted config names. */
function layout(d: Dispatcher): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of d.stateResponse().nodes) out[n.name] = n.configs.map((c) => c.config.name).sort();
  return out;
}

/** An agent that polls as fathom's does: status with what it has, then configs when told. */
function poll(d: Dispatcher, node: string, have: { last: number }, now: number): string[] {
  if (!d.postStatus(node, status(have.last), '', now)) {
    const r = d.configsFor(node)!;
    have.last = r.last_change;
  }
  return d.configsFor(node)!.configs.map((c) => c.name);
}

describe('registration and the up-to-date rule', () => {
  it('a new node with last_change 0 is up to date without fetching', () => {
    const { d } = dispatcher();
    d.active = true;
    expect(d.postStatus('a', status(0), '10.0.0.1', T0)).toBe(true);
    expect(d.configsFor('a')).toEqual({ last_change: 0, configs: [] });
    expect(d.state.nodes.get('a')?.clientIP).toBe('10.0.0.1');
  });

  it('is stale after a change, up to date again with the last_change it was given', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('web'), T0 + 5);
    expect(d.postStatus('a', status(0), '', T0 + 10)).toBe(false);
    const r = d.configsFor('a')!;
    expect(r.configs.map((c) => c.name)).toEqual(['web']);
    expect(r.last_change).toBe((T0 + 5) * 1e6);
    expect(d.postStatus('a', status(r.last_change), '', T0 + 20)).toBe(true);
    expect(d.postStatus('a', status(r.last_change - 1024), '', T0 + 30)).toBe(false);
  });

  it('answers a -1 heartbeat as up to date and only refreshes the heartbeat', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('web'), T0);
    expect(d.postStatus('a', status(-1), '', T0 + 25_000)).toBe(true);
    expect(d.state.nodes.get('a')?.heartbeat).toBe(T0 + 25_000);
  });

  it('lies during warmup: a node with other configs is told it is up to date', () => {
    const { d } = dispatcher();
    expect(d.postStatus('a', status(123456), '', T0)).toBe(true);
    d.activate([cfg('web')], T0 + 30_000);
    expect(d.postStatus('a', status(123456), '', T0 + 30_001)).toBe(false);
    expect(d.stateResponse().warmup).toBe(false);
  });

  it('answers configs only for registered nodes', () => {
    const { d } = dispatcher();
    expect(d.configsFor('ghost')).toBeUndefined();
  });

  it('gives distinct stamps to changes within one millisecond, exact in JSON', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('x'), T0);
    const first = d.configsFor('a')!.last_change;
    d.schedule(cfg('y'), T0);
    const second = d.configsFor('a')!.last_change;
    expect(second).toBeGreaterThan(first);
    const json = configResponseJson(d.configsFor('a')!);
    const written = /"last_change":(\d+)/.exec(json)![1]!;
    expect(BigInt(written)).toBe(BigInt(second));
    expect(JSON.parse(json).last_change).toBe(second);
  });
});

describe('placement', () => {
  it('count: the node with fewest configs, ties to the first name', () => {
    const { d } = dispatcher('count');
    d.active = true;
    for (const n of ['c', 'a', 'b']) d.postStatus(n, status(0), '', T0);
    for (const name of ['w1', 'w2', 'w3', 'w4']) d.schedule(cfg(name), T0);
    expect(layout(d)).toEqual({ a: ['w1', 'w4'], b: ['w2'], c: ['w3'] });
  });

  it('random strategies pick with the injected randomness', () => {
    const picks = [0.99, 0.0, 0.5];
    const { d } = dispatcher('busyness', { random: () => picks.shift()! });
    d.active = true;
    for (const n of ['a', 'b', 'c']) d.postStatus(n, status(0), '', T0);
    for (const name of ['w1', 'w2', 'w3']) d.schedule(cfg(name), T0);
    expect(layout(d)).toEqual({ a: ['w2'], b: ['w3'], c: ['w1'] });
  });

  it('leaves a config dangling with no node, and never dispatches an excluded one', () => {
    const { d } = dispatcher();
    d.active = true;
    d.schedule(cfg('lonely'), T0);
    d.schedule(cfg('skip', { exclude: true }), T0);
    expect(d.stateResponse().dangling.map((c) => c.name)).toEqual(['lonely']);
    expect(d.state.configs.has('d-skip')).toBe(false);
  });

  it('honours compatibility: restricted nodes first, exclude always subtracted', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('open', status(0), '', T0);
    d.postStatus('db', status(0, { check_compatibility: { include: ['postgres'] } }), '', T0);
    d.postStatus('nohttp', status(0, { check_compatibility: { exclude: ['http'] } }), '', T0);
    d.schedule(cfg('postgres'), T0);
    d.schedule(cfg('http'), T0);
    d.schedule(cfg('redis'), T0);
    // postgres: db and nohttp are restricted and accept it; db has fewer? both 0 → db by name.
    // http: no restricted node accepts it → the unrestricted `open`.
    // redis: nohttp accepts it (empty include) → a restricted node.
    expect(layout(d)).toEqual({ db: ['postgres'], nohttp: ['redis'], open: ['http'] });
  });

  it('sends configs a node stops accepting back to dangling, re-dispatched at the next sweep', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.postStatus('b', status(0), '', T0);
    d.schedule(cfg('http'), T0);
    d.schedule(cfg('redis'), T0); // a: http, b: redis
    const before = d.configsFor('a')!.last_change;
    d.postStatus('a', status(before, { check_compatibility: { exclude: ['http'] } }), '', T0 + 1);
    expect(d.stateResponse().dangling.map((c) => c.name)).toEqual(['http']);
    expect(d.configsFor('a')!.last_change).toBeGreaterThan(before);
    // The same declaration again changes nothing.
    d.postStatus('a', status(-1, { check_compatibility: { exclude: ['http'] } }), '', T0 + 2);
    d.sweep(T0 + 3);
    expect(layout(d)).toEqual({ a: [], b: ['http', 'redis'] });
  });

  it('honours node selectors against the labels agents report', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0, { labels: { zone: 'x' } }), '', T0);
    d.postStatus('b', status(0, { labels: { zone: 'y' } }), '', T0);
    d.schedule(cfg('in-y', { nodeSelector: { zone: 'y' } }), T0);
    d.schedule(cfg('in-z', { nodeSelector: { zone: 'z' } }), T0);
    expect(layout(d)).toEqual({ a: [], b: ['in-y'] });
    expect(d.stateResponse().dangling.map((c) => c.name)).toEqual(['in-z']);
  });

  it('serves endpoints checks only to their node, with last_change 0', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('ep', { node: 'b' }), T0);
    expect(d.endpointsFor('b')).toEqual({ last_change: 0, configs: [cfg('ep', { node: 'b' })] });
    expect(d.endpointsFor('a').configs).toEqual([]);
    expect(layout(d)).toEqual({ a: [] });
    d.unschedule(cfg('ep', { node: 'b' }), T0);
    expect(d.allEndpoints()).toEqual([]);
  });
});

describe('unschedule, expiry, dangling', () => {
  it('unscheduling takes the config off its node, which must refetch', () => {
    const { d } = dispatcher();
    d.active = true;
    const have = { last: 0 };
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('web'), T0);
    expect(poll(d, 'a', have, T0 + 1)).toEqual(['web']);
    d.unschedule(cfg('web'), T0 + 2);
    expect(d.postStatus('a', status(have.last), '', T0 + 3)).toBe(false);
    expect(poll(d, 'a', have, T0 + 3)).toEqual([]);
    expect(d.state.idToDigest.size).toBe(0);
  });

  it('expires a node silent past the timeout and re-dispatches its configs to live nodes', () => {
    const { d } = dispatcher();
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.postStatus('b', status(0), '', T0);
    for (const n of ['w1', 'w2', 'w3', 'w4']) d.schedule(cfg(n), T0);
    d.postStatus('b', status(-1), '', T0 + 20_000);
    d.sweep(T0 + 30_000); // a's heartbeat is exactly at the deadline: kept
    expect(d.state.nodes.has('a')).toBe(true);
    d.sweep(T0 + 30_001);
    expect(layout(d)).toEqual({ b: ['w1', 'w2', 'w3', 'w4'] });
    expect(d.stateResponse().dangling).toEqual([]);
  });

  it('keeps configs dangling while no node is left, flags them once past the threshold', () => {
    const unscheduled: string[] = [];
    const { d } = dispatcher('count', {
      observer: { unscheduled: (c) => unscheduled.push(c.name) },
    });
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('web'), T0);
    d.sweep(T0 + 31_000);
    expect(d.stateResponse().dangling.map((c) => c.name)).toEqual(['web']);
    d.markUnscheduled(T0 + 31_000 + 59_999);
    expect(unscheduled).toEqual([]);
    d.markUnscheduled(T0 + 31_000 + 60_000);
    d.markUnscheduled(T0 + 31_000 + 90_000);
    expect(unscheduled).toEqual(['web']);
    d.postStatus('b', status(0), '', T0 + 100_000);
    d.sweep(T0 + 100_000);
    expect(layout(d)).toEqual({ b: ['web'] });
  });

  it('an expired node that comes back starts empty and refetches', () => {
    const { d } = dispatcher();
    d.active = true;
    const have = { last: 0 };
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('web'), T0);
    expect(poll(d, 'a', have, T0)).toEqual(['web']);
    d.postStatus('b', status(0), '', T0 + 30_000);
    d.sweep(T0 + 30_001);
    expect(layout(d)).toEqual({ b: ['web'] });
    expect(poll(d, 'a', have, T0 + 40_000)).toEqual([]);
  });
});

const stats = (avg: number, samples: number, failed = false): RunnerStats => ({
  AverageExecutionTime: avg,
  MetricSamples: samples,
  HistogramBuckets: 0,
  Events: 0,
  IsClusterCheck: true,
  LastExecFailed: failed,
});

describe('rebalancing through the dispatcher', () => {
  it('busyness moves the heaviest config off the busiest node and reports the move', () => {
    const { d } = dispatcher('busyness', { random: () => 0 });
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.postStatus('b', status(0), '', T0);
    for (const n of ['w1', 'w2', 'w3']) d.schedule(cfg(n), T0); // random 0 → all on a
    d.postStatus(
      'a',
      status(-1, { stats: { 'w1:0': stats(0, 300), 'w2:0': stats(0, 100), 'w3:0': stats(0, 50) } }),
      '',
      T0 + 1,
    );
    const moves = d.rebalance(false, T0 + 2);
    expect(moves).toEqual([
      {
        digest: 'd-w1',
        check_name: 'w1',
        check_weight: 300,
        source_node_name: 'a',
        source_diff: 225,
        dest_node_name: 'b',
        dest_diff: -225,
      },
    ]);
    expect(layout(d)).toEqual({ a: ['w2', 'w3'], b: ['w1'] });
  });

  it('count has nothing to rebalance; isolate answers the original reasons', () => {
    const { d } = dispatcher('count');
    d.active = true;
    d.postStatus('a', status(0), '', T0);
    d.schedule(cfg('w1'), T0);
    expect(d.rebalance(true, T0)).toEqual([]);
    expect(d.isolateCheck('nope:0', T0)).toEqual({
      check_id: 'nope:0',
      check_node: '',
      is_isolated: false,
      reason: 'Unable to find check',
    });
    expect(d.isolateCheck('w1:0', T0)).toEqual({
      check_id: 'w1:0',
      check_node: 'a',
      is_isolated: false,
      reason: 'No other runners available',
    });
    d.postStatus('b', status(0), '', T0);
    d.schedule(cfg('w2'), T0);
    d.schedule(cfg('w3'), T0); // a: w1, w3; b: w2
    expect(d.isolateCheck('w1:0', T0)).toMatchObject({
      check_node: 'a',
      is_isolated: true,
      reason: '',
    });
    expect(layout(d)).toEqual({ a: ['w1'], b: ['w2', 'w3'] });
  });
});

describe('hashing', () => {
  const names = (n: number) =>
    Array.from({ length: n }, (_, i) => `node-${String(i).padStart(2, '0')}`);

  function cluster(nodes: readonly string[], configs: number) {
    const { d } = dispatcher('hashing');
    for (const n of nodes) d.postStatus(n, status(0), '', T0);
    d.activate(
      Array.from({ length: configs }, (_, i) => cfg(`c${i}`)),
      T0,
    );
    return d;
  }

  it('spreads within the load bound and moves about a fair share when a node joins', () => {
    const d = cluster(names(10), 1000);
    const before = new Map(d.state.placement);
    const loads = d.stateResponse().nodes.map((n) => n.configs.length);
    expect(Math.max(...loads)).toBeLessThanOrEqual(125);
    d.postStatus('node-new', status(0), '', T0 + 1);
    d.sweep(T0 + 2);
    const moved = [...d.state.placement].filter(([k, v]) => before.get(k) !== v).length;
    expect(d.state.nodes.get('node-new')!.load).toBeGreaterThan(50);
    expect(moved).toBeGreaterThan(50);
    expect(moved).toBeLessThan(250); // a reshuffle would move ~90 %
  });

  it('moves the leaving node configs and few others when a node expires', () => {
    const d = cluster(names(10), 1000);
    const before = new Map(d.state.placement);
    const gone = d.state.nodes.get('node-03')!.load;
    for (const n of names(10)) if (n !== 'node-03') d.postStatus(n, status(-1), '', T0 + 20_000);
    d.sweep(T0 + 31_000);
    expect(d.state.placement.size).toBe(1000);
    const moved = [...d.state.placement].filter(([k, v]) => before.get(k) !== v).length;
    expect(moved).toBeGreaterThanOrEqual(gone);
    expect(moved).toBeLessThan(gone * 2.5);
  });
});
