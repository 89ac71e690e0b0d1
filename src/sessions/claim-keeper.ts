/**
 * The controller's side of runs' pool claims (claims.ts): the claims it has queued, the ones
 * whose nodes it holds, and the writes that go with each decision. Order of writes, as for
 * sessions: the holding is stored before the claim is marked Granted, and removed only after
 * the claim is gone (or its run ended), so a restarted controller finds what each run holds.
 */
import type { ClaimStore, PoolClaim } from './claims.js';
import {
  claimHolder,
  claimKey,
  claimQueued,
  claimRunOf,
  reconcileClaims,
  runMessage,
} from './claims.js';
import type { QueuedSession } from './queue.js';
import { insertQueued } from './queue.js';
import type { Assignment, LostNodes, Refusal, Reservations } from './reservations.js';
import { refusal } from './reservations.js';
import type { SessionStore } from './store.js';

export interface ClaimKeeperOptions {
  readonly claims: ClaimStore;
  readonly store: SessionStore;
  readonly reservations: Reservations;
  readonly labelKey?: string;
  /** The backend's probe: true once the run is over (finished, failed, deleted). */
  readonly runEnded?: (run: string) => Promise<boolean>;
}

export class ClaimKeeper {
  readonly #o: ClaimKeeperOptions;
  /** Waiting claims as the queue sees them (name `run/<run>`), sorted. */
  #queue: QueuedSession[] = [];
  readonly #waiting = new Map<string, PoolClaim>();
  readonly #granted = new Set<string>();

  constructor(o: ClaimKeeperOptions) {
    this.#o = o;
  }

  /** For `admit`. */
  queue(): readonly QueuedSession[] {
    return this.#queue;
  }

  queued(): string[] {
    return this.#queue.map((q) => claimRunOf(q.name)!);
  }

  granted(): string[] {
    return [...this.#granted].sort();
  }

  /**
   * Matches the store: queues new claims (refusing one that can never be met), takes back the
   * nodes of granted ones (after a restart), and frees the nodes of claims removed or whose run
   * ended. `holdings` is every holding in the store; only the claims' are looked at.
   */
  async sync(holdings: ReadonlyMap<string, Assignment>): Promise<void> {
    const { claims, store, reservations } = this.#o;
    const stored = await claims.list();
    const ended = new Set<string>();
    if (this.#o.runEnded) {
      for (const c of stored) if (await this.#o.runEnded(c.run)) ended.add(c.run);
    }
    const mine = new Map([...holdings].filter(([k]) => claimRunOf(k) !== undefined));
    const known = { queued: new Set(this.queued()), granted: this.#granted };
    const plan = reconcileClaims(stored, mine, known, ended);
    for (const run of plan.remove) await claims.remove(run);
    for (const run of plan.release) await this.#release(run);
    for (const key of plan.unhold) await store.unhold(key);
    for (const run of plan.dequeue) this.#drop(run);
    for (const { run, nodes } of plan.adopt) {
      const lost = reservations.adopt(claimHolder(run), nodes);
      this.#granted.add(run);
      if (lost.length) await this.#rewrite(run);
    }
    for (const c of plan.enqueue) {
      const q = claimQueued(c, reservations);
      const r = refusal(q.needs, reservations, this.#o.labelKey);
      if (r) await claims.refuse(c.run, runMessage(r));
      else {
        this.#waiting.set(c.run, c);
        insertQueued(this.#queue, q);
      }
    }
  }

  /** Admitted: reserve, store the holding, then mark the claim Granted. */
  async grant(q: QueuedSession): Promise<void> {
    const run = claimRunOf(q.name)!;
    this.#drop(run);
    const got = this.#o.reservations.reserve(q.name, q.needs);
    if (!got.ok) throw new Error(`admitted ${q.name} but: ${got.error.message}`);
    await this.#o.store.hold(claimKey(run), got.nodes);
    this.#granted.add(run);
    // Removed meanwhile (the run gave up waiting): its nodes go back at once.
    if (!(await this.#o.claims.grant(run, Object.values(got.nodes).flat()))) {
      await this.#release(run);
    }
  }

  async refuse(q: QueuedSession, r: Refusal): Promise<void> {
    const run = claimRunOf(q.name)!;
    this.#drop(run);
    await this.#o.claims.refuse(run, runMessage(r));
  }

  /**
   * The pools changed: a granted run that lost nodes keeps the rest (its holding rewritten; the
   * run itself sees its plugins on a lost node fail), waiting claims are counted again against
   * the new capacity, and those that can no longer be met are refused.
   */
  async poolsChanged(lost: readonly LostNodes[]): Promise<void> {
    for (const { holder } of lost) {
      const run = claimRunOf(holder);
      if (run !== undefined && this.#granted.has(run)) await this.#rewrite(run);
    }
    const waiting = [...this.#waiting.values()];
    this.#queue = [];
    this.#waiting.clear();
    for (const c of waiting) {
      const q = claimQueued(c, this.#o.reservations);
      const r = refusal(q.needs, this.#o.reservations, this.#o.labelKey);
      if (r) await this.#o.claims.refuse(c.run, runMessage(r));
      else {
        this.#waiting.set(c.run, c);
        insertQueued(this.#queue, q);
      }
    }
  }

  #drop(run: string): void {
    this.#waiting.delete(run);
    this.#queue = this.#queue.filter((q) => q.name !== claimHolder(run));
  }

  async #release(run: string): Promise<void> {
    this.#o.reservations.release(claimHolder(run));
    await this.#o.store.unhold(claimKey(run));
    this.#granted.delete(run);
  }

  async #rewrite(run: string): Promise<void> {
    const held = this.#o.reservations.holding(claimHolder(run));
    if (held && Object.values(held).flat().length) await this.#o.store.hold(claimKey(run), held);
    else await this.#o.store.unhold(claimKey(run));
  }
}
