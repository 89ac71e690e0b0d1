/**
 * How the snapshot talks to the API server: a bounded number of requests in flight (the API
 * server's rate limits apply per client, and a 1,000-node cluster means thousands of calls),
 * a 429 answered by waiting out its Retry-After, lists read page by page, and a deadline on
 * the injected clock around every query.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { formatDuration } from '../../core/duration.js';
import { messageOf } from '../../core/errors.js';
import type { KubeClient, Query } from './api/client.js';
import { KubeApiError } from './api/errors.js';

/** A counting semaphore: at most `width` holders at once, the rest wait in order. */
export class Limiter {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(width: number) {
    this.#free = Math.max(1, width);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** Calls `fn(signal)`, aborting it after `ms` on `clock` with a "no answer within" error. */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = new AbortController();
  const finished = new AbortController();
  clock.sleep(ms, finished.signal).then(
    () => timeout.abort(new Error(`no answer within ${formatDuration(ms)}`)),
    () => undefined,
  );
  try {
    return await fn(timeout.signal);
  } finally {
    finished.abort();
  }
}

/** A 429 waits this long when it names no Retry-After. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** The wait a 429 (or 503 with Retry-After) asks for, through wrapping errors; undefined otherwise. */
export function retryAfterMs(err: unknown): number | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (e instanceof KubeApiError) {
      const fromStatus = e.status?.details?.retryAfterSeconds;
      const seconds =
        e.retryAfterSeconds ?? (typeof fromStatus === 'number' ? fromStatus : undefined);
      if (e.statusCode === 429) {
        return seconds !== undefined ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
      }
      if (e.statusCode === 503 && seconds !== undefined) return seconds * 1000;
      return undefined;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A page of a list answer. */
interface ListPage {
  readonly items?: unknown[];
  readonly metadata?: { readonly continue?: string; readonly resourceVersion?: string };
}

/** A 429 is retried at most this often, so that a server that keeps refusing still ends the query. */
const MAX_RETRIES = 8;

/**
 * The API calls of one snapshot: each request waits for a place in the limiter, then has
 * `timeoutMs` (on the clock) to be answered and read; a 429 gives the place back, waits out its
 * Retry-After and queues again.
 */
export class SnapshotFetcher {
  constructor(
    readonly client: KubeClient,
    readonly clock: Clock,
    readonly limiter: Limiter,
    readonly timeoutMs: number,
    readonly pageSize = 500,
  ) {}

  async #call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.limiter.run(() =>
          withDeadline(this.clock, this.timeoutMs, async (signal) => {
            try {
              return await fn(signal);
            } catch (err) {
              const reason: unknown = signal.reason;
              // A body cut off by the deadline fails with a bare AbortError: say why.
              if (
                signal.aborted &&
                reason instanceof Error &&
                !messageOf(err).includes(reason.message)
              )
                throw new Error(`${what}: ${reason.message}`, { cause: err });
              throw err;
            }
          }),
        );
      } catch (err) {
        const wait = retryAfterMs(err);
        if (wait === undefined || attempt >= MAX_RETRIES) throw err;
        await this.clock.sleep(wait);
      }
    }
  }

  /** A GET answered with JSON. */
  json<T>(path: string, what: string, query?: Query): Promise<T> {
    return this.#call(what, (signal) =>
      this.client.request<T>('GET', path, what, { signal, ...(query ? { query } : {}) }),
    );
  }

  /** Every item of a list, page by page (each page one request), and the list's resourceVersion. */
  async list(
    path: string,
    what: string,
    query: Query = {},
  ): Promise<{ items: unknown[]; resourceVersion?: string }> {
    const items: unknown[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.json<ListPage>(path, what, {
        ...query,
        limit: this.pageSize,
        ...(cont ? { continue: cont } : {}),
      });
      items.push(...(page.items ?? []));
      resourceVersion ??= page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, ...(resourceVersion ? { resourceVersion } : {}) };
  }

  /** A GET whose body `consume` reads (logs, the node proxy) within the same deadline. */
  stream<T>(
    path: string,
    what: string,
    consume: (res: IncomingMessage) => Promise<T>,
    query?: Query,
  ): Promise<T> {
    return this.#call(what, async (signal) => {
      const res = await this.client.stream(path, what, { signal, ...(query ? { query } : {}) });
      try {
        return await consume(res);
      } finally {
        res.destroy();
      }
    });
  }
}

/** A response body as text, at most `max` bytes of it. */
export async function readBody(res: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > max) throw new Error(`the answer is over ${max} bytes`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
