/**
 * Bench child: session admission alone in a process (its peak RSS and heap are the queue's), on
 * a manual clock. 10,000 seeded sessions (mixed priorities, 1–8 nodes each over 1–3 pools) wait
 * for 50 pools of 20 nodes with 100 executors; `admit` runs until every session has started,
 * each ending at its deadline as the queue property test simulates. Then the worst case: every
 * node held, the head blocked and nothing behind it fitting, so a decision walks all 10,000.
 * Run with --expose-gc for the heap figure. argv: <sessions> <pools> <nodesPerPool> <executors>.
 */
import { ManualClock } from '../../src/core/clock.js';
import { poolsFromNodes } from '../../src/sessions/pools.js';
import type { QueuedSession, RunningSession } from '../../src/sessions/queue.js';
import { admit, insertQueued } from '../../src/sessions/queue.js';
import { Reservations } from '../../src/sessions/reservations.js';
import { below, nodesIn, seeded } from '../../src/sessions/test-helpers.js';
import { selfPeakRssKiB } from '../lib/measure.js';

export type AdmitChildMessage =
  | {
      type: 'done';
      sessions: number;
      admitCalls: number;
      admitted: number;
      admitMs: number;
      simulationMs: number;
      simulatedHours: number;
      worstMs: number[];
      worstWalked: number;
      queueHeapBytes?: number;
      maxRssKiB: number;
    }
  | { type: 'error'; message: string };

const send = (m: AdmitChildMessage): void => void process.send?.(m);
const elapsed = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;
const T0 = 1_800_000_000_000;
const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Seeded sessions: priority 0–2, 1–3 distinct pools, 1–8 nodes in all, timeout 1–60 min. */
function generate(n: number, pools: readonly string[]): QueuedSession[] {
  const next = seeded(11);
  const queue: QueuedSession[] = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + below(next, 3);
    const total = k + below(next, 9 - k);
    const chosen = new Set<string>();
    while (chosen.size < k) chosen.add(pools[below(next, pools.length)]!);
    const names = [...chosen];
    const per = names.map(() => 1);
    for (let extra = total - k; extra > 0; extra--) per[below(next, k)]!++;
    insertQueued(queue, {
      name: `s-${i}`,
      priority: below(next, 3),
      submittedAt: T0 - n + i,
      needs: names.map((p, j) => [p, per[j]!] as const),
      timeoutMs: (1 + below(next, 60)) * 60_000,
    });
  }
  return queue;
}

async function main(): Promise<void> {
  const [n, poolCount, perPool, executors] = process.argv.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const pools = Object.fromEntries(
    Array.from({ length: poolCount }, (_, i) => [`pool-${i}`, perPool]),
  );
  const poolNames = Object.keys(pools);
  const before = gc ? heapAfterGc() : undefined;
  let queued = generate(n, poolNames);
  const reservations = new Reservations(poolsFromNodes(nodesIn(pools)));
  const queueHeapBytes = before !== undefined ? heapAfterGc() - before : undefined;

  // Admit until all have started; each session runs to its deadline exactly.
  const clock = new ManualClock(T0);
  let running: RunningSession[] = [];
  let admitCalls = 0;
  let admitted = 0;
  let admitMs = 0;
  const t0 = process.hrtime.bigint();
  while (queued.length > 0) {
    const now = clock.now();
    running = running.filter((r) => {
      if (r.deadline! > now) return true;
      reservations.release(r.name);
      return false;
    });
    const t = process.hrtime.bigint();
    const a = admit({ queued, running, reservations, executors }, now);
    admitMs += elapsed(t);
    admitCalls++;
    if (a.refuse.length) throw new Error(`refused ${a.refuse[0]!.session.name}`);
    const gone = new Set<string>();
    for (const s of a.start) {
      if (!reservations.reserve(s.name, s.needs).ok) throw new Error(`admitted ${s.name} unfit`);
      running.push({ name: s.name, holds: s.needs, deadline: now + s.timeoutMs! });
      gone.add(s.name);
    }
    if (running.length > executors) throw new Error('over the executor bound');
    admitted += gone.size;
    if (gone.size) queued = queued.filter((s) => !gone.has(s.name));
    if (queued.length === 0) break;
    const next = Math.min(...running.map((r) => r.deadline!));
    await clock.advance(next - now);
  }
  const simulationMs = elapsed(t0);
  const simulatedHours = (clock.now() - T0) / 3_600_000;

  // Worst case: every node held by one running session per pool, all 10,000 queued behind a
  // blocked head; no decision starts anything, each walks the whole queue.
  const full = new Reservations(poolsFromNodes(nodesIn(pools)));
  const holders: RunningSession[] = poolNames.map((p, i) => ({
    name: `hold-${p}`,
    holds: [[p, perPool]],
    deadline: T0 + (i + 1) * 60_000,
  }));
  for (const h of holders) if (!full.reserve(h.name, h.holds).ok) throw new Error('hold');
  const everyone = generate(n, poolNames);
  const worstMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = process.hrtime.bigint();
    const a = admit({ queued: everyone, running: holders, reservations: full, executors }, T0);
    worstMs.push(elapsed(t));
    if (a.start.length || !a.head) throw new Error('worst case admitted something');
  }
  send({
    type: 'done',
    sessions: n,
    admitCalls,
    admitted,
    admitMs,
    simulationMs,
    simulatedHours,
    worstMs,
    worstWalked: everyone.length,
    ...(queueHeapBytes !== undefined ? { queueHeapBytes } : {}),
    maxRssKiB: selfPeakRssKiB(),
  });
}

main().catch((err: unknown) =>
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
);
