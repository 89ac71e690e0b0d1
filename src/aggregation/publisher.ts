import type { RunStatus } from './types.js';

/**
 * Writes status snapshots one at a time, dropping the ones overtaken while a write is in flight:
 * the reader only ever needs the newest.
 */
export class CoalescingPublisher {
  #latest: RunStatus | undefined;
  #running: Promise<void> | undefined;
  readonly #publish: (status: RunStatus) => Promise<void>;
  readonly #onError: (err: unknown) => void;

  constructor(publish: (status: RunStatus) => Promise<void>, onError: (err: unknown) => void) {
    this.#publish = publish;
    this.#onError = onError;
  }

  /** Queues a snapshot; resolves when it (or a newer one) has been written. */
  push(status: RunStatus): Promise<void> {
    this.#latest = status;
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#latest) {
      const next = this.#latest;
      this.#latest = undefined;
      try {
        await this.#publish(next);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
