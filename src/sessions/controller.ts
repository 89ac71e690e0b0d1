/**
 * The session controller: submit, the queue, admission, executors, cancel, node changes, and
 * recovery after a restart. Each decision is the pure core's (`refusal`, `admit`,
 * `Reservations`); this class applies them to the store and the executors.
 *
 * Order of writes, so a crash at any point loses nothing: a session is stored Queued before
 * submit returns; its holding is stored before its executor starts and removed only after its
 * workloads are gone. A new controller over the same store (`SessionController.start`) re-queues
 * what was queued, re-adopts the nodes of what was running and resumes watching it (its
 * workloads still run: they are not the controller's children), and frees holdings of sessions
 * that ended.
 *
 * Runs' pool claims (claims.ts) go through the same admission with no executor slot; the
 * ClaimKeeper applies what `admit` and `reconcileClaims` decide for them.
 */
import type { Clock } from '../core/clock.js';
import type { ClaimStore } from './claims.js';
import { claimRunOf } from './claims.js';
import { ClaimKeeper } from './claim-keeper.js';
import { FathomError } from '../core/errors.js';
import type { WorkloadRuntime } from '../core/workload.js';
import { stateAfter } from './events.js';
import type { ExecutorResult } from './executor.js';
import { SessionExecutor } from './executor.js';
import type { Pools } from './pools.js';
import type { QueuedSession, RunningSession } from './queue.js';
import { admit, insertQueued, queuedFrom } from './queue.js';
import type { Reconciliation } from './recovery.js';
import { reconcile } from './recovery.js';
import { storeQueued } from './submit.js';
import type { Assignment, PoolUsage, Refusal } from './reservations.js';
import { refusal, Reservations } from './reservations.js';
import { timeoutMs, ttlMs } from './spec.js';
import { nextStatus } from './status.js';
import type { SessionStore } from './store.js';
import type { PoolNeeds, Session, SessionReason, SessionState } from './types.js';
import { isFinal } from './types.js';

export interface ControllerOptions {
  readonly store: SessionStore;
  readonly runtime: WorkloadRuntime;
  readonly clock: Clock;
  readonly pools: Pools;
  /** Sessions running at once: exactly this many when enough are queued and fit. */
  readonly executors: number;
  readonly labelKey?: string;
  readonly backfill?: boolean;
  /** Grace for each workload's removal. */
  readonly graceMs?: number;
  /** Names this controller in the accepted event. */
  readonly id?: string;
  /** Where an executor's own failure is told (the daemon's log); stderr when not given. */
  readonly log?: (line: string) => void;
  /** Runs' pool claims (claims.ts), admitted with the sessions; none when not given. */
  readonly claims?: ClaimStore;
  /** The backend's probe: true once a claiming run is over, so its nodes are freed. */
  readonly runEnded?: (run: string) => Promise<boolean>;
}

interface Active {
  readonly executor: SessionExecutor;
  readonly holds: PoolNeeds;
  readonly deadline?: number;
  readonly done: Promise<void>;
}

type Listener = (name: string, state: SessionState) => void;

const countsOf = (nodes: Assignment): PoolNeeds =>
  Object.entries(nodes)
    .map(([p, n]) => [p, n.length] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));

export class SessionController {
  readonly #o: ControllerOptions;
  readonly #reservations: Reservations;
  readonly #claims?: ClaimKeeper;
  #queue: QueuedSession[] = [];
  readonly #active = new Map<string, Active>();
  readonly #listeners = new Set<Listener>();
  #closed = false;
  #ticking: Promise<void> = Promise.resolve();

