/**
 * A leader lease, the shared port for anything that must run once per cluster (a check
 * dispatcher, a session controller). Backends store the record with compare-and-swap; the
 * decision of what to do with it is pure, and the elector owns retry timing on the clock.
 * The semantics follow Kubernetes' coordination.k8s.io Lease, as client-go's leader election
 * uses it: whoever holds an unexpired lease leads; anyone may take an expired one.
 */
import type { Clock } from './clock.js';

/** The lease as stored: Kubernetes' Lease spec, times in epoch milliseconds. */
export interface LeaseRecord {
  readonly holder: string;
  /** Where the holder can be reached (followers forward to it); empty when unknown. */
  readonly address: string;
  readonly durationMs: number;
  readonly acquiredAt: number;
  readonly renewedAt: number;
  /** How many times the lease changed hands. */
  readonly transitions: number;
}

/** What a backend provides: a named record, read and written with compare-and-swap. */
export interface LeaseStore {
  /** The record and an opaque version for `update`; undefined when there is none. */
  get(
    name: string,
  ): Promise<{ readonly record: LeaseRecord; readonly version: string } | undefined>;
  /** Creates the record; false when one exists already (someone else was faster). */
  create(name: string, record: LeaseRecord): Promise<boolean>;
  /** Replaces the record if it is still at `version`; false when it changed meanwhile. */
  update(name: string, record: LeaseRecord, version: string): Promise<boolean>;
}

export type LeaseAction = 'acquire' | 'renew' | 'wait';

/** Pure: what `identity` does at `now` about the lease `current` (absent: nobody ever held it). */
export function leaseAction(now: number, identity: string, current?: LeaseRecord): LeaseAction {
  // No holder: released by its last leader (client-go's ReleaseOnCancel), free at once.
  if (!current || current.holder === '') return 'acquire';
  if (current.holder === identity) return 'renew';
  return now >= current.renewedAt + current.durationMs ? 'acquire' : 'wait';
}

/** The record `identity` writes for `action` (not `wait`). */
export function nextLease(
  now: number,
  identity: string,
  address: string,
  durationMs: number,
  current: LeaseRecord | undefined,
): LeaseRecord {
  const ours = current?.holder === identity;
  return {
    holder: identity,
    address,
    durationMs,
    acquiredAt: ours ? current.acquiredAt : now,
    renewedAt: now,
    transitions: (current?.transitions ?? 0) + (current && !ours ? 1 : 0),
  };
}

/**
 * The record a leader writes when it stops on purpose: no holder, a 1 s duration (client-go's
 * ReleaseOnCancel), the count kept, so a peer takes over at once with the next term.
 */
export function releasedLease(now: number, current: LeaseRecord): LeaseRecord {
  return { ...current, holder: '', address: '', durationMs: 1000, acquiredAt: now, renewedAt: now };
}

export interface ElectorOptions {
  readonly store: LeaseStore;
  readonly name: string;
  readonly identity: string;
  readonly address?: string;
  readonly clock: Clock;
  /** How long a lease lasts without renewal (client-go default: 15 s). */
  readonly durationMs?: number;
  /** How often the holder renews and others try (client-go: 2 s). */
  readonly retryMs?: number;
  /** When the signal aborts while leading, hand the lease back at once (default true). */
  readonly releaseOnCancel?: boolean;
}

/**
 * What an elector reports: leading, or following whom (the holder and its address). `term` is
 * the lease's transition count: it grows with every change of holder, so it fences the work of
 * an older leader (whoever sees a higher term ignores a lower one).
 */
export type Leadership =
  | { readonly role: 'leader'; readonly term: number }
  | {
      readonly role: 'follower';
      readonly holder: string;
      readonly address: string;
      readonly term: number;
    }
  | { readonly role: 'unknown'; readonly error: string };

/**
 * Tries to hold the lease until `signal` aborts, yielding each change of leadership. A store
 * error is yielded as `unknown` and tried again; a leader that cannot renew stops leading one
 * retry before its lease could pass to anyone else. A leader that stops (the signal, or the
 * consumer leaving the loop) releases the lease so a peer need not wait for it to expire.
 */
export async function* elect(
  options: ElectorOptions,
  signal: AbortSignal,
): AsyncIterable<Leadership> {
  const durationMs = options.durationMs ?? 15_000;
  const retryMs = options.retryMs ?? 2_000;
  const { clock, store, name, identity } = options;
  let last = '';
  /** When this elector last wrote the lease, while it leads, and its term. */
  let renewed: number | undefined;
  let term = 0;
  try {
    yield* campaign();
  } finally {
    if (renewed !== undefined && options.releaseOnCancel !== false) await release();
  }

  async function release(): Promise<void> {
    try {
      const current = await store.get(name);
      if (current?.record.holder !== identity) return; // someone else holds it already
      await store.update(name, releasedLease(clock.now(), current.record), current.version);
    } catch {
      // The lease then expires on its own.
    }
  }

  async function* campaign(): AsyncGenerator<Leadership, void, undefined> {
    while (!signal.aborted) {
      let state: Leadership;
      try {
        const now = clock.now();
        const current = await store.get(name);
        if (leaseAction(now, identity, current?.record) === 'wait') {
          renewed = undefined;
          state = {
            role: 'follower',
            holder: current!.record.holder,
            address: current!.record.address,
            term: current!.record.transitions,
          };
        } else {
          const record = nextLease(
            now,
            identity,
            options.address ?? '',
            durationMs,
            current?.record,
          );
          const won = current
            ? await store.update(name, record, current.version)
            : await store.create(name, record);
          // A lost compare-and-swap means someone else wrote first: look again next round.
          renewed = won ? now : undefined;
          term = record.transitions;
          state = won
            ? { role: 'leader', term }
            : { role: 'unknown', error: 'lost a race for the lease' };
        }
      } catch (err) {
        // The store did not answer: a leader keeps leading while its last renewal is surely
        // still valid (one retry short of the duration), and no longer.
        const stillValid = renewed !== undefined && clock.now() < renewed + durationMs - retryMs;
        if (!stillValid) renewed = undefined;
        state = stillValid
          ? { role: 'leader', term }
          : { role: 'unknown', error: err instanceof Error ? err.message : String(err) };
      }
      const key = JSON.stringify(state);
      if (key !== last) {
        last = key;
        yield state;
      }
      try {
        await clock.sleep(retryMs, signal);
      } catch {
        return;
      }
    }
  }
}
