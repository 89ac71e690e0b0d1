/**
 * What a user's command does with sessions, on any backend: read and write the store the
 * controller works from. Submit refuses what can never run on the pools as they are now and
 * stores the rest Queued; cancel ends the session in the store, and the controller's next sync
 * stops what runs. Another process (the controller) does the rest: this side never admits.
 */
import type { Clock } from '../core/clock.js';
import { FathomError } from '../core/errors.js';
import type { WorkloadRuntime, WorkloadState } from '../core/workload.js';
import type { ClaimStore } from './claims.js';
import { claimHolder, claimRunOf } from './claims.js';
import type { SessionEvent } from './events.js';
import type { Pools } from './pools.js';
import { defaultPoolLabel } from './pools.js';
import type { PoolUsage } from './reservations.js';
import { Reservations } from './reservations.js';
import { nextStatus } from './status.js';
import type { ComponentLog, SessionStore, StoredSession } from './store.js';
import { storeQueued } from './submit.js';
import type { Session } from './types.js';
import { isFinal } from './types.js';

export interface SessionsClientOptions {
  readonly store: SessionStore;
  /** Where the components run: read for their live state and logs. */
  readonly runtime: WorkloadRuntime;
  /** The pools as the cluster's nodes make them now. */
  readonly pools: () => Promise<Pools>;
  readonly clock: Clock;
  readonly labelKey?: string;
  /** Runs' pool claims, shown as holders `run/<name>`; none when absent. */
  readonly claims?: ClaimStore;
}

export class SessionsClient {
  readonly store: SessionStore;
  readonly runtime: WorkloadRuntime;
  readonly #o: SessionsClientOptions;

  constructor(o: SessionsClientOptions) {
    this.#o = o;
    this.store = o.store;
    this.runtime = o.runtime;
  }

  get #labelKey(): string {
    return this.#o.labelKey ?? defaultPoolLabel;
  }

  /** Stores the session Queued; FATHOM_SESSION_REFUSED / _EXISTS as the controller would. */
  async submit(session: Session): Promise<Session> {
    const counts = new Reservations(await this.#o.pools(), this.#labelKey);
    return storeQueued(this.store, session, counts, this.#labelKey, this.#o.clock.now());
  }

  async get(name: string): Promise<StoredSession> {
    const s = await this.store.get(name);
    if (!s) throw new FathomError('FATHOM_SESSION_NOT_FOUND', `no session ${name}`);
    return s;
  }

  /** Oldest first. */
  async list(): Promise<readonly StoredSession[]> {
    return [...(await this.store.list())].sort((a, b) => a.submittedAt - b.submittedAt);
  }

  async events(name: string): Promise<readonly SessionEvent[]> {
    await this.get(name);
    return this.store.events(name);
  }

  async logs(name: string): Promise<readonly ComponentLog[]> {
    await this.get(name);
    return this.store.logs(name);
  }

  /**
   * Ends the session in the store (Cancelled, event `errored`); the controller's next sync
   * drops it from its queue or stops its executor, which removes its workloads and frees its
   * nodes. A final session stays as it is.
   */
  async cancel(name: string): Promise<Session> {
    const now = this.#o.clock.now();
    const message = 'cancelled by the user';
    let changed = false;
    const after = await this.store.update(name, (s) => {
      changed = !(s.status && isFinal(s.status.state));
      return changed
        ? { ...s, status: nextStatus(s.status, 'Cancelled', 'Cancelled', message, now) }
        : undefined;
    });
    if (!after) throw new FathomError('FATHOM_SESSION_NOT_FOUND', `no session ${name}`);
    if (changed) {
      await this.store.addEvent({
        session: name,
        kind: 'errored',
        time: now,
        reason: 'Cancelled',
        message,
      });
    }
    return after;
  }

  /** True once the session holds no nodes and none of its workloads is left. */
  async released(name: string): Promise<boolean> {
    if ((await this.store.holdings()).has(name)) return false;
    return (await this.workloads(name)).length === 0;
  }

  /**
   * Per pool: capacity, reserved, available, and which sessions (and runs, `run/<name>`) hold
   * its nodes. A run's holding is shown while its claim exists (the controller removes the
   * holding at its next look).
   */
  async pools(): Promise<PoolUsage[]> {
    const r = new Reservations(await this.#o.pools(), this.#labelKey);
    const claims = new Set((await this.#o.claims?.list())?.map((c) => c.run));
    for (const [key, nodes] of await this.store.holdings()) {
      const run = claimRunOf(key);
      if (run !== undefined && !claims.has(run)) continue;
      r.adopt(run === undefined ? key : claimHolder(run), Object.values(nodes).flat());
    }
    return r.usage();
  }

  /** The session's workloads now (a running session's components). */
  workloads(name: string): Promise<readonly WorkloadState[]> {
    return this.runtime.list(name);
  }
}
