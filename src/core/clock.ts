/**
 * Time as a dependency. Everything that waits, retries or times out takes a `Clock`,
 * so tests drive time with `ManualClock` instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told. `advance` wakes sleepers in due order and lets the
 * microtasks they schedule run before moving on, so chains of sleeps behave as in real time.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #sleepers: Sleeper[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** How many sleeps are waiting: lets a test see that code reached its wait. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /**
   * Resolves once at least `count` sleeps are waiting: a test awaits this (raced with the
   * code's own promise) instead of spinning until the code under test reaches its wait.
   */
  whenSleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Durations of the pending sleeps, relative to now, in due order. */
  pendingDelays(): number[] {
    return this.#sorted().map((s) => s.due - this.#now);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const sleeper: Sleeper = { due: this.#now + Math.max(0, ms), seq: this.#seq++, resolve };
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal!));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      const ready = this.#waiters.filter((w) => this.#sleepers.length >= w.count);
      this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
    });
  }

  /** Move time forward by `ms`, waking every sleeper that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const next = this.#sorted()[0];
      if (!next || next.due > target) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      this.#now = Math.max(this.#now, next.due);
      next.resolve();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /** Advance in steps until `done()` holds or `limitMs` has passed; returns the time used. */
  async runUntil(done: () => boolean, stepMs: number, limitMs: number): Promise<number> {
    const start = this.#now;
    while (!done() && this.#now - start < limitMs) await this.advance(stepMs);
    return this.#now - start;
  }

  #sorted(): Sleeper[] {
    return [...this.#sleepers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }
}

/** Let pending promise callbacks (and one turn of I/O callbacks) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
