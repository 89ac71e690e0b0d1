import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { poolsFromNodes } from './pools.js';
import type { QueuedSession, RunningSession } from './queue.js';
import { admit, compareQueued, insertQueued, queuedFrom } from './queue.js';
import { parseSessionText } from './spec.js';
import { Reservations } from './reservations.js';
import { below, nodesIn, seeded, simulate } from './test-helpers.js';

const T0 = 1_000_000;

const q = (
  name: string,
  needs: Record<string, number>,
  more: Partial<Omit<QueuedSession, 'needs'>> = {},
): QueuedSession => ({
  name,
  priority: 0,
  submittedAt: T0,
  needs: Object.entries(needs).sort(),
  ...more,
});

const r = (name: string, holds: Record<string, number>, deadline?: number): RunningSession => ({
  name,
  holds: Object.entries(holds).sort(),
  ...(deadline !== undefined ? { deadline } : {}),
});

/** Names admitted, refused and the head, with `running` holding its nodes. */
function decide(
  pools: Record<string, number>,
  running: RunningSession[],
  queued: QueuedSession[],
  executors = 10,
) {
  const reservations = new Reservations(poolsFromNodes(nodesIn(pools)));
  for (const x of running) expect(reservations.reserve(x.name, x.holds).ok).toBe(true);
  const a = admit({ queued, running, reservations, executors }, T0);
  return {
    start: a.start.map((s) => s.name),
    refuse: a.refuse.map((s) => `${s.session.name}:${s.refusal.reason}`),
    head: a.head,
  };
}

describe('admit: order and bounds', () => {
  it('takes priority first, then first come first served', () => {
    const queued = [
      q('old-low', { a: 2 }, { submittedAt: T0 }),
      q('new-high', { a: 2 }, { submittedAt: T0 + 5, priority: 5 }),
      q('mid-high', { a: 2 }, { submittedAt: T0 + 1, priority: 5 }),
    ];
    expect(decide({ a: 4 }, [], queued).start).toEqual(['mid-high', 'new-high']);
  });

  it('runs exactly `executors` sessions at once (the original ran one more)', () => {
    const queued = [q('s1', { a: 1 }), q('s2', { a: 1 }, { submittedAt: T0 + 1 })];
    expect(decide({ a: 9 }, [r('r1', { a: 1 })], queued, 2).start).toEqual(['s1']);
    expect(decide({ a: 9 }, [r('r1', { a: 1 }), r('r2', { a: 1 })], queued, 2).start).toEqual([]);
  });

  it('refuses what can never run instead of queueing it', () => {
    const queued = [q('gpu', { gpu: 1 }), q('huge', { a: 5 }), q('ok', { a: 1 })];
    expect(decide({ a: 4 }, [], queued)).toEqual({
      start: ['ok'],
      refuse: ['gpu:PoolError', 'huge:CapacityError'],
      head: undefined,
    });
  });

  it('refuses a session that became impossible when it comes first, never making it the head', () => {
    // Its pool shrank to 2 while it waited behind a blocked head.
    const queued = [q('head', { a: 2 }), q('huge', { a: 3 }, { submittedAt: T0 + 1 })];
    expect(decide({ a: 2 }, [r('r1', { a: 1 }, T0 + 9)], queued)).toMatchObject({
      start: [],
      refuse: [],
      head: { name: 'head', shadow: T0 + 9 },
    });
    expect(decide({ a: 2 }, [], queued.slice(1))).toMatchObject({
      refuse: ['huge:CapacityError'],
      head: undefined,
    });
  });

  it('keeps a queue sorted on insertion', () => {
    const list: QueuedSession[] = [];
    const next = seeded(7);
    for (let i = 0; i < 200; i++) {
      insertQueued(
        list,
        q(`s${i}`, { a: 1 }, { priority: below(next, 3), submittedAt: below(next, 50) }),
      );
    }
    expect([...list].sort(compareQueued)).toEqual(list);
  });
});

describe('queuedFrom', () => {
  it('reads priority, needs and timeout from a Session', () => {
    const [s] = parseSessionText(
      `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: { name: x }
spec:
  priority: 3
  timeout: 2m
  components:
    - { name: d, kind: driver, pool: p, command: [a] }
    - { name: w, kind: server, pool: p, replicas: 2, command: [b] }
`,
      'x.yaml',
    );
    expect(queuedFrom(s!, 5)).toEqual({
      name: 'x',
      priority: 3,
      submittedAt: 5,
      needs: [['p', 3]],
      timeoutMs: 120_000,
    });
  });
});

