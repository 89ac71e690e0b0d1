import { describe, expect, it } from 'vitest';
import { poolsFromNodes } from './pools.js';
import type { ReserveError } from './reservations.js';
import { originalMessage, Reservations } from './reservations.js';
import { below, nodesIn, seeded } from './test-helpers.js';
import type { PoolNeeds } from './types.js';

const make = (pools: Record<string, number>): Reservations =>
  new Reservations(poolsFromNodes(nodesIn(pools)));

describe('poolsFromNodes', () => {
  it('groups nodes by the label, sorted, ignoring nodes without it', () => {
    const pools = poolsFromNodes([
      { name: 'b', labels: { pool: 'w' } },
      { name: 'a', labels: { pool: 'w' } },
      { name: 'c', labels: { pool: 'd' } },
      { name: 'x', labels: {} },
      { name: 'y', labels: { pool: '' } },
    ]);
    expect([...pools]).toEqual([
      ['d', ['c']],
      ['w', ['a', 'b']],
    ]);
  });

  it('reads the configured key', () => {
    const nodes = nodesIn({ gpu: 2 }, 'fathom.dev/pool');
    expect(poolsFromNodes(nodes).size).toBe(0);
    expect(poolsFromNodes(nodes, 'fathom.dev/pool').get('gpu')).toEqual(['gpu-0', 'gpu-1']);
  });
});

describe('Reservations.reserve', () => {
  const cases: [string, PoolNeeds, Partial<ReserveError> | 'ok', string?][] = [
    [
      'fits',
      [
        ['a', 2],
        ['b', 1],
      ],
      'ok',
    ],
    [
      'unknown pool',
      [['zz', 1]],
      { reason: 'PoolError', pool: 'zz' },
      'pool "zz" does not exist: no node has the label pool=zz',
    ],
    [
      'over capacity',
      [['a', 5]],
      { reason: 'CapacityError', pool: 'a', requested: 5, capacity: 3 },
      'pool "a" has 3 nodes, the session needs 5',
    ],
    [
      'PoolError before an earlier CapacityError',
      [
        ['a', 9],
        ['zz', 1],
      ],
      { reason: 'PoolError', pool: 'zz' },
    ],
    [
      'the first pool in sorted order',
      [
        ['a', 9],
        ['b', 9],
      ],
      { reason: 'CapacityError', pool: 'a', requested: 9, capacity: 3 },
    ],
    [
      'not free now',
      [['b', 2]],
      { reason: 'Unavailable', pool: 'b', requested: 2, available: 1 },
      'pool "b" has 1 of 2 nodes free, the session needs 2',
    ],
  ];
  it.each(cases)('%s', (_, needs, want, message) => {
    const r = make({ a: 3, b: 2 });
    expect(r.reserve('other', [['b', 1]]).ok).toBe(true);
    const got = r.reserve('s', needs);
    if (want === 'ok') {
      expect(got).toEqual({ ok: true, nodes: { a: ['a-0', 'a-1'], b: ['b-1'] } });
      return;
    }
    expect(got.ok).toBe(false);
    if (got.ok) return;
    expect(got.error).toMatchObject(want);
    if (message) expect(got.error.message).toBe(message);
    // All or nothing: a failed reserve takes nothing anywhere.
    expect(r.holding('s')).toBeUndefined();
    expect(r.usage().map((p) => p.reserved)).toEqual([0, 1]);
  });

  it("keeps the original's messages, capacity numbers swapped as it printed them", () => {
    const r = make({ a: 3 });
    const got = r.reserve('s', [['a', 5]]);
    if (got.ok) throw new Error('expected a refusal');
    expect(got.error.message).toBe('pool "a" has 3 nodes, the session needs 5');
    expect(originalMessage(got.error)).toBe(
      'pool a has only 5 machines, but the session required 3 machines',
    );
  });
});

