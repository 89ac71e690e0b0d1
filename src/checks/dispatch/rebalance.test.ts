import { describe, expect, it } from 'vitest';
import type { RunnerStats } from '../types.js';
import { hash32, hashAssignment, HashRing, loadCap } from './hashring.js';
import {
  busynessOf,
  isolate,
  rebalanceByBusyness,
  rebalanceByUtilization,
  workersNeeded,
  type SnapshotConfig,
  type SnapshotNode,
} from './rebalance.js';

const st = (avg: number, samples: number, failed = false): RunnerStats => ({
  AverageExecutionTime: avg,
  MetricSamples: samples,
  HistogramBuckets: 0,
  Events: 0,
  IsClusterCheck: true,
  LastExecFailed: failed,
});

/** A config `digest` on `node` keeping `wn` workers busy at a 1 s interval. */
const util = (
  digest: string,
  node: string,
  wn: number,
  more: Partial<SnapshotConfig> = {},
): SnapshotConfig => ({
  digest,
  name: digest,
  node,
  stats: [st(wn * 1000, 1)],
  intervalMs: 1000,
  pinned: false,
  ...more,
});

const nodes = (...names: string[]): SnapshotNode[] =>
  names.map((name) => ({ name, busyness: 0, workers: 1 }));

describe('busyness', () => {
  it.each<[string, RunnerStats, number]>([
    [
      'metric samples and histogram buckets count one each',
      { ...st(100, 100), HistogramBuckets: 5 },
      105,
    ],
    ['events count a fifth, truncated', { ...st(0, 0), Events: 7 }, 1],
    ['execution time has no weight', st(5000, 0), 0],
    ['a failing check weighs nothing', st(100, 100, true), 0],
  ])('%s', (_, stats, want) => {
    expect(busynessOf(stats)).toBe(want);
  });

  it('matches the original weights pinned in its tests (exec 0.8, samples 0.2)', () => {
    const w = { exec: 0.8, metricSamples: 0.2, histogramBuckets: 0, events: 0 };
    expect(busynessOf(st(100, 100), w)).toBe(100);
    expect(busynessOf(st(100, 100, true), w)).toBe(0);
  });

  it('moves while destDiff + weight < int(srcDiff × 0.9), heaviest first', () => {
    const snap: SnapshotNode[] = [
      { name: 'a', busyness: 120, workers: 4 },
      { name: 'b', busyness: 0, workers: 4 },
      { name: 'c', busyness: 0, workers: 4 },
    ];
    const configs = [
      { ...util('x', 'a', 0), stats: [st(0, 50)] },
      { ...util('y', 'a', 0), stats: [st(0, 40)] },
      { ...util('z', 'a', 0), stats: [st(0, 30)] },
    ];
    // avg 40: a +80, b −40, c −40. x (50): −40+50=10 < int(72)=72 → b (first by name).
    // a +30: y (40) to c (−40): 0 < int(27) → c. a −10: done; z stays.
    expect(
      rebalanceByBusyness(snap, configs).map((m) => [m.digest, m.to, m.fromDiff, m.toDiff]),
    ).toEqual([
      ['x', 'b', 80, -40],
      ['y', 'c', 30, -40],
    ]);
  });

  it('never moves pinned configs and respects eligibility', () => {
    const snap: SnapshotNode[] = [
      { name: 'a', busyness: 100, workers: 4 },
      { name: 'b', busyness: 0, workers: 4 },
      { name: 'c', busyness: 10, workers: 4 },
    ];
    const configs = [
      { ...util('x', 'a', 0), stats: [st(0, 100)], pinned: true },
      { ...util('y', 'a', 0), stats: [st(0, 20)], eligible: new Set(['a', 'c']) },
    ];
    expect(rebalanceByBusyness(snap, configs).map((m) => [m.digest, m.to])).toEqual([['y', 'c']]);
  });
});

