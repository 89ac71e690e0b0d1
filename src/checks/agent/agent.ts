/**
 * The node agent's dispatch loop (the original's clusterchecks config provider), with fencing:
 * every poll POSTs status with the last_change it holds and fetches the full list when told it
 * is stale. An assignment counts as confirmed from the moment the confirming request was SENT;
 * when nothing confirms it for the node expiration, the agent stops every check — by then the
 * dispatcher may have expired the node and moved them, so a partitioned or slow agent never
 * keeps running a check that runs elsewhere. Answers from a lower term than one already seen
 * come from a deposed leader and are ignored.
 */
import type { Clock } from '../../core/clock.js';
import type { CheckConfig, RunnerStatsMap } from '../types.js';
import { NODE_TYPE_NODE_AGENT, type LastRun, type NodeStatus } from '../wire.js';
import type { AgentClient } from './client.js';

/** Stop this much before the dispatcher could expire the node. */
export const FENCE_MARGIN_MS = 1000;

/** What runs the checks the agent holds (the scheduler of `run/`). */
export interface CheckExecutor {
  /** Replaces the held configs: new ones start, removed ones stop at once. */
  set(configs: readonly CheckConfig[]): void;
  stats(): RunnerStatsMap;
  lastRuns(): Readonly<Record<string, LastRun>>;
}

export interface AgentOptions {
  readonly node: string;
  readonly client: AgentClient;
  readonly executor: CheckExecutor;
  readonly clock: Clock;
  /** Between polls (the original's 10 s). */
  readonly pollMs: number;
  /** Until the dispatcher says otherwise (its default, 30 s). */
  readonly nodeExpirationMs: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly compat?: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly workers?: number;
  readonly onEvent?: (e: AgentEvent) => void;
}

export type AgentEvent =
  | { readonly type: 'configs'; readonly count: number; readonly term: number }
  | { readonly type: 'fenced'; readonly count: number }
  | { readonly type: 'error'; readonly message: string };

export class NodeAgent {
  lastChange = 0;
  /** The highest term seen: answers below it are a deposed leader's. */
  term = -1;
  held: readonly CheckConfig[] = [];
  /** Send time of the last request whose answer confirmed the assignment. */
  confirmedAt: number;
  expirationMs: number;
  #polling: Promise<void> | undefined;

  constructor(private readonly o: AgentOptions) {
    this.confirmedAt = o.clock.now();
    this.expirationMs = o.nodeExpirationMs;
  }

  /**
   * Polls until `signal` aborts, then stops every check. A watchdog beside the polls fences at
   * the deadline itself: a poll that hangs on a dead network must not delay the fence.
   */
  async run(signal: AbortSignal): Promise<void> {
    const polling = (async () => {
      while (!signal.aborted) {
        await this.poll();
        await this.o.clock.sleep(this.o.pollMs, signal).catch(() => undefined);
      }
    })();
    const watchdog = (async () => {
      while (!signal.aborted) {
        const wait = this.fenceDeadline() - this.o.clock.now();
        if (wait <= 0) this.#fenceIfExpired();
        await this.o.clock.sleep(wait > 0 ? wait : this.o.pollMs, signal).catch(() => undefined);
      }
    })();
    await Promise.all([polling, watchdog]);
    this.#hold([]);
  }

  /**
   * When held checks must stop unless confirmed again: the node expiration after the last
   * confirming request was sent, less a margin for clocks that run at slightly different rates.
   */
  fenceDeadline(): number {
    return this.confirmedAt + this.expirationMs - FENCE_MARGIN_MS;
  }

  /** Resolves when no poll is in flight (tests step the clock between polls). */
  async settled(): Promise<void> {
    while (this.#polling) await this.#polling;
  }

  /** One poll: status, configs when stale, fencing when unconfirmed for too long. */
  poll(): Promise<void> {
    const p = this.#poll().finally(() => {
      if (this.#polling === p) this.#polling = undefined;
    });
    this.#polling = p;
    return p;
  }

  async #poll(): Promise<void> {
    const { client, node, clock } = this.o;
    const sentAt = clock.now();
    try {
      const status = await client.postStatus(node, this.#status());
      if (!this.#accept(status.term, status.expirationMs))
        throw new Error('answer from a deposed leader');
      if (!status.value) {
        const got = await client.getConfigs(node);
        if (!this.#accept(got.term, got.expirationMs))
          throw new Error('answer from a deposed leader');
        this.lastChange = got.value.lastChange;
        this.#hold(got.value.configs);
        this.o.onEvent?.({ type: 'configs', count: this.held.length, term: this.term });
      }
      this.confirmedAt = sentAt;
    } catch (err) {
      this.o.onEvent?.({ type: 'error', message: (err as Error).message });
      this.#fenceIfExpired();
    }
  }

  #accept(term: number, expirationMs: number | undefined): boolean {
    if (term >= 0 && term < this.term) return false;
    this.term = Math.max(this.term, term);
    if (expirationMs) this.expirationMs = expirationMs;
    return true;
  }

  #fenceIfExpired(): void {
    if (!this.held.length) return;
    if (this.o.clock.now() < this.fenceDeadline()) return;
    const count = this.held.length;
    this.#hold([]);
    // Whatever is assigned now must be fetched afresh: nothing held matches any last_change.
    this.lastChange = 0;
    this.o.onEvent?.({ type: 'fenced', count });
  }

  #hold(configs: readonly CheckConfig[]): void {
    this.held = configs;
    this.o.executor.set(configs);
  }

  #status(): NodeStatus {
    const { labels, compat, workers } = this.o;
    return {
      last_change: this.lastChange,
      node_type: NODE_TYPE_NODE_AGENT,
      ...(compat
        ? { check_compatibility: { include: [...compat.include], exclude: [...compat.exclude] } }
        : {}),
      ...(labels ? { labels: { ...labels } } : {}),
      ...(workers ? { workers } : {}),
      stats: this.o.executor.stats(),
      runs: this.o.executor.lastRuns(),
    };
  }
}
