/**
 * The dispatcher of one leadership term (the original's dispatcher + clusterStore): takes check
 * configs, answers the agents' status and config requests, expires silent nodes, re-dispatches
 * dangling configs and rebalances. Every method takes `now`; `run` drives the periodic work on
 * the clock. Decisions come from the pure functions beside it.
 */
import type { Clock } from '../../core/clock.js';
import type { CheckConfig } from '../types.js';
import {
  HEARTBEAT_ONLY,
  type ConfigResponse,
  type IsolateResponse,
  type NodeStatus,
  type RebalanceResponse,
  type StateResponse,
} from '../wire.js';
import { hashAssignment, HashRing, loadCap, ringTarget } from './hashring.js';
import { candidates, fewestConfigs, randomNode, type Strategy } from './placement.js';
import {
  busynessOf,
  defaultWeights,
  isolate,
  rebalanceByBusyness,
  rebalanceByUtilization,
  type Move,
  type SnapshotConfig,
  type SnapshotNode,
} from './rebalance.js';
import { ChangeStamps, ClusterState, type NodeRecord } from './state.js';

export interface DispatcherOptions {
  readonly strategy: Strategy;
  readonly nodeExpirationMs: number;
  readonly unscheduledThresholdMs: number;
  readonly rebalancePeriodMs: number;
  readonly minImprovementPercent: number;
  readonly checkIds: (config: CheckConfig) => readonly string[];
  /** In [0, 1): the random strategies' placement. */
  readonly random: () => number;
  /** Told about every change a metric or log would show. */
  readonly observer?: DispatchObserver;
}

export interface DispatchObserver {
  nodeRegistered?(node: string): void;
  nodeExpired?(node: string, configs: number): void;
  moved?(moves: readonly Move[], reason: 'rebalance' | 'isolate' | 'hashing'): void;
  unscheduled?(config: CheckConfig): void;
}

export const defaultDispatcherTimes = {
  nodeExpirationMs: 30_000,
  warmupMs: 30_000,
  unscheduledThresholdMs: 60_000,
  rebalancePeriodMs: 600_000,
} as const;

export class Dispatcher {
  readonly state: ClusterState;
  /** False while warming up: status POSTs register nodes and are told they are up to date. */
  active = false;
  #hashingStale = false;
  #ringOf: readonly NodeRecord[] | undefined;
  #ringCache: HashRing | undefined;

  constructor(private readonly options: DispatcherOptions) {
    this.state = new ClusterState(new ChangeStamps(), options.checkIds);
  }

