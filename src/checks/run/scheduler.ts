/**
 * Runs the check instances an agent holds, each on its interval on the clock: at once when
 * added, then `intervalMs` after the previous start (an overrun delays the next run, never
 * overlaps it), at most `workers` runs at a time, each bounded by its timeout.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { CheckInstance, CheckConfig, CheckRun, CheckType, RunnerStats } from '../types.js';
import { DEFAULT_HISTORY_LIMITS, EMPTY_HISTORY, recordRun, runnerStats } from './history.js';
import type { HistoryLimits, RunHistory } from './history.js';
import { runCheck } from './index.js';
import type { RunContext, RunOutcome } from './types.js';

/** The original's default runner worker count (`check_runners`). */
export const DEFAULT_WORKERS = 4;

/** One instance the agent must run: its check ID, its config and its settings. */
export interface ScheduledCheck {
  readonly id: string;
  readonly config: CheckConfig;
  readonly instance: CheckInstance;
}

export type RunFn = (
  type: CheckType,
  instance: CheckInstance,
  ctx: RunContext,
) => Promise<RunOutcome>;

/** What a run needs beyond the clock, its signal and its timeout. */
export type RunExtras = Omit<RunContext, 'clock' | 'signal' | 'timeoutMs'>;

export interface SchedulerOptions {
  readonly clock: Clock;
  /** Runs at once at most; default 4. */
  readonly workers?: number;
  /** Default `runCheck`. */
  readonly run?: RunFn;
  /** Per instance: the cluster reader, the plugin work directory, the node name. */
  readonly extras?: (check: ScheduledCheck) => RunExtras;
  /**
   * Where each instance gets its work directory (`instanceWorkDir`): a plugin check keeps its
   * last results there. Removed with the instance.
   */
  readonly stateDir?: string;
  readonly limits?: HistoryLimits;
  /** Told of each run as it is recorded. */
  readonly onRun?: (check: ScheduledCheck, run: CheckRun) => void;
}

/** What the agent knows of one instance. */
export interface InstanceResults {
  readonly id: string;
  readonly name: string;
  readonly type: CheckType;
  readonly digest: string;
  readonly running: boolean;
  readonly last?: CheckRun;
  readonly history: RunHistory;
}

/** An instance's own directory under `stateDir`: its check ID made safe as one path segment. */
export function instanceWorkDir(stateDir: string, id: string): string {
  const safe = encodeURIComponent(id).replace(/^\.+/, (dots) => '%2E'.repeat(dots.length));
  return join(stateDir, safe || '%00');
}

/** A FIFO counting semaphore whose waits can be abandoned. */
class Slots {
  #free: number;
  #waiters: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error('aborted'));
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        const next = this.#waiters.shift();
        if (next) next();
        else this.#free++;
      };
      if (this.#free > 0) {
        this.#free--;
        return resolve(release);
      }
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== grant);
        reject(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }
}

interface Entry {
  readonly check: ScheduledCheck;
  readonly controller: AbortController;
  history: RunHistory;
  running: boolean;
  loop: Promise<void>;
}

/** Same instance, same settings: its schedule and history carry on. */
function unchanged(a: ScheduledCheck, b: ScheduledCheck): boolean {
  return (
    a.config.digest === b.config.digest &&
    a.config.intervalMs === b.config.intervalMs &&
    a.config.timeoutMs === b.config.timeoutMs &&
    JSON.stringify(a.instance) === JSON.stringify(b.instance)
  );
}

