/**
 * kstatus's polling engine: read every identifier each cycle through one ClusterReader (a
 * caching one by default), compute statuses, and report only what changed.
 */
import type { Clock } from '../core/clock.js';
import { FathomError, messageOf } from '../core/errors.js';
import type { ComputeOptions } from './compute.js';
import { formatGroupKind } from './fields.js';
import type { ClusterReader, ClusterReaderFactory } from './reader.js';
import { createCachingClusterReader, isAbortError } from './reader.js';
import type { StatusReader } from './status-readers.js';
import { defaultStatusReaders } from './status-readers.js';
import type { GroupKind, ObjectIdentifier, PollEvent, ResourceStatus } from './types.js';

export interface StatusPollerOptions {
  /** Consulted first, in order, before the default readers (Deployment, StatefulSet, ReplicaSet, generic). */
  readonly statusReaders?: readonly StatusReader[];
  /** Default: the caching reader. Pass `createDirectClusterReader` to GET each object instead. */
  readonly clusterReaderFactory?: ClusterReaderFactory;
  /** Rules and the fresh-resource guard for the default readers (`now` comes from the poll's clock). */
  readonly compute?: Omit<ComputeOptions, 'now'>;
  /**
   * The RESTMapper's answer for a kind, when the backend knows it: a namespaced kind with an
   * empty namespace ends the poll with an Error event. Undefined skips the check.
   */
  readonly scopeOf?: (gk: GroupKind) => 'Namespaced' | 'Cluster' | undefined;
}

export interface PollOptions {
  /** Milliseconds between the starts of two cycles; must be > 0. */
  readonly pollInterval: number;
  /** Ends the iteration (silently) when aborted. */
  readonly signal?: AbortSignal;
  /** Default: the system clock. */
  readonly clock: Clock;
}

export interface StatusPoller {
  /**
   * Polls until `signal` aborts: the first reading of every identifier, then a ResourceUpdate
   * whenever one changes (`resourceStatusEqual`), a Sync once the first cycle is done, and an
   * Error (then the end) when the cluster cannot be read at all. Per-object problems are
   * statuses (NotFound, Unknown), not errors. Throws FATHOM_BAD_FLAG_VALUE for a bad interval.
   */
  poll(identifiers: readonly ObjectIdentifier[], options: PollOptions): AsyncIterable<PollEvent>;
}

const generationOf = (s: ResourceStatus): bigint => {
  const g = (s.resource?.metadata as Record<string, unknown> | undefined)?.generation;
  return typeof g === 'bigint' ? g : typeof g === 'number' && Number.isInteger(g) ? BigInt(g) : 0n;
};

/**
 * kstatus's ResourceStatusEqual: identifier, status, message, the object's generation (missing
 * counts as 0), the error text, and the generated resources pairwise in order. Everything else
 * in the object (resourceVersion included) is ignored.
 */
export function resourceStatusEqual(a: ResourceStatus | undefined, b: ResourceStatus): boolean {
  if (!a) return false;
  const x = a.identifier;
  const y = b.identifier;
  if (
    x.group !== y.group ||
    x.kind !== y.kind ||
    x.namespace !== y.namespace ||
    x.name !== y.name
  ) {
    return false;
  }
  if (a.status !== b.status || a.message !== b.message) return false;
  if (generationOf(a) !== generationOf(b)) return false;
  if (a.error !== b.error) return false;
  if (a.generatedResources.length !== b.generatedResources.length) return false;
  return a.generatedResources.every((g, i) => resourceStatusEqual(g, b.generatedResources[i]!));
}

const idKey = (id: ObjectIdentifier): string => `${id.group}/${id.kind}/${id.namespace}/${id.name}`;

class Poller implements StatusPoller {
  constructor(
    readonly reader: ClusterReader,
    readonly options: StatusPollerOptions,
  ) {}

  poll(identifiers: readonly ObjectIdentifier[], options: PollOptions): AsyncIterable<PollEvent> {
    if (!(options.pollInterval > 0) || !Number.isFinite(options.pollInterval)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `poll interval must be a positive duration, not ${options.pollInterval}ms`,
      );
    }
    return this.#run([...identifiers], options);
  }

  #validate(ids: readonly ObjectIdentifier[]): Error | undefined {
    if (!this.options.scopeOf) return undefined;
    for (const id of ids) {
      if (id.namespace === '' && this.options.scopeOf(id) === 'Namespaced') {
        return new FathomError(
          'FATHOM_CONFIG_INVALID',
          `resource ${formatGroupKind(id)} ${id.name} is namespace scoped, but namespace is not set`,
        );
      }
    }
    return undefined;
  }

  async *#run(ids: ObjectIdentifier[], options: PollOptions): AsyncGenerator<PollEvent> {
    const { signal, pollInterval } = options;
    const clock = options.clock;
    const invalid = this.#validate(ids);
    if (invalid) {
      yield { type: 'Error', error: invalid };
      return;
    }
    let cluster: ClusterReader;
    try {
      cluster = (this.options.clusterReaderFactory ?? createCachingClusterReader)(this.reader, ids);
    } catch (err) {
      yield {
        type: 'Error',
        error: new Error(`error creating new ClusterReader: ${messageOf(err)}`),
      };
      return;
    }
    const compute: ComputeOptions = { ...this.options.compute, now: () => clock.now() };
    const readers = [...(this.options.statusReaders ?? []), ...defaultStatusReaders(compute)];
    const last = new Map<string, ResourceStatus>();
    let synced = false;

    for (;;) {
      if (signal?.aborted) return;
      const started = clock.now();
      try {
        await cluster.sync?.(signal);
      } catch (err) {
        if (isAbortError(err, signal)) return;
        yield { type: 'Error', error: err instanceof Error ? err : new Error(messageOf(err)) };
        return;
      }
      for (const id of ids) {
        if (signal?.aborted) return;
        const reader = readers.find((r) => r.supports(id))!;
        let status: ResourceStatus;
        try {
          // Keyed by the identifier asked for, even if the backend spells the object differently.
          status = { ...(await reader.readStatus(cluster, id, signal)), identifier: id };
        } catch (err) {
          if (isAbortError(err, signal)) return;
          yield { type: 'Error', error: err instanceof Error ? err : new Error(messageOf(err)) };
          return;
        }
        if (!resourceStatusEqual(last.get(idKey(id)), status)) {
          last.set(idKey(id), status);
          yield { type: 'ResourceUpdate', resource: status };
        }
      }
      if (!synced) {
        synced = true;
        yield { type: 'Sync' };
      }
      // Cycles start every pollInterval (like Go's ticker); a slow cycle starts the next at once.
      const wait = Math.max(0, started + pollInterval - clock.now());
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
    }
  }
}

/** A poller over a backend's reader (wrapped per poll by `clusterReaderFactory`). */
export function createStatusPoller(
  reader: ClusterReader,
  options: StatusPollerOptions = {},
): StatusPoller {
  return new Poller(reader, options);
}
