import type { Clock } from '../../src/core/clock.js';

export interface PollOptions {
  clock: Clock;
  intervalMs: number;
  timeoutMs: number;
  /** Checked before every attempt: a reason to give up at once (e.g. a component exited). */
  fatal?: () => Promise<string | undefined>;
}

/**
 * Calls `check` every `intervalMs` of `clock` time until it returns a value. A throw from
 * `check` counts as "not yet" and its message ends up in the timeout error; `fatal` ends the
 * wait early. Time only passes through the clock, so tests drive it with `ManualClock`.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const start = options.clock.now();
  let last = '';
  for (;;) {
    const fatal = await options.fatal?.();
    if (fatal !== undefined) throw new Error(`${what}: ${fatal}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
      last = '';
    } catch (err) {
      last = (err as Error).message;
    }
    const waited = options.clock.now() - start;
    if (waited >= options.timeoutMs) {
      throw new Error(
        `${what}: not done after ${Math.round(waited / 1000)} s${last ? ` (last error: ${last})` : ''}`,
      );
    }
    await options.clock.sleep(Math.min(options.intervalMs, options.timeoutMs - waited));
  }
}
