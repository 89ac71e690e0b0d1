/**
 * Runs one admitted session over the workload port: places servers, then clients, then other
 * roles, then the driver (each group once every instance placed before is Ready, by
 * `judgeSession`), each instance on the node its reservation holds; watches the session's
 * workloads and ends at the first verdict: the driver's exit, a fast failure, the timeout (on
 * the injected clock, counted from startTime: provisioning and running), a cancel, or a node
 * lost. On every end path it copies the tail of each instance's output into the store, removes
 * every workload of the session, then writes the final status and event.
 *
 * A restarted controller resumes a session with `resume`: workloads already there are adopted
 * (they are not the controller's children), missing ones of the current group are placed.
 * `detach` leaves everything running and writes nothing (a controller going away).
 */
import type { Clock } from '../core/clock.js';
import { isFathomError } from '../core/errors.js';
import type { WorkloadRuntime, WorkloadState } from '../core/workload.js';
import type { SessionEventKind } from './events.js';
import { eventMessages, stateAfter } from './events.js';
import type { Instance, Judgement } from './health.js';
import { judgeSession, timeoutJudgement } from './health.js';
import type { ComponentInstance } from './instances.js';
import { driverEnv, provisioningGroups, workloadFor } from './instances.js';
import type { Assignment } from './reservations.js';
import { timeoutMs } from './spec.js';
import { nextStatus } from './status.js';
import type { SessionStore } from './store.js';
import { sessionStoreLimits } from './store.js';
import type { Session, SessionReason } from './types.js';
import { driverKind, isFinal } from './types.js';

export type Verdict = Extract<Judgement, { outcome: 'succeeded' | 'errored' }>;

export interface ExecutorOptions {
  readonly session: Session;
  readonly nodes: Assignment;
  readonly runtime: WorkloadRuntime;
  readonly store: SessionStore;
  readonly clock: Clock;
  /** Who runs it, in the accepted event. */
  readonly executorId?: string;
  /** Adopt what runs instead of starting from the accepted event. */
  readonly resume?: boolean;
  /** Grace for each workload's removal. */
  readonly graceMs?: number;
  /** Told after each event is stored. */
  readonly onEvent?: (kind: SessionEventKind, reason: SessionReason) => void;
}

export type ExecutorResult =
  { readonly detached: true } | (Verdict & { readonly detached?: false });

/**
 * Each instance with the node it runs on: pools' nodes handed out in provisioning order
 * (undefined when too few are held: the executor then ends PodsMissing without placing).
 */
export function placements(
  session: Session,
  nodes: Assignment,
): (ComponentInstance & { readonly node: string | undefined })[][] {
  const next = new Map<string, number>();
  return provisioningGroups(session).map((group) =>
    group.map((i) => {
      const k = next.get(i.pool) ?? 0;
      next.set(i.pool, k + 1);
      return { ...i, node: nodes[i.pool]?.[k] };
    }),
  );
}