describe('admit: backfill that never delays the head', () => {
  // a:4 nodes, 3 held until T0+100; the head needs all 4, so its shadow time is T0+100.
  const pools = { a: 4, b: 2 };
  const running = [r('r1', { a: 3 }, T0 + 100)];
  const head = q('head', { a: 4 });
  const later = (name: string, needs: Record<string, number>, timeoutMs?: number) =>
    q(name, needs, { submittedAt: T0 + 1, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });

  const cases: [string, QueuedSession[], string[]][] = [
    ['ends by the shadow time (rule a)', [later('short', { a: 1 }, 100)], ['short']],
    ['ends after it, on nodes the head needs', [later('long', { a: 1 }, 101)], []],
    ['ends after it, on other nodes (rule b)', [later('other', { b: 2 }, 500)], ['other']],
    ['no timeout, other nodes (rule b)', [later('forever', { b: 1 })], ['forever']],
    ['no timeout, nodes the head needs', [later('forever', { a: 1 })], []],
    ['does not fit now', [later('big', { b: 3 }, 10)], []],
    [
      'rule b uses up the extra',
      [later('b1', { b: 1 }), later('b2', { b: 1 }), later('b3', { a: 1, b: 1 })],
      ['b1', 'b2'],
    ],
  ];
  it.each(cases)('%s', (_, queued, want) => {
    const got = decide(pools, running, [head, ...queued]);
    expect(got.head).toEqual({ name: 'head', shadow: T0 + 100 });
    expect(got.start).toEqual(want);
  });

  it('counts the nodes that come back by the shadow time as extra', () => {
    // a:6, r1 holds 3 until T0+100, the head needs 5: at T0+100 six are free, one is extra.
    const got = decide(
      { a: 6 },
      [r('r1', { a: 3 }, T0 + 100)],
      [q('head', { a: 5 }), later('x1', { a: 1 }), later('x2', { a: 1 })],
    );
    expect(got.start).toEqual(['x1']);
  });

  it('backfills nothing onto the pools of a head whose shadow time is unknown', () => {
    const got = decide(
      { a: 4, b: 2 },
      [r('r1', { a: 3 })],
      [head, later('short', { a: 1 }, 1), later('other', { b: 1 })],
    );
    expect(got.head).toEqual({ name: 'head' });
    expect(got.start).toEqual(['other']);
  });

  it('backfills only into free executor slots', () => {
    const queued = [head, later('b1', { b: 1 }), later('b2', { b: 1 })];
    expect(decide(pools, running, queued, 2).start).toEqual(['b1']);
  });

  it('does nothing out of order with backfill off', () => {
    const reservations = new Reservations(poolsFromNodes(nodesIn(pools)));
    reservations.reserve('r1', [['a', 3]]);
    const a = admit(
      { queued: [head, later('other', { b: 1 })], running, reservations, executors: 5 },
      T0,
      { backfill: false },
    );
    expect(a.start).toEqual([]);
  });
});

describe('admit: seeded random queues on the manual clock', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))(
    'the head starts no later than without backfill, and by its shadow time (seed %i)',
    async (seed) => {
      const next = seeded(seed);
      const poolNames = ['p0', 'p1', 'p2'];
      const pools = Object.fromEntries(poolNames.map((p) => [p, 2 + below(next, 4)]));
      const needs = (): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const p of poolNames) if (next() < 0.5) out[p] = 1 + below(next, pools[p]!);
        if (!Object.keys(out).length) out.p0 = 1;
        return out;
      };
      const running: RunningSession[] = [];
      const used: Record<string, number> = {};
      for (let i = 0; i < 3; i++) {
        const holds = needs();
        if (Object.entries(holds).some(([p, n]) => (used[p] ?? 0) + n > pools[p]!)) continue;
        for (const [p, n] of Object.entries(holds)) used[p] = (used[p] ?? 0) + n;
        running.push(r(`r${i}`, holds, T0 + 10 * (1 + below(next, 20))));
      }
      const queued = Array.from({ length: 25 }, (_, i) =>
        q(`s${i}`, needs(), {
          priority: below(next, 3),
          submittedAt: T0 - 100 + i,
          ...(next() < 0.8 ? { timeoutMs: 10 * (1 + below(next, 30)) } : {}),
        }),
      );
      const first = [...queued].sort(compareQueued)[0]!.name;
      const executors = 1 + below(next, 4);
      let promised: number | undefined;
      const onHead = (name: string, shadow: number | undefined) => {
        if (name === first && promised === undefined) promised = shadow;
      };
      const run = (backfill: boolean) =>
        simulate({
          clock: new ManualClock(T0),
          pools,
          executors,
          queued,
          running,
          backfill,
          onHead,
        });
      const withBackfill = await run(true);
      const promisedWith = promised;
      const without = await run(false);
      const a = withBackfill.get(first) ?? Infinity;
      const b = without.get(first) ?? Infinity;
      expect(a).toBeLessThanOrEqual(b);
      if (promisedWith !== undefined) expect(a).toBeLessThanOrEqual(promisedWith);
    },
  );
});
