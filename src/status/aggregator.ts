/** The verdict for a set of objects, and a collector that keeps the latest status of each. */
import { identifierKey } from './fields.js';
import { sortStatuses } from './status-readers.js';
import type { ObjectIdentifier, PollEvent, ResourceStatus, Status } from './types.js';

/** What a wait is for: everything Current (apply), or everything gone (delete). */
export type DesiredStatus = 'Current' | 'NotFound';

/**
 * kstatus's AggregateStatus: an empty set is `desired`; any Failed is Failed (even when waiting
 * for deletion); else any Unknown is Unknown; else all `desired` is `desired`; else InProgress.
 */
export function aggregateStatus(statuses: Iterable<Status>, desired: DesiredStatus): Status {
  let all = true;
  let empty = true;
  let sawUnknown = false;
  for (const s of statuses) {
    empty = false;
    if (s === 'Failed') return 'Failed';
    if (s === 'Unknown') sawUnknown = true;
    if (s !== desired) all = false;
  }
  if (empty) return desired;
  if (sawUnknown) return 'Unknown';
  return all ? desired : 'InProgress';
}

export interface Observation {
  readonly lastEventType?: PollEvent['type'];
  /** Sorted by namespace, group, kind, name. */
  readonly statuses: readonly ResourceStatus[];
  readonly error?: Error;
}

/** kstatus's ResourceStatusCollector: every identifier starts Unknown; events replace entries. */
export interface StatusCollector {
  apply(event: PollEvent): void;
  latest(): Observation;
  aggregate(desired: DesiredStatus): Status;
}

class Collector implements StatusCollector {
  readonly #byId = new Map<string, ResourceStatus>();
  #lastEventType: PollEvent['type'] | undefined;
  #error: Error | undefined;
  readonly #counts = new Map<Status, number>();

  constructor(identifiers: readonly ObjectIdentifier[]) {
    for (const identifier of identifiers) {
      this.#byId.set(identifierKey(identifier), {
        identifier,
        status: 'Unknown',
        message: '',
        generatedResources: [],
      });
    }
    this.#counts.set('Unknown', this.#byId.size);
  }

  apply(event: PollEvent): void {
    this.#lastEventType = event.type;
    if (event.type === 'Error') this.#error = event.error;
    if (event.type === 'ResourceUpdate') {
      const key = identifierKey(event.resource.identifier);
      const before = this.#byId.get(key);
      if (before) this.#count(before.status, -1);
      this.#count(event.resource.status, 1);
      this.#byId.set(key, event.resource);
    }
  }

  #count(status: Status, delta: number): void {
    this.#counts.set(status, (this.#counts.get(status) ?? 0) + delta);
  }

  latest(): Observation {
    return {
      ...(this.#lastEventType ? { lastEventType: this.#lastEventType } : {}),
      statuses: sortStatuses([...this.#byId.values()]),
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  /** aggregateStatus from the counts kept by `apply`: a watch asks after every event. */
  aggregate(desired: DesiredStatus): Status {
    const n = (s: Status): number => this.#counts.get(s) ?? 0;
    if (this.#byId.size === 0) return desired;
    if (n('Failed') > 0) return 'Failed';
    if (n('Unknown') > 0) return 'Unknown';
    return n(desired) === this.#byId.size ? desired : 'InProgress';
  }
}

export function createStatusCollector(identifiers: readonly ObjectIdentifier[]): StatusCollector {
  return new Collector(identifiers);
}