  /** Takes a config: endpoints checks are kept per node, others placed (or left dangling). */
  schedule(config: CheckConfig, now: number): void {
    if (config.exclude) return;
    if (config.node !== undefined) {
      this.state.addEndpoint({ ...config, node: config.node });
      return;
    }
    if (this.state.configs.has(config.digest)) return;
    this.state.addConfig(config, this.#target(config), now);
  }

  unschedule(config: CheckConfig, now: number): void {
    if (config.node !== undefined) this.state.removeEndpoint({ ...config, node: config.node });
    else this.state.removeConfig(config.digest, now);
  }

  /** The original's processNodeStatus: registers or refreshes the node, says if it is up to date. */
  postStatus(name: string, status: NodeStatus, clientIP: string, now: number): boolean {
    const { node, created } = this.state.node(name);
    if (created) {
      this.options.observer?.nodeRegistered?.(name);
      if (this.options.strategy === 'hashing') this.#hashingStale = true;
    }
    if (clientIP && clientIP !== node.clientIP) node.clientIP = clientIP;
    node.heartbeat = now;
    node.nodeType = status.node_type ?? 0;
    const compat = status.check_compatibility;
    this.state.setCompat(
      node,
      compat && { include: compat.include ?? [], exclude: compat.exclude ?? [] },
      now,
    );
    if (status.labels) node.labels = status.labels;
    if (status.stats) node.stats = status.stats;
    if (status.runs) node.runs = status.runs;
    if (status.workers) node.workers = status.workers;
    if (status.last_change === HEARTBEAT_ONLY) return true;
    if (node.lastConfigChange === status.last_change) return true;
    return !this.active; // the warmup lie: keep what you run until dispatching starts
  }

  /** The node's full config list, or undefined for a node that never registered. */
  configsFor(name: string): ConfigResponse | undefined {
    const node = this.state.nodes.get(name);
    if (!node) return undefined;
    return {
      last_change: node.lastConfigChange,
      configs: [...node.digests].map((d) => this.state.configs.get(d)!),
    };
  }

  endpointsFor(node: string): ConfigResponse {
    return { last_change: 0, configs: [...(this.state.endpoints.get(node)?.values() ?? [])] };
  }

  allEndpoints(): CheckConfig[] {
    return [...this.state.endpoints.values()].flatMap((m) => [...m.values()]);
  }

  stateResponse(): StateResponse {
    const nodes = this.state.sortedNodes().map((n) => ({
      name: n.name,
      configs: [...n.digests].sort().map((d) => ({
        instance_ids: this.state.idsOf(d),
        config: this.state.configs.get(d)!,
      })),
      ...(Object.keys(n.stats).length ? { stats: n.stats } : {}),
      ...(Object.keys(n.runs).length ? { runs: n.runs } : {}),
    }));
    const dangling = [...this.state.dangling.values()].map((d) => d.config);
    return { not_running: '', warmup: !this.active, nodes, dangling };
  }

  /**
   * One cleanup tick: expire nodes silent for longer than the expiration, then place dangling
   * configs if any node is left (and, for hashing, follow membership changes).
   */
  sweep(now: number): void {
    const deadline = now - this.options.nodeExpirationMs;
    for (const node of [...this.state.nodes.values()]) {
      if (node.heartbeat >= deadline) continue;
      // A leaving node's configs are placed one by one on the ring (below), not by a recompute.
      const moved = this.state.expireNode(node.name, now);
      this.options.observer?.nodeExpired?.(node.name, moved.length);
    }
    if (!this.active || !this.state.nodes.size) return;
    if (this.#hashingStale) {
      this.#hashingStale = false;
      this.#applyMoves(this.#hashingMoves(), 'hashing', now);
    }
    for (const [digest, d] of [...this.state.dangling]) {
      if (this.state.dangling.has(digest))
        this.state.addConfig(d.config, this.#target(d.config), now);
    }
  }

  /** Flags configs dangling for longer than the threshold (once each). */
  markUnscheduled(now: number): void {
    for (const d of this.state.dangling.values()) {
      if (d.unscheduled || now - d.since < this.options.unscheduledThresholdMs) continue;
      d.unscheduled = true;
      this.options.observer?.unscheduled?.(d.config);
    }
  }

  /** Rebalances by the strategy (count: nothing to do). Returns the moves applied. */
  rebalance(force: boolean, now: number): RebalanceResponse[] {
    const { nodes, configs } = this.#snapshot();
    let moves: readonly Move[] = [];
    if (this.options.strategy === 'busyness') moves = rebalanceByBusyness(nodes, configs);
    else if (this.options.strategy === 'utilization') {
      moves = rebalanceByUtilization(nodes, configs, {
        force,
        minImprovementPercent: this.options.minImprovementPercent,
        stickiness: true,
      }).moves;
    } else if (this.options.strategy === 'hashing') moves = this.#hashingMoves();
    this.#applyMoves(moves, 'rebalance', now);
    return moves.map((m) => ({
      digest: m.digest,
      check_name: m.name,
      check_weight: m.weight,
      source_node_name: m.from,
      source_diff: m.fromDiff,
      dest_node_name: m.to,
      dest_diff: m.toDiff,
    }));
  }

  isolateCheck(checkId: string, now: number): IsolateResponse {
    const { nodes, configs } = this.#snapshot();
    const outcome = isolate(this.state.idToDigest.get(checkId), nodes, configs);
    this.#applyMoves(outcome.moves, 'isolate', now);
    return {
      check_id: checkId,
      check_node: outcome.node,
      is_isolated: outcome.isolated,
      reason: outcome.reason,
    };
  }

  /**
   * The periodic work of an active term until `signal` aborts: cleanup every half expiration,
   * the unscheduled check at max(threshold, expiration), rebalancing every period.
   */
  async run(clock: Clock, signal: AbortSignal): Promise<void> {
    const every = async (ms: number, tick: (now: number) => void): Promise<void> => {
      while (!signal.aborted) {
        await clock.sleep(ms, signal).catch(() => undefined);
        if (!signal.aborted) tick(clock.now());
      }
    };
    const o = this.options;
    await Promise.all([
      every(Math.max(1, o.nodeExpirationMs / 2), (now) => this.sweep(now)),
      every(Math.max(o.unscheduledThresholdMs, o.nodeExpirationMs), (now) =>
        this.markUnscheduled(now),
      ),
      every(o.rebalancePeriodMs, (now) => void this.rebalance(false, now)),
    ]);
  }

  /** Starts dispatching: every config known is placed afresh on the nodes that registered. */
  activate(configs: Iterable<CheckConfig>, now: number): void {
    this.active = true;
    const sorted = [...configs].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    if (this.options.strategy === 'hashing') {
      for (const c of sorted) {
        if (!c.exclude && c.node === undefined) this.state.addConfig(c, undefined, now);
        else this.schedule(c, now);
      }
      this.#hashingStale = false;
      const target = this.#hashingTargets();
      for (const [digest] of [...this.state.dangling]) {
        this.state.addConfig(this.state.configs.get(digest)!, target.get(digest), now);
      }
      return;
    }
    for (const c of sorted) this.schedule(c, now);
  }

  #target(config: CheckConfig): string | undefined {
    const s = this.state;
    const all = s.unrestricted && !config.nodeSelector;
    const cands = all ? s.sortedNodes() : candidates(s.nodes.values(), config);
    switch (this.options.strategy) {
      case 'count':
        return fewestConfigs(cands);
      case 'busyness':
      case 'utilization':
        return randomNode(cands, this.options.random);
      case 'hashing': {
        // One config at a time: its ring owner under the bound, given the current loads.
        const cap = loadCap(s.configs.size + 1, s.nodes.size);
        const eligible = all ? undefined : new Set(cands.map((n) => n.name));
        return ringTarget(
          this.#ring(),
          { digest: config.digest, ...(eligible ? { eligible } : {}) },
          (n) => s.nodes.get(n)?.load ?? 0,
          cap,
        );
      }
    }
  }

  #eligibility(config: CheckConfig): ReadonlySet<string> | undefined {
    if (this.state.unrestricted && !config.nodeSelector) return undefined;
    return new Set(candidates(this.state.nodes.values(), config).map((n) => n.name));
  }

