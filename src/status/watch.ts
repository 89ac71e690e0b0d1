/**
 * The loop behind `fathom health --watch` (kstatus's `status --poll-until`): poll identifiers,
 * keep the latest status of each, and stop once the aggregate verdict is the desired one, on a
 * timeout, on the caller's signal (Ctrl-C), or on a fatal poll error. Time comes from a Clock.
 */
import type { Clock } from '../core/clock.js';
import { createStatusCollector } from './aggregator.js';
import type { DesiredStatus, Observation } from './aggregator.js';
import { groupKindOf, identifierKey, topString } from './fields.js';
import type { StatusPoller } from './poller.js';
import type { GroupKind, KubeObject, ObjectIdentifier, PollEvent, Status } from './types.js';

/** When a watch stops: everything Current, everything gone, or only when told to. */
export type WatchUntil = 'current' | 'deleted' | 'forever';

export const WATCH_UNTIL: readonly WatchUntil[] = ['current', 'deleted', 'forever'];

/** The status `until` waits for (`forever` judges its end against Current). */
export function desiredOf(until: WatchUntil): DesiredStatus {
  return until === 'deleted' ? 'NotFound' : 'Current';
}

export interface WatchOptions {
  readonly until: WatchUntil;
  /** Milliseconds between poll cycles (> 0). */
  readonly pollInterval: number;
  /** Give up after this long; 0 or absent = never. */
  readonly timeoutMs?: number;
  /** Default: the system clock. Drives the poll cycles and the timeout. */
  readonly clock: Clock;
  /** Stops the watch (Ctrl-C); the outcome is then `interrupted`. */
  readonly signal?: AbortSignal;
}

/** What a watch saw after one poll event. */
export interface WatchUpdate {
  readonly event: PollEvent;
  /** Clock time of the event, in ms since the epoch. */
  readonly at: number;
  /** Every identifier's latest status, sorted. */
  readonly observation: Observation;
  /** kstatus's aggregate verdict against the desired status. */
  readonly aggregate: Status;
}

/** Why a watch ended. */
export type WatchEnd = 'reached' | 'timeout' | 'interrupted' | 'error';

export interface WatchOutcome {
  readonly end: WatchEnd;
  readonly desired: DesiredStatus;
  readonly aggregate: Status;
  readonly observation: Observation;
  /** How many identifiers are not (yet) at the desired status. */
  readonly pending: number;
  readonly total: number;
  readonly elapsedMs: number;
  /** The fatal poll error, when `end` is `error`. */
  readonly error?: Error;
}

/**
 * Polls `identifiers` and calls `onUpdate` after every event, until the aggregate verdict is
 * `desiredOf(until)` (never for `forever`), the timeout, the signal or an Error event. An empty
 * set is reached at once (kstatus: the aggregate of nothing is the desired status).
 */
export async function watchStatus(
  poller: StatusPoller,
  identifiers: readonly ObjectIdentifier[],
  options: WatchOptions,
  onUpdate: (update: WatchUpdate) => void = () => undefined,
): Promise<WatchOutcome> {
  const clock = options.clock;
  const desired = desiredOf(options.until);
  const started = clock.now();
  const collector = createStatusCollector(identifiers);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  if (options.timeoutMs && options.timeoutMs > 0) {
    clock.sleep(options.timeoutMs, stop.signal).then(
      () => {
        timedOut = true;
        stop.abort(new Error('timed out'));
      },
      () => undefined, // the watch ended first
    );
  }

  let end: WatchEnd | undefined;
  let error: Error | undefined;
  const reached = (): boolean =>
    options.until !== 'forever' && collector.aggregate(desired) === desired;
  try {
    if (reached()) end = 'reached';
    else {
      const events = poller.poll(identifiers, {
        pollInterval: options.pollInterval,
        signal: stop.signal,
        clock,
      });
      for await (const event of events) {
        collector.apply(event);
        // Sorted only when read: the first cycle is an event per object.
        let observation: Observation | undefined;
        onUpdate({
          event,
          at: clock.now(),
          get observation() {
            return (observation ??= collector.latest());
          },
          aggregate: collector.aggregate(desired),
        });
        if (event.type === 'Error') {
          end = 'error';
          error = event.error;
          break;
        }
        if (reached()) {
          end = 'reached';
          break;
        }
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // Ends the timeout's sleep (and anything still polling) once the watch is over.
    if (!stop.signal.aborted) stop.abort(new Error('watch over'));
  }
  end ??= timedOut ? 'timeout' : 'interrupted';
  const observation = collector.latest();
  return {
    end,
    desired,
    aggregate: collector.aggregate(desired),
    observation,
    pending: observation.statuses.filter((s) => s.status !== desired).length,
    total: observation.statuses.length,
    elapsedMs: clock.now() - started,
    ...(error ? { error } : {}),
  };
}

/** Where a kind lives, as the backend's API discovery tells it (undefined: not served). */
export type ResourceScope = 'Namespaced' | 'Cluster';

/**
 * The identifiers of manifest objects, as kubectl resolves them: an object's own
 * `metadata.namespace` wins, `defaultNamespace` (-n) fills in the rest, and cluster-scoped kinds
 * get none. Kinds the backend does not know keep a namespace (their reads report why).
 * Duplicates are dropped; order is kept.
 */
export async function identifiersOf(
  objects: Iterable<KubeObject> | AsyncIterable<KubeObject>,
  options: {
    readonly defaultNamespace: string;
    readonly scopeOf: (gk: GroupKind) => Promise<ResourceScope | undefined>;
  },
): Promise<ObjectIdentifier[]> {
  const scopes = new Map<string, ResourceScope | undefined>();
  const seen = new Set<string>();
  const out: ObjectIdentifier[] = [];
  for await (const object of objects) {
    const gk = groupKindOf(object);
    const key = `${gk.group}/${gk.kind}`;
    if (!scopes.has(key)) scopes.set(key, await options.scopeOf(gk));
    const own = topString(object, 'metadata', 'namespace');
    const namespace = scopes.get(key) === 'Cluster' ? '' : own || options.defaultNamespace;
    const id = { ...gk, namespace, name: topString(object, 'metadata', 'name') };
    if (seen.has(identifierKey(id))) continue;
    seen.add(identifierKey(id));
    out.push(id);
  }
  return out;
}
