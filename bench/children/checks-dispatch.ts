/**
 * Bench child: one dispatcher strategy alone in a process (its peak RSS is the dispatcher's),
 * on manual time: 2,000 agents register, 50,000 configs are dispatched, one node joins and
 * one leaves, 10 % of the agents expire, and (for the stats-driven strategies) it rebalances.
 * argv: <strategy> <nodes> <configs>.
 */
import { checkIds } from '../../src/checks/config/index.js';
import { seededRandom } from '../../test/differential/kstatus-gen.js';
import { benchConfig } from '../lib/checks.js';
import { Dispatcher } from '../../src/checks/dispatch/dispatcher.js';
import type { Strategy } from '../../src/checks/dispatch/placement.js';
import type { RunnerStats } from '../../src/checks/types.js';

export type DispatchChildMessage =
  | {
      type: 'done';
      strategy: Strategy;
      dispatchMs: number;
      maxLoad: number;
      minLoad: number;
      joinMoved: number;
      joinNewLoad: number;
      leaveMoved: number;
      leaveShare: number;
      expireMs: number;
      expiredConfigs: number;
      rebalanceMs?: number;
      rebalanceMoves?: number;
      forcedMs?: number;
      forcedMoves?: number;
      maxRssKiB: number;
    }
  | { type: 'error'; message: string };

const send = (m: DispatchChildMessage): void => void process.send?.(m);

const elapsed = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

function main(): void {
  const [strategy, nodesArg, configsArg] = process.argv.slice(2) as [Strategy, string, string];
  const nodeCount = Number(nodesArg);
  const configs = Array.from({ length: Number(configsArg) }, (_, i) => benchConfig(i));
  const random = seededRandom(7);
  const d = new Dispatcher({
    strategy,
    nodeExpirationMs: 30_000,
    unscheduledThresholdMs: 60_000,
    rebalancePeriodMs: 600_000,
    minImprovementPercent: 10,
    checkIds,
    random,
  });
  const names = Array.from({ length: nodeCount }, (_, i) => `node-${i}`);
  let now = 1_800_000_000_000;
  for (const n of names) d.postStatus(n, { last_change: 0 }, '', now);

  let t = process.hrtime.bigint();
  d.activate(configs, now);
  const dispatchMs = elapsed(t);
  const loads = [...d.state.nodes.values()].map((n) => n.load);

  const snapshot = () => new Map(d.state.placement);
  const movedSince = (before: Map<string, string>): number =>
    [...d.state.placement].filter(([k, v]) => before.get(k) !== undefined && before.get(k) !== v)
      .length;

  // A node joins (hashing follows membership at the next sweep; the others place only new configs).
  let before = snapshot();
  now += 1000;
  d.postStatus('node-new', { last_change: 0 }, '', now);
  d.sweep(now);
  const joinMoved = movedSince(before);
  const joinNewLoad = d.state.nodes.get('node-new')!.load;

  // A node leaves: every other node heartbeats, the sweep after the expiration drops it.
  before = snapshot();
  const victim = names[nodeCount >> 1]!;
  const leaveShare = d.state.nodes.get(victim)!.load;
  now += 20_000;
  for (const n of d.state.nodes.keys())
    if (n !== victim) d.postStatus(n, { last_change: -1 }, '', now);
  now += 11_000;
  d.sweep(now);
  const leaveMoved = movedSince(before);

  // 10 % of the agents go silent at once.
  const silent = new Set(names.filter((_, i) => i % 10 === 3));
  let expiredConfigs = 0;
  for (const n of silent) expiredConfigs += d.state.nodes.get(n)?.load ?? 0;
  now += 20_000;
  for (const n of d.state.nodes.keys())
    if (!silent.has(n)) d.postStatus(n, { last_change: -1 }, '', now);
  now += 11_000;
  t = process.hrtime.bigint();
  d.sweep(now);
  const expireMs = elapsed(t);

  let rebalance: Partial<DispatchChildMessage & { type: 'done' }> = {};
  if (strategy === 'busyness' || strategy === 'utilization') {
    // Agents report stats: skewed execution times so that some nodes are much busier.
    for (const node of d.state.nodes.values()) {
      const stats: Record<string, RunnerStats> = {};
      const heavy = random() < 0.1 ? 8 : 1;
      for (const digest of node.digests) {
        for (const id of d.state.idsOf(digest)) {
          stats[id] = {
            AverageExecutionTime: Math.round(random() * 400 * heavy),
            MetricSamples: Math.round(random() * 50 * heavy),
            HistogramBuckets: 0,
            Events: 0,
            IsClusterCheck: true,
            LastExecFailed: false,
          };
        }
      }
      d.postStatus(node.name, { last_change: -1, stats }, '', now);
    }
    t = process.hrtime.bigint();
    const moves = d.rebalance(false, now);
    const rebalanceMs = elapsed(t);
    t = process.hrtime.bigint();
    const forced = d.rebalance(true, now);
    rebalance = {
      rebalanceMs,
      rebalanceMoves: moves.length,
      forcedMs: elapsed(t),
      forcedMoves: forced.length,
    };
  }
  send({
    type: 'done',
    strategy,
    dispatchMs,
    maxLoad: Math.max(...loads),
    minLoad: Math.min(...loads),
    joinMoved,
    joinNewLoad,
    leaveMoved,
    leaveShare,
    expireMs,
    expiredConfigs,
    ...rebalance,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
  process.disconnect();
}

try {
  main();
} catch (err) {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect();
}
