/**
 * Runs' pool claims in the pure core: admitted in one order with sessions (priority, FIFO, the
 * backfill rule) without an executor slot, never on a node anyone holds, and what a controller
 * does to match the store (release on removal and on run end, recovery).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { PoolClaim } from './claims.js';
import { claimHolder, claimKey, claimQueued, claimRunOf, reconcileClaims } from './claims.js';
import { poolsFromNodes } from './pools.js';
import type { QueuedSession, RunningSession } from './queue.js';
import { admit } from './queue.js';
import { Reservations } from './reservations.js';
import { below, nodesIn, seeded } from './test-helpers.js';

const T0 = 1_000_000;

const q = (
  name: string,
  needs: Record<string, number>,
  more: Partial<Omit<QueuedSession, 'needs'>> = {},
): QueuedSession => ({ name, priority: 0, submittedAt: T0, needs: Object.entries(needs), ...more });

/** A run's claim as the queue sees it. */
const c = (run: string, pool: string, nodes: number, more: Partial<QueuedSession> = {}) =>
  q(claimHolder(run), { [pool]: nodes }, { slot: false, ...more });

const r = (name: string, holds: Record<string, number>, deadline?: number): RunningSession => ({
  name,
  holds: Object.entries(holds),
  ...(deadline !== undefined ? { deadline } : {}),
});

function decide(
  pools: Record<string, number>,
  running: RunningSession[],
  queued: QueuedSession[],
  executors = 10,
) {
  const reservations = new Reservations(poolsFromNodes(nodesIn(pools)));
  for (const x of running) expect(reservations.reserve(x.name, x.holds).ok).toBe(true);
  const sessions = queued.filter((s) => s.slot !== false);
  const claims = queued.filter((s) => s.slot === false);
  const a = admit({ queued: sessions, claims, running, reservations, executors }, T0);
  return {
    start: a.start.map((s) => s.name),
    refuse: a.refuse.map((s) => `${s.session.name}:${s.refusal.reason}`),
    head: a.head?.name,
  };
}

describe('admit: claims and sessions in one order', () => {
  it.each([
    {
      why: 'a higher-priority session goes first; the claim for the same nodes waits (head)',
      queued: [c('r', 'a', 2, { submittedAt: T0 - 5 }), q('s', { a: 2 }, { priority: 1 })],
      start: ['s'],
      head: 'run/r',
    },
    {
      why: 'first come, first served at equal priority: the earlier claim gets the pool',
      queued: [c('r', 'a', 2), q('s', { a: 2 }, { submittedAt: T0 + 1 })],
      start: ['run/r'],
      head: 's',
    },
    {
      why: 'a claim on another pool starts behind a waiting session (it takes none of its nodes)',
      queued: [q('s', { a: 3 }), c('r', 'b', 2, { submittedAt: T0 + 1 })],
      start: ['run/r'],
      head: 's',
    },
    {
      why: 'a claim never takes nodes the waiting head needs, even when they are free now',
      queued: [q('s', { a: 3 }), c('r', 'a', 1, { submittedAt: T0 + 1 })],
      start: [],
      head: 's',
    },
    {
      why: 'a session behind a waiting claim starts on what the claim will not need',
      queued: [c('r', 'a', 3), q('s', { b: 1 }, { submittedAt: T0 + 1 })],
      start: ['s'],
      head: 'run/r',
    },
  ])('$why', ({ queued, start, head }) => {
    // x holds one node of a, with no deadline: what it holds never comes back for the head.
    const d = decide({ a: 3, b: 2 }, [r('x', { a: 1 })], queued);
    expect(d.start).toEqual(start);
    expect(d.head).toBe(head);
  });

  it('a claim takes no executor slot: granted with every slot in use', () => {
    const running = [r('x', { b: 1 }), r('y', { b: 1 })];
    expect(decide({ a: 2, b: 2 }, running, [c('r', 'a', 2)], 2).start).toEqual(['run/r']);
    // ...and sessions still get exactly `executors` slots next to a granted claim.
    const both = [c('r', 'a', 1), q('s1', { b: 1 }), q('s2', { b: 1 }, { submittedAt: T0 + 1 })];
    expect(decide({ a: 2, b: 2 }, [], both, 1).start).toEqual(['run/r', 's1']);
  });

  it('a session waiting only for a slot keeps its nodes from a later claim', () => {
    const running = [r('x', { b: 1 }, T0 + 100)];
    const queued = [q('s', { a: 2 }), c('r', 'a', 1, { submittedAt: T0 + 1 })];
    const d = decide({ a: 3, b: 1 }, running, queued, 1);
    // One node of `a` is extra to s's need: the claim may have it, not more.
    expect(d).toMatchObject({ start: ['run/r'], head: 's' });
    const greedy = [q('s', { a: 2 }), c('r', 'a', 2, { submittedAt: T0 + 1 })];
    expect(decide({ a: 3, b: 1 }, running, greedy, 1)).toMatchObject({ start: [], head: 's' });
  });

  it('a claim for a pool that is gone is refused when first in line', () => {
    expect(decide({ b: 1 }, [], [c('r', 'a', 1)]).refuse).toEqual(['run/r:PoolError']);
  });

  it('no node is ever held by two: random sessions and claims, admitted and ended', async () => {
    const clock = new ManualClock(T0);
    const next = seeded(11);
    const pools = { a: 4, b: 3, c: 2 };
    const names = Object.keys(pools);
    const reservations = new Reservations(poolsFromNodes(nodesIn(pools)));
    let running: RunningSession[] = [];
    let claims: { name: string; until: number }[] = [];
    let queued: QueuedSession[] = [];
    for (let step = 0; step < 2_000; step++) {
      const now = clock.now();
      const pool = names[below(next, names.length)]!;
      const n = 1 + below(next, 3);
      if (below(next, 2)) queued.push(c(`r${step}`, pool, n, { submittedAt: now }));
      else queued.push(q(`s${step}`, { [pool]: n }, { submittedAt: now, timeoutMs: 50 }));
      const a = admit(
        {
          queued: queued.filter((s) => s.slot !== false),
          claims: queued.filter((s) => s.slot === false),
          running,
          reservations,
          executors: 2,
        },
        now,
      );
      const gone = new Set(a.refuse.map((x) => x.session.name));
      for (const s of a.start) {
        expect(reservations.reserve(s.name, s.needs).ok).toBe(true);
        gone.add(s.name);
        if (s.slot === false) claims.push({ name: s.name, until: now + 10 * (1 + below(next, 9)) });
        else running.push({ name: s.name, holds: s.needs, deadline: now + s.timeoutMs! });
      }
      expect(running.length).toBeLessThanOrEqual(2);
      queued = queued.filter((s) => !gone.has(s.name));
      for (const u of reservations.usage()) {
        expect(u.reserved).toBeLessThanOrEqual(u.capacity);
        expect(u.holders.flatMap((h) => h.nodes)).toHaveLength(u.reserved);
      }
      await clock.advance(10);
      const t = clock.now();
      for (const x of [...running, ...claims.map((k) => ({ ...k, deadline: k.until }))]) {
        if (x.deadline! <= t) reservations.release(x.name);
      }
      running = running.filter((x) => x.deadline! > t);
      claims = claims.filter((k) => k.until > t);
    }
  });
});