export class Scheduler {
  readonly #clock: Clock;
  readonly #slots: Slots;
  readonly #run: RunFn;
  readonly #options: SchedulerOptions;
  readonly #limits: HistoryLimits;
  #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#slots = new Slots(Math.max(1, options.workers ?? DEFAULT_WORKERS));
    this.#run = options.run ?? runCheck;
    this.#limits = options.limits ?? DEFAULT_HISTORY_LIMITS;
  }

  /**
   * The instances to hold from now on. Removed or changed ones are aborted and forgotten at
   * once; unchanged ones keep their schedule and history; new ones run at once.
   */
  set(checks: readonly ScheduledCheck[]): void {
    if (this.#stopped) return;
    const next = new Map(checks.map((c) => [c.id, c]));
    for (const [id, entry] of this.#entries) {
      const wanted = next.get(id);
      if (wanted && unchanged(entry.check, wanted)) continue;
      entry.controller.abort(new Error(`check ${id} was unscheduled`));
      this.#entries.delete(id);
      this.#forgetFiles(entry);
    }
    for (const check of next.values()) {
      if (this.#entries.has(check.id)) continue;
      const entry: Entry = {
        check,
        controller: new AbortController(),
        history: EMPTY_HISTORY,
        running: false,
        loop: Promise.resolve(),
      };
      this.#entries.set(check.id, entry);
      entry.loop = this.#loop(entry);
    }
  }

  /** Aborts every run and forgets every instance; resolves once all have stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of entries) e.controller.abort(new Error('the agent is stopping'));
    await Promise.all(entries.map((e) => e.loop));
  }

  /** Every instance held, by check ID. */
  results(): InstanceResults[] {
    return [...this.#entries.values()]
      .map((e) => {
        const { id, config } = e.check;
        const last = e.history.runs[e.history.runs.length - 1];
        return {
          id,
          name: config.name,
          type: config.type,
          digest: config.digest,
          running: e.running,
          ...(last ? { last } : {}),
          history: e.history,
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Stats of the instances that have run, by check ID (what an agent reports). */
  stats(): Record<string, RunnerStats> {
    const out: Record<string, RunnerStats> = {};
    for (const [id, e] of this.#entries) {
      if (e.history.totalRuns > 0) out[id] = runnerStats(e.history);
    }
    return out;
  }

  async #loop(entry: Entry): Promise<void> {
    const { check, controller } = entry;
    const { signal } = controller;
    const clock = this.#clock;
    const interval = Math.max(1, check.config.intervalMs);
    try {
      for (;;) {
        const release = await this.#slots.acquire(signal);
        const started = clock.now();
        try {
          entry.running = true;
          const outcome = await this.#runOnce(check, signal);
          if (signal.aborted) return;
          const run: CheckRun = {
            id: check.id,
            status: outcome.status,
            startedAt: started,
            durationMs: Math.max(0, clock.now() - started),
            message: outcome.message,
            metrics: outcome.metrics,
          };
          entry.history = recordRun(entry.history, run, this.#limits);
          try {
            this.#options.onRun?.(check, entry.history.runs[entry.history.runs.length - 1]!);
          } catch {
            // A listener's failure is not the check's.
          }
        } finally {
          entry.running = false;
          release();
        }
        await clock.sleep(Math.max(0, started + interval - clock.now()), signal);
      }
    } catch {
      // Aborted: the instance was removed or the agent is stopping.
    }
  }

  /** Once its last run has stopped, the instance's directory goes too (unless it came back). */
  #forgetFiles(entry: Entry): void {
    const { stateDir } = this.#options;
    if (stateDir === undefined) return;
    const { id } = entry.check;
    void entry.loop
      .then(() => {
        if (!this.#entries.has(id)) {
          return rm(instanceWorkDir(stateDir, id), { recursive: true, force: true });
        }
      })
      .catch(() => undefined);
  }

  async #runOnce(check: ScheduledCheck, signal: AbortSignal): Promise<RunOutcome> {
    try {
      return await this.#run(check.config.type, check.instance, {
        ...(this.#options.stateDir !== undefined
          ? { workDir: instanceWorkDir(this.#options.stateDir, check.id) }
          : {}),
        ...this.#options.extras?.(check),
        clock: this.#clock,
        signal,
        timeoutMs: check.config.timeoutMs,
      });
    } catch (err) {
      // runCheck never throws; a replacement might.
      return { status: 'unknown', message: messageOf(err), metrics: {} };
    }
  }
}
