/**
 * Rebalancing and isolation as pure functions of a snapshot: which configs move where. The
 * dispatcher applies the moves. Semantics follow the original (reference section c): busyness
 * with the 0.9 tolerance margin; utilization with pinned configs, stickiness and the
 * improvement rule; isolate re-placing everything else off the isolated check's node.
 */
import type { RunnerStats } from '../types.js';

export interface SnapshotConfig {
  readonly digest: string;
  readonly name: string;
  /** The node it is on. */
  readonly node: string;
  /** Stats of its instances on that node (absent: never reported). */
  readonly stats: readonly RunnerStats[];
  readonly intervalMs: number;
  /** Never moved by rebalancing. */
  readonly pinned: boolean;
  /** Nodes it may run on (all when undefined). */
  readonly eligible?: ReadonlySet<string>;
}

export interface SnapshotNode {
  readonly name: string;
  /** Busyness of everything the node runs, cluster checks and its own. */
  readonly busyness: number;
  readonly workers: number;
}

export interface Move {
  readonly digest: string;
  readonly name: string;
  readonly weight: number;
  readonly from: string;
  readonly fromDiff: number;
  readonly to: string;
  readonly toDiff: number;
}

export interface BusynessWeights {
  readonly exec: number;
  readonly metricSamples: number;
  readonly histogramBuckets: number;
  readonly events: number;
}

/** The original's current weights (helpers.go). */
export const defaultWeights: BusynessWeights = {
  exec: 0,
  metricSamples: 1,
  histogramBuckets: 1,
  events: 0.2,
};

export const TOLERATION_MARGIN = 0.9;

