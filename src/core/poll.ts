/**
 * Polling that outlives a dependency not answering for a while: a command that follows
 * something to its end (`session submit --wait`) should not die of one API call refused under
 * load, yet should not wait unsaid on a server that is gone for good.
 */
import type { Clock } from './clock.js';
import { FathomError } from './errors.js';

export interface PollOptions {
  readonly clock: Clock;
  /** Between attempts that got an answer. */
  readonly everyMs: number;
  /** Told once when a streak of unanswered attempts starts, and once when it ends. */
  readonly warn: (line: string) => void;
  /** How long a streak may last before its last error ends the poll. */
  readonly giveUpAfterMs?: number;
  /** The longest pause between unanswered attempts (each doubles the one before). */
  readonly maxBackoffMs?: number;
}

const GIVE_UP_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 5_000;

/** True for a failure that may pass by itself: a dependency that did not answer. */
export const isUnavailable = (err: unknown): boolean =>
  err instanceof FathomError && err.kind === 'unavailable';

/**
 * Calls `attempt` until it returns a value other than undefined. An attempt that fails as
 * unavailable is retried with a doubling pause; any other failure ends the poll at once.
 */
export async function pollUntil<T>(
  o: PollOptions,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  let failingSince: number | undefined;
  let failures = 0;
  for (;;) {
    try {
      const value = await attempt();
      if (failingSince !== undefined) o.warn('it answered again; going on\n');
      failingSince = undefined;
      failures = 0;
      if (value !== undefined) return value;
      await o.clock.sleep(o.everyMs);
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const now = o.clock.now();
      failingSince ??= now;
      if (now - failingSince >= (o.giveUpAfterMs ?? GIVE_UP_MS)) throw err;
      if (failures === 0) o.warn(`warning: ${(err as Error).message}; retrying\n`);
      const pause = Math.min(o.maxBackoffMs ?? MAX_BACKOFF_MS, o.everyMs * 2 ** failures);
      failures++;
      await o.clock.sleep(pause);
    }
  }
}