  /** The ring of the current nodes, rebuilt when membership changed. */
  #ring(): HashRing {
    const nodes = this.state.sortedNodes();
    if (this.#ringOf !== nodes) {
      this.#ringOf = nodes;
      this.#ringCache = new HashRing(nodes.map((n) => n.name));
    }
    return this.#ringCache!;
  }

  #hashingTargets(): Map<string, string> {
    const nodes = this.state.sortedNodes().map((n) => n.name);
    const configs = [...this.state.configs.values()].map((c) => ({
      digest: c.digest,
      eligible: this.#eligibility(c),
    }));
    return hashAssignment(nodes, configs);
  }

  #hashingMoves(): Move[] {
    const target = this.#hashingTargets();
    const moves: Move[] = [];
    for (const [digest, from] of this.state.placement) {
      const to = target.get(digest);
      if (to === undefined || to === from) continue;
      const c = this.state.configs.get(digest)!;
      moves.push({ digest, name: c.name, weight: 1, from, fromDiff: 0, to, toDiff: 0 });
    }
    return moves;
  }

  #applyMoves(
    moves: readonly Move[],
    reason: 'rebalance' | 'isolate' | 'hashing',
    now: number,
  ): void {
    if (!moves.length) return;
    for (const m of moves) {
      const config = this.state.configs.get(m.digest);
      if (config && this.state.nodes.has(m.to)) this.state.addConfig(config, m.to, now);
    }
    this.options.observer?.moved?.(moves, reason);
  }

  #snapshot(): { nodes: SnapshotNode[]; configs: SnapshotConfig[] } {
    const nodes = this.state.sortedNodes().map((n) => ({
      name: n.name,
      busyness: busyness(n),
      workers: n.workers,
    }));
    const configs: SnapshotConfig[] = [];
    for (const [digest, node] of this.state.placement) {
      const c = this.state.configs.get(digest)!;
      const stats = this.state.nodes.get(node)!.stats;
      configs.push({
        digest,
        name: c.name,
        node,
        stats: this.state.idsOf(digest).flatMap((id) => (stats[id] ? [stats[id]] : [])),
        intervalMs: c.intervalMs,
        pinned: c.pinned === true,
        ...(this.#eligibility(c) ? { eligible: this.#eligibility(c)! } : {}),
      });
    }
    return { nodes, configs };
  }
}

function busyness(n: NodeRecord): number {
  return Object.values(n.stats).reduce((s, st) => s + busynessOf(st, defaultWeights), 0);
}
