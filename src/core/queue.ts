/**
 * An unbounded async queue: producers push, one consumer iterates. Ending the queue lets the
 * consumer drain what is left and stop; an abort signal stops it at once.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;

  push(item: T): void {
    if (this.#ended) return;
    this.#items.push(item);
    this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Iterates until the queue ends and is drained, or until `signal` aborts. */
  async *drain(signal?: AbortSignal): AsyncGenerator<T> {
    const onAbort = (): void => this.#wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        const item = this.#items.shift();
        if (item !== undefined) {
          yield item;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#waiter = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.drain();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
