/**
 * Exponential backoff through the injected clock: the crash-loop delay between container
 * restarts and the delay before a failed watch or API write is retried.
 */
import type { Clock } from '../../src/core/clock.js';

export interface BackoffPolicy {
  /** The first delay. */
  readonly initialMs: number;
  /** The delay never grows past this. */
  readonly maxMs: number;
}

/** The kubelet's crash-loop backoff is 10 s doubling to 5 min; scaled down so tests stay quick. */
export const DEFAULT_RESTART_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 10_000 };
/** Watches and API writes that fail are retried after this. */
export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000 };

/** The delay before attempt `failures + 1`: initial · 2^failures, capped. */
export function backoffDelay(policy: BackoffPolicy, failures: number): number {
  const n = Math.max(0, Math.floor(failures));
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(n, 30));
}

/** Counts consecutive failures and sleeps the matching delay; `reset` after a success. */
export class Backoff {
  #failures = 0;

  constructor(
    private readonly clock: Clock,
    private readonly policy: BackoffPolicy,
  ) {}

  get failures(): number {
    return this.#failures;
  }

  /** The delay the next `wait` will sleep. */
  nextDelay(): number {
    return backoffDelay(this.policy, this.#failures);
  }

  /** Sleeps the next delay and counts a failure; rejects if `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.nextDelay();
    this.#failures++;
    await this.clock.sleep(ms, signal);
  }

  reset(): void {
    this.#failures = 0;
  }
}
