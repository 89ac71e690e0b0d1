/** Shared by the sessions tests: a seeded generator, nodes in pools, a queue simulation. */
import type { ManualClock } from '../core/clock.js';
import type { ClusterNode } from '../core/nodes.js';
import { poolsFromNodes } from './pools.js';
import type { QueuedSession, RunningSession } from './queue.js';
import { admit } from './queue.js';
import { Reservations } from './reservations.js';

/** mulberry32: small, seeded, so a failing sequence reproduces from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export const below = (next: () => number, n: number): number => Math.floor(next() * n);

/** `count` nodes named `<pool>-<i>` labelled pool=<pool>, for each pool. */
export function nodesIn(pools: Record<string, number>, key = 'pool'): ClusterNode[] {
  return Object.entries(pools).flatMap(([pool, count]) =>
    Array.from({ length: count }, (_, i) => ({ name: `${pool}-${i}`, labels: { [key]: pool } })),
  );
}

/**
 * Runs a queue to the end on the manual clock: each session runs until its deadline exactly
 * (one without a timeout never ends). Returns when each session started (absent: never).
 */
export async function simulate(opts: {
  readonly clock: ManualClock;
  readonly pools: Record<string, number>;
  readonly executors: number;
  readonly queued: readonly QueuedSession[];
  readonly running?: readonly RunningSession[];
  readonly backfill: boolean;
  /** Called with each admission's head and its shadow time. */
  readonly onHead?: (name: string, shadow: number | undefined, now: number) => void;
}): Promise<Map<string, number>> {
  const { clock } = opts;
  const reservations = new Reservations(poolsFromNodes(nodesIn(opts.pools)));
  let running = [...(opts.running ?? [])];
  for (const r of running) {
    if (!reservations.reserve(r.name, r.holds).ok) throw new Error(`cannot place ${r.name}`);
  }
  let queued = [...opts.queued];
  const started = new Map<string, number>();
  for (;;) {
    const now = clock.now();
    running = running.filter((r) => {
      if (r.deadline === undefined || r.deadline > now) return true;
      reservations.release(r.name);
      return false;
    });
    const a = admit({ queued, running, reservations, executors: opts.executors }, now, {
      backfill: opts.backfill,
    });
    if (a.head) opts.onHead?.(a.head.name, a.head.shadow, now);
    const gone = new Set([...a.refuse.map((r) => r.session.name)]);
    for (const s of a.start) {
      if (!reservations.reserve(s.name, s.needs).ok) throw new Error(`admitted ${s.name} unfit`);
      if (running.length >= opts.executors) throw new Error('over the executor bound');
      const deadline = s.timeoutMs === undefined ? undefined : now + s.timeoutMs;
      running.push({
        name: s.name,
        holds: s.needs,
        ...(deadline !== undefined ? { deadline } : {}),
      });
      started.set(s.name, now);
      gone.add(s.name);
    }
    if (gone.size) queued = queued.filter((s) => !gone.has(s.name));
    const next = Math.min(...running.map((r) => r.deadline ?? Infinity));
    if (!queued.length || next === Infinity) return started;
    await clock.advance(next - now);
  }
}