describe('utilization', () => {
  const off = { force: false, minImprovementPercent: 10, stickiness: false };

  it('workers needed is average time over interval, capped at 1', () => {
    expect(workersNeeded(util('x', 'a', 0.25))).toBe(0.25);
    expect(workersNeeded({ ...util('x', 'a', 0), stats: [st(3000, 1), st(3000, 1)] })).toBe(1);
    expect(workersNeeded({ ...util('x', 'a', 0), stats: [] })).toBe(0);
  });

  it('accepts a proposal that cuts the spread by more than the minimum', () => {
    const plan = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.6), util('y', 'a', 0.3)],
      off,
    );
    expect(plan.accepted).toBe(true);
    expect(plan.moves.map((m) => [m.digest, m.from, m.to])).toEqual([['y', 'a', 'b']]);
    expect(plan.proposed).toEqual(
      new Map([
        ['a', 0.6],
        ['b', 0.3],
      ]),
    );
  });

  it('refuses one that does not improve enough, unless forced', () => {
    const configs = [util('x', 'a', 0.6), util('y', 'a', 0.3)];
    expect(
      rebalanceByUtilization(nodes('a', 'b'), configs, { ...off, minImprovementPercent: 70 }),
    ).toMatchObject({ accepted: false, moves: [] });
    expect(
      rebalanceByUtilization(nodes('a', 'b'), configs, {
        ...off,
        minImprovementPercent: 70,
        force: true,
      }).accepted,
    ).toBe(true);
  });

  it('when already balanced (std < 0.1) accepts only fewer hot or empty runners', () => {
    const plan = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.04), util('y', 'a', 0.04)],
      off,
    );
    expect(plan.accepted).toBe(true); // b no longer empty
    // a .03, b .07 → a .05, b .05 by moving z: no fewer hot or empty runners, so no.
    const even = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.03), util('y', 'b', 0.05), util('z', 'b', 0.02)],
      off,
    );
    expect(even).toMatchObject({ accepted: false, moves: [] });
    expect(even.proposed.get('a')).toBeCloseTo(0.05);
  });

  it('keeps pinned and never-completed configs where they are', () => {
    const plan = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.6, { pinned: true }), util('y', 'a', 0), util('z', 'a', 0.3)],
      { ...off, force: true },
    );
    expect(plan.moves.map((m) => m.digest)).toEqual(['z']);
    expect(plan.proposed.get('a')).toBeCloseTo(0.6);
  });

  it('moves a misplaced config even when not worth it', () => {
    const plan = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.01, { eligible: new Set(['b']) })],
      { ...off, minImprovementPercent: 100 },
    );
    expect(plan).toMatchObject({ accepted: true, moves: [{ digest: 'x', from: 'a', to: 'b' }] });
  });

  it('stickiness keeps configs on their runner unless it is far busier', () => {
    const plan = rebalanceByUtilization(
      nodes('a', 'b'),
      [util('x', 'a', 0.6), util('y', 'a', 0.3)],
      { ...off, stickiness: true },
    );
    expect(plan.moves).toEqual([]);
  });
});

describe('utilization: the heap agrees with the scan', () => {
  it('gives the same proposal with and without an eligibility list naming every node', () => {
    let seed = 11;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 30; round++) {
      const names = Array.from({ length: 2 + Math.floor(random() * 6) }, (_, i) => `n${i}`);
      const snap = names.map((name) => ({
        name,
        busyness: 0,
        workers: 1 + Math.floor(random() * 4),
      }));
      const configs = Array.from({ length: 5 + Math.floor(random() * 40) }, (_, i) =>
        util(`c${i}`, names[Math.floor(random() * names.length)]!, Math.round(random() * 20) / 100),
      );
      const all = new Set(names);
      for (const stickiness of [true, false]) {
        const options = { force: true, minImprovementPercent: 10, stickiness };
        const heap = rebalanceByUtilization(snap, configs, options);
        const scan = rebalanceByUtilization(
          snap,
          configs.map((c) => ({ ...c, eligible: all })),
          options,
        );
        expect(heap.moves).toEqual(scan.moves);
        expect(heap.proposed).toEqual(scan.proposed);
      }
    }
  });
});

describe('isolate', () => {
  it('moves everything else off the node to the least busy others', () => {
    const snap: SnapshotNode[] = [
      { name: 'a', busyness: 30, workers: 4 },
      { name: 'b', busyness: 5, workers: 4 },
      { name: 'c', busyness: 0, workers: 4 },
    ];
    const configs = [
      { ...util('t', 'a', 0), stats: [st(0, 10)] },
      { ...util('u', 'a', 0), stats: [st(0, 10)] },
      { ...util('v', 'a', 0), stats: [st(0, 10)] },
      { ...util('w', 'b', 0), stats: [st(0, 5)] },
    ];
    const out = isolate('t', snap, configs);
    expect(out).toMatchObject({ isolated: true, node: 'a', reason: '' });
    expect(out.moves.map((m) => [m.digest, m.to])).toEqual([
      ['u', 'c'],
      ['v', 'b'],
    ]);
  });
});

describe('consistent hashing with bounded loads', () => {
  it('hashes with FNV-1a', () => {
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
    expect(hash32('foobar')).toBe(0xbf9cf968);
  });

  it('walks every node once, from the key', () => {
    const ring = new HashRing(['a', 'b', 'c']);
    const order = [...ring.walk('key')];
    expect(order.sort()).toEqual(['a', 'b', 'c']);
    expect([...new HashRing(['c', 'a', 'b']).walk('key')]).toEqual([...ring.walk('key')]);
  });

  it('assigns independently of input order, within the bound, to eligible nodes only', () => {
    const names = ['n1', 'n2', 'n3', 'n4'];
    const configs = Array.from({ length: 200 }, (_, i) => ({
      digest: `c${i}`,
      ...(i % 10 === 0 ? { eligible: new Set(['n2']) } : {}),
    }));
    const one = hashAssignment(names, configs);
    const two = hashAssignment([...names].reverse(), [...configs].reverse());
    expect([...one].sort()).toEqual([...two].sort());
    const cap = loadCap(200, 4);
    const loads = names.map((n) => [...one.values()].filter((v) => v === n).length);
    for (const [i, l] of loads.entries()) if (names[i] !== 'n2') expect(l).toBeLessThanOrEqual(cap);
    for (const c of configs) if (c.eligible) expect(one.get(c.digest)).toBe('n2');
  });
});
