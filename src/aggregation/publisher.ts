import type { Clock } from '../core/clock.js';
import type { RunStatus } from './types.js';

/**
 * At most one status write per second: every progress update or result changes the status, and
 * the whole document is rewritten each time (Sonobuoy annotates its pod every 5 s).
 */
export const STATUS_WRITE_INTERVAL_MS = 1000;

export interface PublisherOptions {
  clock: Clock;
  /** Least time between the starts of two writes; 0 writes as fast as the sink allows. */
  minIntervalMs: number;
  onError: (err: unknown) => void;
}

/**
 * Writes status snapshots one at a time and at most one per interval, dropping the ones
 * overtaken meanwhile: the reader only ever needs the newest. The first snapshot goes out at
 * once, and `flush` skips the wait for snapshots that must not lag (phase changes, the last one).
 */
export class CoalescingPublisher {
  #latest: RunStatus | undefined;
  #running: Promise<void> | undefined;
  #lastWrite: number | undefined;
  #urgent = false;
  #wake: AbortController | undefined;
  readonly #publish: (status: RunStatus) => Promise<void>;
  readonly #options: PublisherOptions;

  constructor(publish: (status: RunStatus) => Promise<void>, options: PublisherOptions) {
    this.#publish = publish;
    this.#options = options;
  }

  /** Queues a snapshot; resolves when it (or a newer one) has been written. */
  push(status: RunStatus): Promise<void> {
    this.#latest = status;
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Queues a snapshot to be written without waiting out the interval. */
  flush(status: RunStatus): Promise<void> {
    this.#urgent = true;
    this.#wake?.abort();
    return this.push(status);
  }

  async #drain(): Promise<void> {
    const { clock, minIntervalMs } = this.#options;
    while (this.#latest) {
      const wait =
        this.#urgent || this.#lastWrite === undefined
          ? 0
          : this.#lastWrite + minIntervalMs - clock.now();
      if (wait > 0) {
        this.#wake = new AbortController();
        await clock.sleep(wait, this.#wake.signal).catch(() => undefined); // woken by flush
        this.#wake = undefined;
        continue;
      }
      this.#urgent = false;
      const next = this.#latest;
      this.#latest = undefined;
      this.#lastWrite = clock.now();
      try {
        await this.#publish(next);
      } catch (err) {
        this.#options.onError(err);
      }
    }
  }
}