export class SessionExecutor {
  readonly name: string;
  readonly #o: ExecutorOptions;
  readonly #groups: ReturnType<typeof placements>;
  readonly #serves: ReadonlySet<string>;
  readonly #seen = new Map<string, WorkloadState | undefined>();
  readonly #placed = new Set<string>();
  readonly #stop = new AbortController();
  #verdict: Verdict | 'detach' | undefined;
  #wake: () => void = () => {};
  #running = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ExecutorOptions) {
    this.#o = options;
    this.name = options.session.metadata.name;
    this.#groups = placements(options.session, options.nodes);
    this.#serves = new Set(
      options.session.spec.components.filter((c) => c.port !== undefined).map((c) => c.name),
    );
    const unplaceable = this.#groups.flat().find((i) => i.node === undefined);
    if (unplaceable) {
      const message = `no node of pool ${unplaceable.pool} is held for ${unplaceable.workload}`;
      this.end({ outcome: 'errored', reason: 'PodsMissing', message });
    }
  }

  /** Ends the session with this verdict (first verdict wins). */
  end(verdict: Verdict): void {
    this.#verdict ??= verdict;
    this.#wake();
  }

  cancel(): void {
    this.end({ outcome: 'errored', reason: 'Cancelled', message: 'cancelled by the user' });
  }

  /** Stops watching and leaves the workloads running; nothing is written. */
  detach(): void {
    this.#verdict ??= 'detach';
    this.#wake();
  }

  async run(): Promise<ExecutorResult> {
    try {
      return await this.#run();
    } catch (err) {
      // The store or the runtime broke: the workloads go all the same; the status stays for
      // the next controller, which finds them missing and ends the session.
      this.#stop.abort();
      await this.#removeAll().catch(() => {});
      throw err;
    }
  }

  async #run(): Promise<ExecutorResult> {
    const { session, clock, store } = this.#o;
    const ended = new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#verdict) this.#wake();
    let stored = (await store.get(this.name))?.session ?? session;
    if (!this.#o.resume) {
      const executor = this.#o.executorId ?? 'executor';
      await this.#event('accepted', 'Provisioning', eventMessages.accepted(executor, this.name));
      await this.#event('provisioning', 'Provisioning', eventMessages.provisioning);
      stored = (await store.get(this.name))?.session ?? stored;
    } else {
      this.#running = stored.status?.state === 'Running';
      for (const w of await this.#o.runtime.list(this.name)) this.#record(w);
      // Once the driver was placed every instance was: what is gone now is missing.
      if (this.#running) for (const i of this.#groups.flat()) this.#placed.add(i.workload);
    }
    const limit = timeoutMs(session.spec);
    const started = Date.parse(stored.status?.startTime ?? '') || clock.now();
    if (limit !== undefined) {
      clock.sleep(started + limit - clock.now(), this.#stop.signal).then(
        () => this.end(timeoutJudgement(this.#running ? 'running' : 'provisioning', limit)),
        () => {}, // stopped first
      );
    }
    void this.#watch();
    this.#step();
    await ended;
    this.#stop.abort();
    await this.#chain;
    if (this.#verdict === 'detach') return { detached: true };
    return this.#finish(this.#verdict!);
  }

  /** A placed workload; what the watch told of it already is newer than a place's answer. */
  #record(w: WorkloadState): void {
    if (!this.#seen.has(w.name)) this.#seen.set(w.name, w);
    this.#placed.add(w.name);
  }

  async #watch(): Promise<void> {
    try {
      for await (const e of this.#o.runtime.watch(this.name, this.#stop.signal)) {
        if (e.type === 'changed') this.#seen.set(e.workload.name, e.workload);
        else if (e.type === 'removed') this.#seen.set(e.name, undefined);
        else continue; // the watch retries by itself
        this.#step();
      }
    } catch (err) {
      this.end({
        outcome: 'errored',
        reason: 'PodsMissing',
        message: `watch failed: ${(err as Error).message}`,
      });
    }
  }

  /** One decision at a time, in order. */
  #step(): void {
    this.#chain = this.#chain
      .then(() => this.#decide())
      .catch((err: unknown) => {
        const message = `cannot place components: ${(err as Error).message}`;
        this.end({ outcome: 'errored', reason: 'ContainerError', message });
      });
  }

  async #decide(): Promise<void> {
    if (this.#verdict) return;
    const judged = judgeSession(this.#instances());
    if (judged.outcome === 'succeeded' || judged.outcome === 'errored') return this.end(judged);
    // Nothing placed yet is as good as ready: the first group goes.
    if (judged.outcome === 'waiting' && this.#placed.size > 0) return;
    const next = this.#groups.find((g) => g.some((i) => !this.#placed.has(i.workload)));
    if (next) {
      for (const i of next) if (!this.#placed.has(i.workload)) await this.#place(i);
      return this.#step();
    }
    if (!this.#running) await this.#toRunning();
  }

  async #toRunning(): Promise<void> {
    this.#running = true;
    await this.#event('running', 'Running', eventMessages.running);
  }

  #instances(): Instance[] {
    return this.#groups.flat().map((i) => ({
      component: i.component,
      kind: i.kind,
      replica: i.replica,
      placed: this.#placed.has(i.workload),
      workload: this.#seen.get(i.workload),
      serves: this.#serves.has(i.component),
    }));
  }

  async #place(i: ReturnType<typeof placements>[number][number]): Promise<void> {
    const env = i.kind === driverKind ? this.#addresses() : {};
    try {
      const spec = workloadFor(this.#o.session, i, i.node!, env); // checked in the constructor
      this.#record(await this.#o.runtime.place(spec));
    } catch (err) {
      if (!isFathomError(err, 'FATHOM_WORKLOAD_EXISTS')) throw err;
      const w = await this.#o.runtime.get(i.workload); // placed before a restart
      if (w) this.#record(w);
    }
  }

  #addresses(): Record<string, string> {
    const of = (kind: string): string[] =>
      this.#groups
        .flat()
        .filter((i) => i.kind === kind && this.#serves.has(i.component))
        .map((i) => this.#seen.get(i.workload)?.addresses[i.component])
        .filter((a): a is string => a !== undefined);
    return driverEnv(of('server'), of('client'));
  }

  async #finish(verdict: Verdict): Promise<ExecutorResult> {
    // done follows running only: a driver that ended before all was seen ready ran all the same.
    if (verdict.outcome === 'succeeded' && !this.#running) await this.#toRunning();
    const names = await this.#names();
    for (const i of this.#groups.flat()) {
      if (names.has(i.workload)) await this.#keepLog(i).catch(() => {});
    }
    await this.#removeAll(names);
    const kind = verdict.outcome === 'succeeded' ? 'done' : 'errored';
    await this.#event(kind, verdict.reason, verdict.message);
    return verdict;
  }

  async #names(): Promise<Set<string>> {
    const listed = await this.#o.runtime.list(this.name);
    return new Set([...this.#placed, ...listed.map((w) => w.name)]);
  }

  /**
   * Every workload goes, whatever the verdict (stray ones of the owner too), the driver last:
   * a controller killed while cleaning up leaves the driver's exit for the next one to judge.
   */
  async #removeAll(names?: Set<string>): Promise<void> {
    const all = names ?? (await this.#names());
    const order = this.#groups.flat().map((i) => i.workload);
    const rank = (n: string): number => order.indexOf(n); // strays (-1) first
    for (const name of [...all].sort((a, b) => rank(a) - rank(b))) {
      await this.#o.runtime.remove(name, { graceMs: this.#o.graceMs ?? 5_000 });
    }
  }

  async #keepLog(i: ComponentInstance): Promise<void> {
    const max = sessionStoreLimits.logTailBytes;
    let parts: Buffer[] = [];
    let size = 0;
    let dropped = 0;
    for await (const chunk of this.#o.runtime.logs(i.workload, i.component)) {
      parts.push(chunk);
      size += chunk.length;
      if (size > 2 * max) {
        const all = Buffer.concat(parts);
        dropped += all.length - max;
        parts = [all.subarray(all.length - max)];
        size = max;
      }
    }
    const all = Buffer.concat(parts);
    const cut = Math.max(0, all.length - max);
    await this.#o.store.saveLog({
      session: this.name,
      workload: i.workload,
      component: i.component,
      replica: i.replica,
      text: all.subarray(cut).toString('utf8'),
      truncated: dropped + cut,
    });
  }

  /** Stores the event and the status it leaves; a final status is never overwritten. */
  async #event(kind: SessionEventKind, reason: SessionReason, message: string): Promise<void> {
    const { store, clock } = this.#o;
    const now = clock.now();
    const state = stateAfter(kind, reason);
    const wrote = await store.update(this.name, (s) =>
      s.status && isFinal(s.status.state)
        ? undefined
        : { ...s, status: nextStatus(s.status, state, reason, message, now) },
    );
    if (wrote?.status?.state !== state) {
      // Ended in the store by another hand (a cancel): this executor ends too, and cleans up.
      const ended = wrote?.status;
      if (ended && isFinal(ended.state) && !isFinal(state)) {
        this.end({ outcome: 'errored', reason: ended.reason, message: ended.message });
      }
      return;
    }
    await store.addEvent({ session: this.name, kind, time: now, reason, message });
    this.#o.onEvent?.(kind, reason);
  }
}
