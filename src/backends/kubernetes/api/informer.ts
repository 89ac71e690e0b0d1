/**
 * Watches as async iterables. The client's ListWatch lists, then watches, and re-watches when
 * the server closes the stream, but it gives up for good on the first error. This wrapper
 * restarts it after an exponential backoff, re-delivers the cache on a resync period, and
 * stops on an AbortSignal; all waiting goes through the injected Clock.
 */
import { ListWatch, Watch, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../../../core/clock.js';
import type { FathomError } from '../../../core/errors.js';
import { AsyncQueue } from '../../../core/queue.js';
import type { KubeClient, KubeList } from './client.js';
import { apiError } from './errors.js';

/**
 * What a watch yields, stamped with the Clock's time when it happened (a consumer may read it
 * later). Errors are events: the watch goes on after `retryInMs`.
 */
export type WatchEvent<T> = { readonly at: number } & (
  | { readonly type: 'added' | 'updated' | 'deleted'; readonly object: T }
  /** After every successful (re)list: the whole current set. */
  | { readonly type: 'synced'; readonly objects: readonly T[] }
  /** Every resync period: the cache as it is, so time-based checks run without changes. */
  | { readonly type: 'resync'; readonly objects: readonly T[] }
  | { readonly type: 'error'; readonly error: FathomError; readonly retryInMs: number }
);

type Unstamped<T> = T extends unknown ? Omit<T, 'at'> : never;

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** client-go's reflector backs off from 800 ms to 30 s; a round 1 s start reads better in logs. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000, factor: 2 };

export interface WatchOptions {
  readonly client: KubeClient;
  /** A collection path such as `/api/v1/namespaces/fathom/pods`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Names the watch in error messages (`watching pods of plugin e2e`). */
  readonly what: string;
  readonly backoff?: Backoff;
  /** 0 or absent: no resync events. */
  readonly resyncMs?: number;
  /** Server-side watch timeout, so a silently dead connection is noticed; default 5 min. */
  readonly watchTimeoutSeconds?: number;
}

/** The delays of successive failures: initial, ×factor each time, capped; reset after success. */
export class ExponentialBackoff {
  #next: number;
  constructor(private readonly b: Backoff = DEFAULT_BACKOFF) {
    this.#next = b.initialMs;
  }
  next(): number {
    const d = this.#next;
    this.#next = Math.min(this.b.maxMs, this.#next * this.b.factor);
    return d;
  }
  reset(): void {
    this.#next = this.b.initialMs;
  }
}

/**
 * The client's Watch, plus what ListWatch needs from it: a watch that connects after the
 * consumer stopped is aborted at once (ListWatch.stop cannot reach a request still in flight),
 * a successful connection resets the backoff, and `beforeWatch` runs when ListWatch, having
 * applied a fresh list, opens the next watch.
 */
class GuardedWatch extends Watch {
  constructor(
    client: KubeClient,
    private readonly hooks: {
      readonly signal: AbortSignal;
      readonly timeoutSeconds: number;
      beforeWatch(): void;
      onConnected(): void;
    },
  ) {
    super(client.kubeConfig);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.hooks.beforeWatch();
    let failed = false;
    const controller = await super.watch(
      path,
      { ...queryParams, timeoutSeconds: this.hooks.timeoutSeconds, allowWatchBookmarks: true },
      callback,
      (err: unknown) => {
        if (err) failed = true;
        done(err);
      },
    );
    if (this.hooks.signal.aborted) controller.abort();
    else if (!failed) this.hooks.onConnected();
    return controller;
  }
}

/** What the cache needs of an object: its name and version, in the API's JSON spelling. */
export interface WatchedObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/**
 * Lists and watches a collection until `signal` aborts (or the consumer stops iterating),
 * yielding changes, full sets after each list, periodic resyncs and errors. An error never
 * ends the iteration: the watch restarts after a backoff (1 s, 2 s, 4 s ... 30 s, reset once
 * a list or a watch succeeds).
 */
export async function* watchObjects<T extends WatchedObject>(
  options: WatchOptions,
): AsyncGenerator<WatchEvent<T>> {
  const { client, clock } = options;
  if (options.signal.aborted) return;
  const stop = new AbortController();
  const signal = stop.signal;
  const onAbort = (): void => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const queue = new AsyncQueue<WatchEvent<T>>();
  const emit = (e: Unstamped<WatchEvent<T>>): void => queue.push({ ...e, at: clock.now() });
  const backoff = new ExponentialBackoff(options.backoff);
  let justListed = false;
  let listedOnce = false;
  let retrying = false;

  const listFn = async (): Promise<KubeList<T>> => {
    const query = {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    };
    const list = await client.list<T>(options.path, options.what, query);
    justListed = true;
    backoff.reset();
    return list;
  };
  const watch = new GuardedWatch(client, {
    signal,
    timeoutSeconds: options.watchTimeoutSeconds ?? 300,
    beforeWatch: () => {
      if (!justListed) return;
      justListed = false;
      listedOnce = true;
      emit({ type: 'synced', objects: snapshot() });
    },
    onConnected: () => backoff.reset(),
  });
  // ListWatch reads only names, resource versions and the list's `items`: the API's JSON serves.
  const informer = new ListWatch<KubernetesObject>(
    options.path,
    watch,
    listFn,
    false,
    options.labelSelector,
    options.fieldSelector,
  );
  const snapshot = (): T[] => informer.list() as unknown as T[];
  const fail = (err: unknown): void => {
    if (signal.aborted || retrying) return;
    retrying = true;
    const retryInMs = backoff.next();
    emit({ type: 'error', error: apiError(err, options.what), retryInMs });
    clock.sleep(retryInMs, signal).then(
      () => {
        retrying = false;
        start();
      },
      () => undefined, // stopped while waiting
    );
  };
  const start = (): void => void informer.start().catch(fail);
  informer.on('add', (o) => emit({ type: 'added', object: o as unknown as T }));
  informer.on('update', (o) => emit({ type: 'updated', object: o as unknown as T }));
  informer.on('delete', (o) => emit({ type: 'deleted', object: o as unknown as T }));
  informer.on('error', fail);

  const resync = async (): Promise<void> => {
    const every = options.resyncMs ?? 0;
    while (every > 0 && !signal.aborted) {
      const woke = await clock.sleep(every, signal).then(
        () => true,
        () => false,
      );
      // A cache that never listed knows nothing: no resync until it has.
      if (woke && listedOnce) emit({ type: 'resync', objects: snapshot() });
    }
  };

  signal.addEventListener(
    'abort',
    () => {
      void informer.stop();
      queue.end();
    },
    { once: true },
  );
  start();
  void resync();
  try {
    yield* queue.drain(signal);
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