describe('Reservations.release, adopt, setPools', () => {
  it('releases exactly what a holder holds, once', () => {
    const r = make({ a: 3 });
    r.reserve('s1', [['a', 2]]);
    r.reserve('s2', [['a', 1]]);
    expect(r.release('s1')).toBe(true);
    expect(r.release('s1')).toBe(false);
    expect(r.usage()).toEqual([
      {
        name: 'a',
        capacity: 3,
        reserved: 1,
        available: 2,
        holders: [{ holder: 's2', nodes: ['a-2'] }],
      },
    ]);
  });

  it('shrinks capacity when nodes go and names the holders who lost nodes', () => {
    const r = make({ a: 3, b: 2 });
    r.reserve('s1', [
      ['a', 2],
      ['b', 1],
    ]);
    r.reserve('s2', [['a', 1]]);
    const nodes = nodesIn({ a: 3, b: 2 }).filter((n) => n.name !== 'a-1' && n.name !== 'b-1');
    expect(r.setPools(poolsFromNodes(nodes))).toEqual([{ holder: 's1', nodes: ['a-1'] }]);
    expect(r.holding('s1')).toEqual({ a: ['a-0'], b: ['b-0'] });
    expect(r.usage().map((p) => [p.name, p.capacity, p.reserved])).toEqual([
      ['a', 2, 2],
      ['b', 1, 1],
    ]);
    // A node that moves to another pool is lost to its holder too.
    const moved = nodes.map((n) => (n.name === 'a-2' ? { ...n, labels: { pool: 'b' } } : n));
    expect(r.setPools(poolsFromNodes(moved))).toEqual([{ holder: 's2', nodes: ['a-2'] }]);
    expect(r.available('b')).toBe(1);
  });

  it('adopts the nodes a restarted controller finds in use, refusing ones not free', () => {
    const r = make({ a: 3 });
    r.reserve('s1', [['a', 1]]);
    expect(r.adopt('s2', ['a-2', 'a-0', 'gone'])).toEqual(['a-0', 'gone']);
    expect(r.holding('s2')).toEqual({ a: ['a-2'] });
    expect(r.available('a')).toBe(1);
  });
});

describe('Reservations: a seeded random sequence of operations', () => {
  it.each([1, 2, 3, 4, 5])('never reserves more than capacity (seed %i)', (seed) => {
    const next = seeded(seed);
    const poolNames = ['p0', 'p1', 'p2', 'p3'];
    const sizes = () => Object.fromEntries(poolNames.map((p) => [p, below(next, 6)]));
    const r = new Reservations(poolsFromNodes(nodesIn(sizes())));
    const held = new Set<string>();
    for (let step = 0; step < 2000; step++) {
      const op = below(next, 10);
      if (op < 5) {
        const needs = poolNames
          .filter(() => next() < 0.5)
          .map((p): [string, number] => [p, 1 + below(next, 3)]);
        const holder = `s${step}`;
        const before = r.usage();
        const got = r.reserve(holder, needs);
        if (got.ok) held.add(holder);
        else expect(r.usage()).toEqual(before);
      } else if (op < 9) {
        const holder = [...held][below(next, Math.max(1, held.size))];
        if (holder) expect(r.release(holder)).toBe(true);
        if (holder) held.delete(holder);
      } else {
        // Nodes change: some pools grow, some shrink, some vanish.
        r.setPools(poolsFromNodes(nodesIn(sizes())));
      }
      const owners = new Map<string, string>();
      for (const pool of r.usage()) {
        expect(pool.reserved).toBeLessThanOrEqual(pool.capacity);
        expect(pool.reserved).toBeGreaterThanOrEqual(0);
        expect(pool.reserved).toBe(pool.holders.reduce((n, h) => n + h.nodes.length, 0));
        for (const h of pool.holders)
          for (const n of h.nodes) {
            expect(owners.has(n)).toBe(false);
            owners.set(n, h.holder);
          }
      }
    }
    for (const h of held) r.release(h);
    expect(r.usage().every((p) => p.reserved === 0 && p.available === p.capacity)).toBe(true);
  });
});