/** 0 for a failing check, else the weighted sum, truncated as Go's int() does. */
export function busynessOf(s: RunnerStats, w: BusynessWeights = defaultWeights): number {
  if (s.LastExecFailed) return 0;
  return Math.trunc(
    w.exec * s.AverageExecutionTime +
      w.metricSamples * s.MetricSamples +
      w.histogramBuckets * s.HistogramBuckets +
      w.events * s.Events,
  );
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * Busyness rebalancing: nodes above the average give their heaviest movable config to the
 * node furthest below it, while `destDiff + weight < int(srcDiff × 0.9)`.
 */
export function rebalanceByBusyness(
  nodes: readonly SnapshotNode[],
  configs: readonly SnapshotConfig[],
  weights: BusynessWeights = defaultWeights,
): Move[] {
  if (!nodes.length) return [];
  const avg = Math.trunc(nodes.reduce((s, n) => s + n.busyness, 0) / nodes.length);
  const diff = new Map(nodes.map((n) => [n.name, n.busyness - avg]));
  const onNode = new Map<string, { c: SnapshotConfig; weight: number }[]>();
  for (const c of configs) {
    if (c.pinned) continue;
    const weight = c.stats.reduce((s, st) => s + busynessOf(st, weights), 0);
    const list = onNode.get(c.node) ?? [];
    list.push({ c, weight });
    onNode.set(c.node, list);
  }
  for (const list of onNode.values()) {
    list.sort((a, b) => b.weight - a.weight || (a.c.digest < b.c.digest ? -1 : 1));
  }
  const moves: Move[] = [];
  const order = [...nodes].sort((a, b) => b.busyness - a.busyness || byName(a, b));
  for (const src of order) {
    const list = onNode.get(src.name) ?? [];
    while (diff.get(src.name)! > 0 && list.length) {
      const { c, weight } = list[0]!;
      if (weight <= 0) break; // moving it would change nothing
      const dest = order
        .filter((n) => n.name !== src.name && (!c.eligible || c.eligible.has(n.name)))
        .reduce<SnapshotNode | undefined>((best, n) => {
          if (!best) return n;
          const d = diff.get(n.name)! - diff.get(best.name)!;
          return d < 0 || (d === 0 && n.name < best.name) ? n : best;
        }, undefined);
      if (!dest) break;
      const srcDiff = diff.get(src.name)!;
      const destDiff = diff.get(dest.name)!;
      if (!(destDiff + weight < Math.trunc(srcDiff * TOLERATION_MARGIN))) break;
      list.shift();
      moves.push({
        digest: c.digest,
        name: c.name,
        weight,
        from: src.name,
        fromDiff: srcDiff,
        to: dest.name,
        toDiff: destDiff,
      });
      diff.set(src.name, srcDiff - weight);
      diff.set(dest.name, destDiff + weight);
    }
  }
  return moves;
}

export interface UtilizationOptions {
  readonly force: boolean;
  /** Percent by which the spread must shrink (default 10). */
  readonly minImprovementPercent: number;
  readonly stickiness: boolean;
}

export const defaultUtilization: UtilizationOptions = {
  force: false,
  minImprovementPercent: 10,
  stickiness: true,
};

/** Workers a config keeps busy: Σ average execution time / interval, at most 1. */
export function workersNeeded(c: SnapshotConfig): number {
  const ms = c.stats.reduce((s, st) => s + st.AverageExecutionTime, 0);
  return Math.min(1, ms / c.intervalMs);
}

export interface UtilizationPlan {
  /** Whether the proposal is applied. */
  readonly accepted: boolean;
  readonly moves: readonly Move[];
  /** Utilization per node before and as proposed. */
  readonly current: ReadonlyMap<string, number>;
  readonly proposed: ReadonlyMap<string, number>;
}

function weightedStd(util: ReadonlyMap<string, number>, nodes: readonly SnapshotNode[]): number {
  const total = nodes.reduce((s, n) => s + n.workers, 0);
  if (!total) return 0;
  const mean = nodes.reduce((s, n) => s + util.get(n.name)! * n.workers, 0) / total;
  const v = nodes.reduce((s, n) => s + n.workers * (util.get(n.name)! - mean) ** 2, 0) / total;
  return Math.sqrt(v);
}

/** Utilization rebalancing: a proposed distribution, accepted when forced, needed or worth it. */
export function rebalanceByUtilization(
  nodes: readonly SnapshotNode[],
  configs: readonly SnapshotConfig[],
  options: UtilizationOptions = defaultUtilization,
): UtilizationPlan {
  const sorted = [...nodes].sort(byName);
  const workers = new Map(sorted.map((n) => [n.name, Math.max(1, n.workers)]));
  const zero = (): Map<string, number> => new Map(sorted.map((n) => [n.name, 0]));
  const current = zero();
  const proposed = zero();
  const counts = zero();
  const needs = new Map(configs.map((c) => [c.digest, workersNeeded(c)]));
  const add = (m: Map<string, number>, node: string, wn: number): void => {
    if (m.has(node)) m.set(node, m.get(node)! + wn / workers.get(node)!);
  };
  for (const c of configs) add(current, c.node, needs.get(c.digest)!);
  const movable: SnapshotConfig[] = [];
  for (const c of configs) {
    const wn = needs.get(c.digest)!;
    if (c.pinned || wn === 0) {
      add(proposed, c.node, wn);
      counts.set(c.node, (counts.get(c.node) ?? 0) + 1);
    } else movable.push(c);
  }
  movable.sort(
    (a, b) => needs.get(b.digest)! - needs.get(a.digest)! || (a.digest < b.digest ? -1 : 1),
  );
  const moves: Move[] = [];
  let misplaced = false;
  // Unrestricted configs find the least utilized node in a heap (log N, not a scan of all nodes).
  const heap = new LeastUtilized(
    sorted.map((n) => n.name),
    proposed,
    counts,
  );
  const names = new Set(sorted.map((n) => n.name));
  for (const c of movable) {
    const wn = needs.get(c.digest)!;
    const bonus = options.stickiness ? Math.min(1, Math.max(0.05, wn * 4)) : 0;
    let best: { name: string; score: number } | undefined;
    if (!c.eligible) {
      if (!names.has(c.node)) misplaced = true;
      const top = heap.peek();
      if (top !== undefined) {
        const stay =
          names.has(c.node) &&
          (top === c.node || proposed.get(c.node)! - bonus <= proposed.get(top)!);
        best = { name: stay ? c.node : top, score: 0 };
      }
    } else {
      const allowed = sorted.filter((n) => c.eligible!.has(n.name));
      if (!allowed.some((n) => n.name === c.node)) misplaced = true;
      for (const n of allowed) {
        let score = proposed.get(n.name)!;
        if (n.name === c.node) score -= bonus;
        const better =
          !best ||
          score < best.score ||
          (score === best.score &&
            (n.name === c.node ||
              (best.name !== c.node && counts.get(n.name)! < counts.get(best.name)!)));
        if (better) best = { name: n.name, score };
      }
    }
    if (!best) continue; // nowhere eligible: it stays
    add(proposed, best.name, wn);
    counts.set(best.name, counts.get(best.name)! + 1);
    heap.update(best.name);
    if (best.name !== c.node) {
      moves.push({
        digest: c.digest,
        name: c.name,
        weight: wn,
        from: c.node,
        fromDiff: current.get(c.node) ?? 0,
        to: best.name,
        toDiff: proposed.get(best.name)!,
      });
    }
  }
  const accepted =
    moves.length > 0 && (options.force || misplaced || worthIt(current, proposed, sorted, options));
  return { accepted, moves: accepted ? moves : [], current, proposed };
}

/**
 * Nodes by (proposed utilization, configs, name), least first: a binary heap with lazy updates
 * (an update pushes a fresh entry; stale ones are dropped when they surface).
 */
class LeastUtilized {
  readonly #heap: { u: number; c: number; name: string; v: number }[] = [];
  readonly #version = new Map<string, number>();

  constructor(
    names: readonly string[],
    private readonly util: ReadonlyMap<string, number>,
    private readonly counts: ReadonlyMap<string, number>,
  ) {
    for (const n of names) this.update(n);
  }

  update(name: string): void {
    const v = (this.#version.get(name) ?? 0) + 1;
    this.#version.set(name, v);
    this.#push({ u: this.util.get(name)!, c: this.counts.get(name)!, name, v });
  }

  peek(): string | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (!top || this.#version.get(top.name) === top.v) return top?.name;
      this.#pop();
    }
  }

  #less(i: number, j: number): boolean {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    return a.u < b.u || (a.u === b.u && (a.c < b.c || (a.c === b.c && a.name < b.name)));
  }

  #swap(i: number, j: number): void {
    [this.#heap[i], this.#heap[j]] = [this.#heap[j]!, this.#heap[i]!];
  }

  #push(e: { u: number; c: number; name: string; v: number }): void {
    this.#heap.push(e);
    for (let i = this.#heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #pop(): void {
    const last = this.#heap.pop()!;
    if (!this.#heap.length) return;
    this.#heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.#heap.length && this.#less(l, m)) m = l;
      if (r < this.#heap.length && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}

/** The original's rebalanceIsWorthIt. */
function worthIt(
  current: ReadonlyMap<string, number>,
  proposed: ReadonlyMap<string, number>,
  nodes: readonly SnapshotNode[],
  options: UtilizationOptions,
): boolean {
  const curStd = weightedStd(current, nodes);
  if (curStd < 0.1) {
    const count = (m: ReadonlyMap<string, number>, f: (u: number) => boolean): number =>
      [...m.values()].filter(f).length;
    return (
      count(proposed, (u) => u > 0.8) < count(current, (u) => u > 0.8) ||
      count(proposed, (u) => u === 0) < count(current, (u) => u === 0)
    );
  }
  return weightedStd(proposed, nodes) < (curStd * (100 - options.minImprovementPercent)) / 100;
}

export interface IsolateOutcome {
  readonly isolated: boolean;
  readonly reason: string;
  readonly node: string;
  readonly moves: readonly Move[];
}

/**
 * Leaves the config `digest` alone on its node: every other config on that node goes, greedily,
 * to the least busy other node it may run on.
 */
export function isolate(
  digest: string | undefined,
  nodes: readonly SnapshotNode[],
  configs: readonly SnapshotConfig[],
  weights: BusynessWeights = defaultWeights,
): IsolateOutcome {
  const target = configs.find((c) => c.digest === digest);
  if (!target) return { isolated: false, reason: 'Unable to find check', node: '', moves: [] };
  if (nodes.length < 2) {
    return { isolated: false, reason: 'No other runners available', node: target.node, moves: [] };
  }
  const busy = new Map(nodes.map((n) => [n.name, n.busyness]));
  const moves: Move[] = [];
  const others = configs
    .filter((c) => c.node === target.node && c.digest !== target.digest)
    .sort((a, b) => (a.digest < b.digest ? -1 : 1));
  for (const c of others) {
    const weight = c.stats.reduce((s, st) => s + busynessOf(st, weights), 0);
    const dest = [...nodes]
      .sort(byName)
      .filter((n) => n.name !== target.node && (!c.eligible || c.eligible.has(n.name)))
      .reduce<string | undefined>(
        (b, n) => (b === undefined || busy.get(n.name)! < busy.get(b)! ? n.name : b),
        undefined,
      );
    if (dest === undefined) continue;
    moves.push({
      digest: c.digest,
      name: c.name,
      weight,
      from: c.node,
      fromDiff: busy.get(c.node)!,
      to: dest,
      toDiff: busy.get(dest)!,
    });
    busy.set(dest, busy.get(dest)! + weight);
    busy.set(c.node, busy.get(c.node)! - weight);
  }
  return { isolated: true, reason: '', node: target.node, moves };
}
