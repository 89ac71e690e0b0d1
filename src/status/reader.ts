/**
 * How the poller reads a cluster. Backends implement `ClusterReader` over their API; the poller
 * wraps it per poll in a direct reader (one request per read) or, by default, a caching reader
 * that LISTs once per (GroupKind, namespace) per cycle and serves every read from that snapshot.
 */
import { messageOf } from '../core/errors.js';
import { formatGroupKind, groupKindKey, labelsOf, topString } from './fields.js';
import { matchesSelector } from './selector.js';
import type { GroupKind, KubeObject, LabelSelector, ObjectIdentifier } from './types.js';

/**
 * The contract a backend implements. Objects are plain JSON; callers must not mutate them.
 * Errors other than "not found" are thrown; an abort (the signal) rejects with its reason.
 */
export interface ClusterReader {
  /** The object, or undefined when it does not exist. */
  get(id: ObjectIdentifier, signal?: AbortSignal): Promise<KubeObject | undefined>;
  /**
   * Every object of the kind in `namespace` that matches `selector` (all of them without one).
   * `namespace` '' lists a cluster-scoped kind (or every namespace).
   */
  list(
    groupKind: GroupKind,
    namespace: string,
    selector?: LabelSelector,
    signal?: AbortSignal,
  ): Promise<KubeObject[]>;
  /** Called before every poll cycle: a cache refreshes here. */
  sync?(signal?: AbortSignal): Promise<void>;
}

/** Makes the ClusterReader a poll uses, from the backend's reader and the identifiers polled. */
export type ClusterReaderFactory = (
  reader: ClusterReader,
  identifiers: readonly ObjectIdentifier[],
) => ClusterReader;

/** Runs `fn` as a promise: a throw becomes a rejection (for sync implementations of async contracts). */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(messageOf(err)));
  }
}

/** True for an abort (kstatus's context errors): it ends a poll silently. */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

class DirectClusterReader implements ClusterReader {
  constructor(readonly inner: ClusterReader) {}
  get(id: ObjectIdentifier, signal?: AbortSignal): Promise<KubeObject | undefined> {
    return this.inner.get(id, signal);
  }
  list(
    gk: GroupKind,
    ns: string,
    sel?: LabelSelector,
    signal?: AbortSignal,
  ): Promise<KubeObject[]> {
    return this.inner.list(gk, ns, sel, signal);
  }
  async sync(): Promise<void> {}
}

/** Every read goes to the backend: one GET per identifier per cycle, one LIST per selector lookup. */
export function createDirectClusterReader(inner: ClusterReader): ClusterReader {
  return new DirectClusterReader(inner);
}

/** The kinds whose status readers read other kinds (kstatus's genGroupKinds). */
const GENERATED: ReadonlyMap<string, readonly GroupKind[]> = new Map([
  ['apps/Deployment', [{ group: 'apps', kind: 'ReplicaSet' }]],
  ['apps/ReplicaSet', [{ group: '', kind: 'Pod' }]],
  ['apps/StatefulSet', [{ group: '', kind: 'Pod' }]],
  ['apps/DaemonSet', [{ group: '', kind: 'Pod' }]],
]);

export interface CacheScope extends GroupKind {
  readonly namespace: string;
}

/**
 * The (GroupKind, namespace) pairs a caching reader LISTs each cycle: one per identifier's pair,
 * followed by the generated kinds recursively (Deployment → ReplicaSet → Pod), deduplicated,
 * in first-seen order.
 */
export function cacheScopes(identifiers: readonly ObjectIdentifier[]): CacheScope[] {
  const out: CacheScope[] = [];
  const seen = new Set<string>();
  const add = (gk: GroupKind, namespace: string): void => {
    const key = `${groupKindKey(gk)}|${namespace}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ group: gk.group, kind: gk.kind, namespace });
    for (const g of GENERATED.get(groupKindKey(gk)) ?? []) add(g, namespace);
  };
  for (const id of identifiers) add(id, id.namespace);
  return out;
}

interface Snapshot {
  readonly objects: readonly KubeObject[];
  readonly byName: ReadonlyMap<string, KubeObject>;
}

type Entry = Snapshot | { readonly error: unknown };

const scopeKey = (gk: GroupKind, namespace: string): string => `${groupKindKey(gk)}|${namespace}`;

class CachingClusterReader implements ClusterReader {
  #cache = new Map<string, Entry>();
  readonly #scopes: readonly CacheScope[];

  constructor(
    readonly inner: ClusterReader,
    identifiers: readonly ObjectIdentifier[],
  ) {
    this.#scopes = cacheScopes(identifiers);
  }

  /** One unfiltered LIST per scope into a fresh snapshot, swapped in whole. */
  async sync(signal?: AbortSignal): Promise<void> {
    const next = new Map<string, Entry>();
    for (const scope of this.#scopes) {
      let entry: Entry;
      try {
        const objects = await this.inner.list(scope, scope.namespace, undefined, signal);
        const byName = new Map<string, KubeObject>();
        for (const o of objects) {
          const name = topString(o, 'metadata', 'name');
          if (!byName.has(name)) byName.set(name, o);
        }
        entry = { objects, byName };
      } catch (error) {
        if (isAbortError(error, signal)) throw error;
        // An RBAC denial or the like: the reads that need this scope get the same error.
        entry = { error };
      }
      next.set(scopeKey(scope, scope.namespace), entry);
    }
    this.#cache = next;
  }

  #entry(gk: GroupKind, namespace: string): Snapshot {
    const entry = this.#cache.get(scopeKey(gk, namespace));
    if (!entry) {
      throw new Error(
        `GroupKind ${formatGroupKind(gk)} and Namespace ${namespace} not found in cache`,
      );
    }
    if ('error' in entry) {
      throw entry.error instanceof Error ? entry.error : new Error(messageOf(entry.error));
    }
    return entry;
  }

  get(id: ObjectIdentifier): Promise<KubeObject | undefined> {
    return settle(() => this.#entry(id, id.namespace).byName.get(id.name));
  }

  list(gk: GroupKind, namespace: string, selector?: LabelSelector): Promise<KubeObject[]> {
    return settle(() => {
      const { objects } = this.#entry(gk, namespace);
      if (!selector) return [...objects];
      return objects.filter((o) => matchesSelector(labelsOf(o), selector));
    });
  }
}

/**
 * kstatus's default reader: per cycle exactly one LIST per (GroupKind, namespace) in
 * `cacheScopes(identifiers)` (generated kinds included), then every get/list is answered from
 * that snapshot (selectors filtered client-side). A pair outside the scopes is an error.
 */
export function createCachingClusterReader(
  inner: ClusterReader,
  identifiers: readonly ObjectIdentifier[],
): ClusterReader {
  return new CachingClusterReader(inner, identifiers);
}