  private constructor(options: ControllerOptions) {
    this.#o = options;
    this.#reservations = new Reservations(options.pools, options.labelKey);
    if (options.claims) {
      this.#claims = new ClaimKeeper({
        claims: options.claims,
        store: options.store,
        reservations: this.#reservations,
        ...(options.labelKey ? { labelKey: options.labelKey } : {}),
        ...(options.runEnded ? { runEnded: options.runEnded } : {}),
      });
    }
  }

  /** A controller over `store`, with what it holds recovered, admitting at once. */
  static async start(options: ControllerOptions): Promise<SessionController> {
    const c = new SessionController(options);
    await c.#reconcile(true);
    await c.tick();
    return c;
  }

  /**
   * Matches the store: sessions written there by another process are queued (or refused at
   * once: PoolError, CapacityError), sessions ended there leave the queue or have their
   * executors stopped, and (on start) provisioning or running ones are resumed over the nodes
   * they hold. The daemon calls it on each tick; `start` once.
   */
  sync(): Promise<void> {
    return this.#serial(() => this.#reconcile(false));
  }

  async #reconcile(starting: boolean): Promise<void> {
    const { store } = this.#o;
    const known = { queued: new Set(this.queued()), active: new Set(this.#active.keys()) };
    const holdings = await store.holdings();
    // Runs' claims hold nodes too (key `run--<run>`): the ClaimKeeper's to match.
    const sessionHoldings = new Map([...holdings].filter(([k]) => claimRunOf(k) === undefined));
    const plan = reconcile(await store.list(), sessionHoldings, known);
    for (const name of plan.unhold) await store.unhold(name);
    for (const name of plan.dequeue) this.#queue = this.#queue.filter((q) => q.name !== name);
    for (const name of plan.stop) this.#active.get(name)?.executor.cancel();
    for (const q of plan.enqueue) await this.#enqueue(q);
    // After the sessions' nodes are taken back: a claim never takes a running session's node.
    if (starting) this.#resume(plan.resume);
    await this.#claims?.sync(holdings);
  }

  #resume(resume: Reconciliation['resume']): void {
    for (const { session, nodes } of resume) {
      const name = session.metadata.name;
      const lost = nodes ? this.#reservations.adopt(name, Object.values(nodes).flat()) : [];
      const executor = this.#startExecutor(session, nodes ?? {}, true);
      if (!nodes || lost.length) {
        const message = nodes
          ? `node ${lost.join(', ')} left its pool while no controller ran`
          : 'the nodes it held are not in the store';
        executor.end({ outcome: 'errored', reason: 'PodsMissing', message });
      }
    }
  }

  /** A session found in the store queued (or with no status yet: written by another tool). */
  async #enqueue(q: QueuedSession): Promise<void> {
    const stored = await this.#o.store.get(q.name);
    if (!stored) return;
    if (!stored.session.status) {
      const now = this.#o.clock.now();
      const message = 'waiting for nodes and an executor';
      await this.#o.store.update(q.name, (s) =>
        s.status
          ? undefined
          : { ...s, status: nextStatus(undefined, 'Queued', 'Submitted', message, now) },
      );
      await this.#o.store.addEvent({
        session: q.name,
        kind: 'queued',
        time: now,
        reason: 'Submitted',
        message,
      });
    }
    const r = refusal(q.needs, this.#reservations, this.#o.labelKey);
    if (r) return this.#refuse(q.name, r);
    insertQueued(this.#queue, q);
  }

  /** Every change of state this controller stores; returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the session once `until` holds of its state (checked in the store first). */
  async until(name: string, until: (s: SessionState) => boolean): Promise<Session> {
    const seen = new Promise<void>((resolve) => {
      const off = this.onChange((n, s) => {
        if (n === name && until(s)) done();
      });
      const done = (): void => {
        off();
        resolve();
      };
      void this.#o.store.get(name).then((cur) => {
        const state = cur?.session.status?.state ?? 'Queued';
        // A final state counts once its nodes are free (#ended tells it then).
        if (cur && until(state) && !(isFinal(state) && this.#active.has(name))) done();
      });
    });
    await seen;
    return (await this.#o.store.get(name))!.session;
  }

  #changed(name: string, state: SessionState): void {
    for (const l of [...this.#listeners]) l(name, state);
  }

  /**
   * Queues a validated session; FATHOM_SESSION_REFUSED when it can never run (its pools),
   * FATHOM_SESSION_EXISTS when the name is taken.
   */
  async submit(session: Session): Promise<Session> {
    const now = this.#o.clock.now();
    const queued = await storeQueued(
      this.#o.store,
      session,
      this.#reservations,
      this.#o.labelKey,
      now,
    );
    const name = queued.metadata.name;
    insertQueued(this.#queue, queuedFrom(queued, now));
    this.#changed(name, 'Queued');
    await this.tick();
    return queued;
  }

  /** Ends a session from the queue (event `errored`), for a refusal or a cancel. */
  async #endQueued(name: string, reason: SessionReason, message: string): Promise<void> {
    this.#queue = this.#queue.filter((q) => q.name !== name);
    const now = this.#o.clock.now();
    const state: SessionState = reason === 'Cancelled' ? 'Cancelled' : 'Errored';
    const wrote = await this.#o.store.update(name, (s) =>
      (s.status?.state ?? 'Queued') === 'Queued'
        ? { ...s, status: nextStatus(s.status, state, reason, message, now) }
        : undefined,
    );
    if (wrote?.status?.state !== state) return;
    await this.#o.store.addEvent({ session: name, kind: 'errored', time: now, reason, message });
    this.#changed(name, state);
  }

  async #refuse(name: string, r: Refusal): Promise<void> {
    await this.#endQueued(name, r.reason, r.message);
  }

  /** Cancels a session in any state; a final one stays as it is. */
  async cancel(name: string): Promise<Session> {
    const cur = await this.#o.store.get(name);
    if (!cur) throw new FathomError('FATHOM_SESSION_NOT_FOUND', `no session ${name}`);
    // Between admissions: a session is either still queued or has its executor.
    await this.#serial(async () => {
      if (this.#active.has(name)) return;
      await this.#endQueued(name, 'Cancelled', 'cancelled by the user while queued');
    });
    const active = this.#active.get(name);
    if (active) {
      active.executor.cancel();
      await active.done;
    }
    return (await this.#o.store.get(name))!.session;
  }

  /** Admits what the rule allows now, refuses what can never run, and drops expired sessions. */
  tick(): Promise<void> {
    return this.#serial(() => this.#tickOnce());
  }

  /** One admission or sync at a time: two at once would both start the same head. */
  #serial(step: () => Promise<void>): Promise<void> {
    const next = this.#ticking.then(step);
    this.#ticking = next.catch(() => {});
    return next;
  }

  async #tickOnce(): Promise<void> {
    if (this.#closed) return;
    const now = this.#o.clock.now();
    const running: RunningSession[] = [...this.#active].map(([name, a]) => ({
      name,
      holds: a.holds,
      ...(a.deadline !== undefined ? { deadline: a.deadline } : {}),
    }));
    const decision = admit(
      {
        queued: this.#queue,
        claims: this.#claims?.queue() ?? [],
        running,
        reservations: this.#reservations,
        executors: this.#o.executors,
      },
      now,
      {
        backfill: this.#o.backfill ?? true,
        ...(this.#o.labelKey ? { labelKey: this.#o.labelKey } : {}),
      },
    );
    for (const { session, refusal: r } of decision.refuse) {
      if (session.slot === false) await this.#claims?.refuse(session, r);
      else await this.#refuse(session.name, r);
    }
    for (const q of decision.start) {
      if (q.slot === false) await this.#claims?.grant(q);
      else await this.#admit(q, now);
    }
    await this.#expire(now);
  }

  async #admit(q: QueuedSession, now: number): Promise<void> {
    const stored = await this.#o.store.get(q.name);
    this.#queue = this.#queue.filter((x) => x.name !== q.name);
    if (stored?.session.status?.state !== 'Queued') return; // cancelled meanwhile
    const got = this.#reservations.reserve(q.name, q.needs);
    if (!got.ok) throw new Error(`admitted ${q.name} but: ${got.error.message}`);
    await this.#o.store.hold(q.name, got.nodes); // before anything is placed
    const limit = timeoutMs(stored.session.spec);
    this.#startExecutor(
      stored.session,
      got.nodes,
      false,
      limit === undefined ? undefined : now + limit,
    );
  }

  #startExecutor(
    session: Session,
    nodes: Assignment,
    resume: boolean,
    deadline?: number,
  ): SessionExecutor {
    const name = session.metadata.name;
    const executor = new SessionExecutor({
      session,
      nodes,
      resume,
      runtime: this.#o.runtime,
      store: this.#o.store,
      clock: this.#o.clock,
      executorId: this.#o.id ?? 'controller',
      ...(this.#o.graceMs !== undefined ? { graceMs: this.#o.graceMs } : {}),
      // A final state is told by #ended, once the session's nodes are free again.
      onEvent: (kind, reason) => {
        if (kind !== 'done' && kind !== 'errored') this.#changed(name, stateAfter(kind, reason));
      },
    });
    const done = executor.run().then(
      (result) => this.#ended(name, result),
      (err: unknown) => {
        // The executor itself broke (the store?): its holding stays for the next controller.
        this.#active.delete(name);
        const log = this.#o.log ?? ((line: string) => console.error(line));
        log(`session ${name}: executor failed: ${(err as Error).message}`);
      },
    );
    const holds = countsOf(nodes);
    this.#active.set(name, {
      executor,
      holds,
      done,
      ...(deadline !== undefined ? { deadline } : {}),
    });
    return executor;
  }

  async #ended(name: string, result: ExecutorResult): Promise<void> {
    if (result.detached) return void this.#active.delete(name);
    this.#reservations.release(name);
    await this.#o.store.unhold(name);
    this.#active.delete(name);
    const final = (await this.#o.store.get(name))?.session.status?.state;
    if (final) this.#changed(name, final);
    await this.tick();
  }

  /**
   * The cluster's nodes changed: a running session that lost a node ends Errored PodsMissing
   * (its holding released once its workloads are gone), a queued one that can no longer run
   * ends with its refusal.
   */
  setPools(pools: Pools): Promise<void> {
    return this.#serial(() => this.#setPools(pools));
  }

  async #setPools(pools: Pools): Promise<void> {
    const lost = this.#reservations.setPools(pools);
    await this.#claims?.poolsChanged(lost);
    for (const { holder, nodes } of lost) {
      const message = `node ${nodes.join(', ')} left pool or cluster`;
      this.#active
        .get(holder)
        ?.executor.end({ outcome: 'errored', reason: 'PodsMissing', message });
    }
    for (const q of [...this.#queue]) {
      const r = refusal(q.needs, this.#reservations, this.#o.labelKey);
      if (r) await this.#refuse(q.name, r);
    }
    await this.#tickOnce();
  }

  /** Finished sessions past their ttl go, with their events and logs. */
  async #expire(now: number): Promise<void> {
    for (const { session } of await this.#o.store.list()) {
      const stop = Date.parse(session.status?.stopTime ?? '');
      if (Number.isNaN(stop) || stop + ttlMs(session.spec) > now) continue;
      await this.#o.store.remove(session.metadata.name);
    }
  }

  usage(): PoolUsage[] {
    return this.#reservations.usage();
  }

  /** Names of the sessions with an executor now. */
  running(): string[] {
    return [...this.#active.keys()].sort();
  }

  queued(): string[] {
    return this.#queue.map((q) => q.name);
  }

  /** Runs whose pool claims wait, in queue order, and those holding nodes. */
  claims(): { readonly queued: string[]; readonly granted: string[] } {
    return { queued: this.#claims?.queued() ?? [], granted: this.#claims?.granted() ?? [] };
  }

  /** Ticks every `ms` on the clock until `signal` aborts (the daemon's loop). */
  async loop(ms: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#o.clock.sleep(ms, signal);
      } catch {
        return;
      }
      await this.sync();
      await this.tick();
    }
  }

  /**
   * Goes away as a killed controller would: executors stop watching, workloads, holdings and
   * statuses stay as they are for the next controller.
   */
  async abandon(): Promise<void> {
    this.#closed = true;
    const done = [...this.#active.values()];
    for (const a of done) a.executor.detach();
    await Promise.all(done.map((a) => a.done));
  }
}