describe('claimQueued', () => {
  const counts = new Reservations(poolsFromNodes(nodesIn({ a: 3 })));
  const claim: PoolClaim = { run: 'r', pool: 'a', priority: 2, submittedAt: T0, state: 'Waiting' };

  it('needs every node of the pool unless it names a count, and no slot', () => {
    expect(claimQueued(claim, counts)).toEqual({
      name: 'run/r',
      priority: 2,
      submittedAt: T0,
      needs: [['a', 3]],
      slot: false,
    });
    expect(claimQueued({ ...claim, nodes: 1 }, counts).needs).toEqual([['a', 1]]);
  });

  it('names and keys: run/<run> in reservations, run--<run> in the store', () => {
    expect([claimHolder('x'), claimKey('x')]).toEqual(['run/x', 'run--x']);
    expect([claimRunOf('run/x'), claimRunOf('run--x'), claimRunOf('session')]).toEqual([
      'x',
      'x',
      undefined,
    ]);
  });
});

describe('reconcileClaims: what a controller does to match the store', () => {
  const claim = (run: string, state: PoolClaim['state'], granted?: string[]): PoolClaim => ({
    run,
    pool: 'a',
    priority: 0,
    submittedAt: T0,
    state,
    ...(granted ? { granted } : {}),
  });
  const none = { queued: new Set<string>(), granted: new Set<string>() };

  it.each([
    {
      why: 'a new waiting claim is queued',
      stored: [claim('r', 'Waiting')],
      holdings: {},
      known: none,
      ended: [],
      plan: { enqueue: ['r'] },
    },
    {
      why: 'a granted claim removed from the store is released',
      stored: [],
      holdings: { 'run--r': ['a-0'] },
      known: { queued: new Set<string>(), granted: new Set(['r']) },
      ended: [],
      plan: { release: ['r'] },
    },
    {
      why: 'a granted claim whose run ended is removed and released',
      stored: [claim('r', 'Granted', ['a-0'])],
      holdings: { 'run--r': ['a-0'] },
      known: { queued: new Set<string>(), granted: new Set(['r']) },
      ended: ['r'],
      plan: { remove: ['r'], release: ['r'] },
    },
    {
      why: 'a waiting claim whose run gave up leaves the queue and the store',
      stored: [claim('r', 'Waiting')],
      holdings: {},
      known: { queued: new Set(['r']), granted: new Set<string>() },
      ended: ['r'],
      plan: { remove: ['r'], dequeue: ['r'] },
    },
    {
      why: 'recovery: a granted claim is adopted over its holding',
      stored: [claim('r', 'Granted', ['a-9'])],
      holdings: { 'run--r': ['a-0', 'a-1'] },
      known: none,
      ended: [],
      plan: { adopt: [{ run: 'r', nodes: ['a-0', 'a-1'] }] },
    },
    {
      why: 'recovery: with no holding, over the nodes the claim records',
      stored: [claim('r', 'Granted', ['a-1'])],
      holdings: {},
      known: none,
      ended: [],
      plan: { adopt: [{ run: 'r', nodes: ['a-1'] }] },
    },
    {
      why: 'recovery: held but never marked granted (a crash between the writes) is queued again',
      stored: [claim('r', 'Waiting')],
      holdings: { 'run--r': ['a-0'], 'run--gone': ['a-1'], session: ['a-2'] },
      known: none,
      ended: [],
      plan: { enqueue: ['r'], unhold: ['run--gone', 'run--r'] },
    },
    {
      why: 'a refused claim stays for its run to read, and is queued no more',
      stored: [claim('r', 'Refused')],
      holdings: {},
      known: { queued: new Set(['r']), granted: new Set<string>() },
      ended: [],
      plan: { dequeue: ['r'] },
    },
  ])('$why', ({ stored, holdings, known, ended, plan }) => {
    const held = new Map(Object.entries(holdings).map(([k, nodes]) => [k, { a: nodes }]));
    const got = reconcileClaims(stored, held, known, new Set(ended));
    expect({ ...got, enqueue: got.enqueue.map((x) => x.run) }).toEqual({
      enqueue: [],
      dequeue: [],
      adopt: [],
      release: [],
      remove: [],
      unhold: [],
      ...plan,
    });
  });
});
