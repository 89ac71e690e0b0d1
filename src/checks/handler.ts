/**
 * The glue of one dispatcher replica (the original's Handler): follows leadership, owns the
 * warmup and the dispatcher of each term, keeps the set of known configs across terms, and
 * decides for each API call whether it is answered here, forwarded to the leader, or refused
 * with 503. State exists only on the leader and is rebuilt each term: agents re-register during
 * the warmup, then every config is placed afresh.
 */
import type { Clock } from '../core/clock.js';
import type { Leadership } from '../core/lease.js';
import { Dispatcher, type DispatcherOptions } from './dispatch/dispatcher.js';
import type { CheckConfig } from './types.js';

export type Role = 'unknown' | 'leader' | 'follower';

/** What to do with an agent's request that only the leader may answer. */
export type Route =
  | { readonly to: 'local'; readonly dispatcher: Dispatcher; readonly term: number }
  | { readonly to: 'leader'; readonly address: string }
  | { readonly to: 'unavailable'; readonly message: string };

export const STARTUP_MESSAGE = 'Startup in progress';
export const NO_FORWARDER_MESSAGE =
  'Follower unable to forward as leaderForwarder is not available yet';

export interface HandlerOptions {
  readonly clock: Clock;
  readonly warmupMs: number;
  readonly dispatcher: DispatcherOptions;
  /** Told when a term starts or ends (metrics, logs). */
  readonly onRole?: (role: Role, term: number) => void;
}

export class ChecksHandler {
  role: Role = 'unknown';
  term = -1;
  leaderAddress = '';
  #dispatcher: Dispatcher | undefined;
  #term: AbortController | undefined;
  #running: Promise<void> | undefined;
  /** Every config known, by digest: what a new term replays. */
  readonly #configs = new Map<string, CheckConfig>();

  constructor(private readonly options: HandlerOptions) {}

  /** The dispatcher while leading (warming up or active). */
  get dispatcher(): Dispatcher | undefined {
    return this.#dispatcher;
  }

  get configs(): ReadonlyMap<string, CheckConfig> {
    return this.#configs;
  }

  /** Applies config changes: recorded always, dispatched when a term is active. */
  applyConfigs(added: readonly CheckConfig[], removed: readonly CheckConfig[]): void {
    const now = this.options.clock.now();
    const d = this.#dispatcher?.active ? this.#dispatcher : undefined;
    for (const c of removed) {
      if (!this.#configs.delete(c.digest)) continue;
      d?.unschedule(c, now);
    }
    for (const c of added) {
      if (this.#configs.has(c.digest)) continue;
      this.#configs.set(c.digest, c);
      d?.schedule(c, now);
    }
  }

  /** Where a leader-only request goes. */
  route(): Route {
    if (this.role === 'leader' && this.#dispatcher) {
      return { to: 'local', dispatcher: this.#dispatcher, term: this.term };
    }
    if (this.role === 'follower') {
      return this.leaderAddress
        ? { to: 'leader', address: this.leaderAddress }
        : { to: 'unavailable', message: NO_FORWARDER_MESSAGE };
    }
    return { to: 'unavailable', message: STARTUP_MESSAGE };
  }

  /** Why this replica shows no state ('' when it leads). */
  notRunning(): string {
    if (this.role === 'leader') return '';
    return this.role === 'follower' ? 'currently follower' : STARTUP_MESSAGE;
  }

  /** Follows leadership changes until the iterable ends, then steps down. */
  async follow(leadership: AsyncIterable<Leadership>): Promise<void> {
    try {
      for await (const l of leadership) await this.apply(l);
    } finally {
      await this.#stepDown('unknown');
    }
  }

  /** One leadership change (unknown → leader | follower, leader ⇄ follower, …). */
  async apply(l: Leadership): Promise<void> {
    if (l.role === 'leader') {
      if (this.role === 'leader' && this.term === l.term) return;
      await this.#stepDown('unknown');
      this.#lead(l.term);
      return;
    }
    if (l.role === 'follower') {
      await this.#stepDown('follower');
      this.term = l.term;
      this.leaderAddress = l.address;
      return;
    }
    // A store error: a follower keeps following; a leader only gets here once its lease is
    // no longer surely valid (see elect), and must stop.
    if (this.role === 'leader') await this.#stepDown('unknown');
  }

  /** Stops leading or following (shutdown). */
  stop(): Promise<void> {
    return this.#stepDown('unknown');
  }

  #lead(term: number): void {
    const { clock, warmupMs } = this.options;
    this.role = 'leader';
    this.term = term;
    this.leaderAddress = '';
    const dispatcher = new Dispatcher(this.options.dispatcher);
    this.#dispatcher = dispatcher;
    const stop = new AbortController();
    this.#term = stop;
    this.options.onRole?.('leader', term);
    this.#running = (async () => {
      try {
        await clock.sleep(warmupMs, stop.signal);
      } catch {
        return; // lost leadership while warming up: never dispatch
      }
      dispatcher.activate(this.#configs.values(), clock.now());
      await dispatcher.run(clock, stop.signal);
    })();
  }

  async #stepDown(next: Role): Promise<void> {
    const wasLeader = this.role === 'leader';
    this.#term?.abort();
    await this.#running;
    this.#term = undefined;
    this.#running = undefined;
    this.#dispatcher = undefined;
    this.role = next;
    if (next !== 'follower') this.leaderAddress = '';
    if (wasLeader || next !== 'unknown') this.options.onRole?.(next, this.term);
  }
}
