/**
 * Status writes for one pod, coalesced: at most one write in flight, and each write sends the
 * state as it is when the write starts, so a burst of changes costs one or two API calls.
 * A failed write is retried after a backoff on the clock; 'gone' (the pod no longer exists)
 * or `off()` ends writing for good.
 */
import type { Clock } from '../../src/core/clock.js';
import { Backoff } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';

export class StatusWriter {
  #writing: Promise<void> | undefined;
  #dirty = false;
  #off = false;
  readonly #backoff: Backoff;

  constructor(
    private readonly write: () => Promise<'ok' | 'gone'>,
    clock: Clock,
    retry: BackoffPolicy,
    private readonly log: (line: string) => void,
  ) {
    this.#backoff = new Backoff(clock, retry);
  }

  /** True once writing has ended (pod gone, or `off()`). */
  get isOff(): boolean {
    return this.#off;
  }

  /** Asks for a write of the current state. */
  request(): void {
    this.#dirty = true;
    this.#writing ??= this.#loop().finally(() => (this.#writing = undefined));
  }

  /** Writes the current state and waits until no write is in flight. */
  async flush(): Promise<void> {
    this.request();
    while (this.#writing) await this.#writing;
  }

  /** No more writes (a write in flight still finishes). */
  off(): void {
    this.#off = true;
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#off) {
      this.#dirty = false;
      try {
        if ((await this.write()) === 'gone') this.#off = true;
        this.#backoff.reset();
      } catch (err) {
        this.log(`status: ${(err as Error).message}; retrying in ${this.#backoff.nextDelay()} ms`);
        this.#dirty = true;
        await this.#backoff.wait();
      }
    }
  }
}
