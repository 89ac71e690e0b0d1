/**
 * A ClusterReader over an in-memory store that counts its requests: a real implementation of
 * the contract for tests, benches and offline use, with injectable LIST/GET failures.
 */
import { formatGroupKind, groupKindKey, identifierKey, identifierOf, labelsOf } from './fields.js';
import type { ClusterReader } from './reader.js';
import { settle } from './reader.js';
import { matchesSelector } from './selector.js';
import type { GroupKind, KubeObject, LabelSelector, ObjectIdentifier } from './types.js';

export interface RequestCounts {
  get: number;
  list: number;
}

export interface MemoryClusterReader extends ClusterReader {
  /** Requests served since creation (or the last `resetCounts`). */
  readonly counts: Readonly<RequestCounts>;
  /** Each request as `get Kind.group ns/name` or `list Kind.group ns [selector]`, in order. */
  readonly requests: readonly string[];
  /** Adds or replaces objects (keyed by group, kind, namespace, name). */
  set(...objects: KubeObject[]): void;
  delete(id: ObjectIdentifier): void;
  /** Makes LISTs of that kind and namespace fail with `error` (undefined to stop). */
  failList(gk: GroupKind, namespace: string, error: Error | undefined): void;
  /** Makes GETs of that object fail with `error` (undefined to stop). */
  failGet(id: ObjectIdentifier, error: Error | undefined): void;
  resetCounts(): void;
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw signal.reason instanceof Error
      ? signal.reason
      : new DOMException('aborted', 'AbortError');
  }
}

class MemoryReader implements MemoryClusterReader {
  readonly counts: RequestCounts = { get: 0, list: 0 };
  readonly requests: string[] = [];
  /** group/kind → namespace → name → object: a LIST touches only its kind and namespace. */
  readonly #objects = new Map<string, Map<string, Map<string, KubeObject>>>();
  readonly #listErrors = new Map<string, Error>();
  readonly #getErrors = new Map<string, Error>();

  set(...objects: KubeObject[]): void {
    for (const o of objects) {
      const id = identifierOf(o);
      const kind =
        this.#objects.get(groupKindKey(id)) ?? new Map<string, Map<string, KubeObject>>();
      this.#objects.set(groupKindKey(id), kind);
      const ns = kind.get(id.namespace) ?? new Map<string, KubeObject>();
      kind.set(id.namespace, ns);
      ns.set(id.name, structuredClone(o));
    }
  }

  delete(id: ObjectIdentifier): void {
    this.#objects.get(groupKindKey(id))?.get(id.namespace)?.delete(id.name);
  }

  failList(gk: GroupKind, namespace: string, error: Error | undefined): void {
    const key = `${groupKindKey(gk)}|${namespace}`;
    if (error) this.#listErrors.set(key, error);
    else this.#listErrors.delete(key);
  }

  failGet(id: ObjectIdentifier, error: Error | undefined): void {
    if (error) this.#getErrors.set(identifierKey(id), error);
    else this.#getErrors.delete(identifierKey(id));
  }

  resetCounts(): void {
    this.counts.get = 0;
    this.counts.list = 0;
    this.requests.length = 0;
  }

  get(id: ObjectIdentifier, signal?: AbortSignal): Promise<KubeObject | undefined> {
    return settle(() => this.#get(id, signal));
  }

  list(
    gk: GroupKind,
    namespace: string,
    selector?: LabelSelector,
    signal?: AbortSignal,
  ): Promise<KubeObject[]> {
    return settle(() => this.#list(gk, namespace, selector, signal));
  }

  #get(id: ObjectIdentifier, signal?: AbortSignal): KubeObject | undefined {
    abortIfNeeded(signal);
    this.counts.get++;
    this.requests.push(`get ${formatGroupKind(id)} ${id.namespace}/${id.name}`);
    const err = this.#getErrors.get(identifierKey(id));
    if (err) throw err;
    const o = this.#objects.get(groupKindKey(id))?.get(id.namespace)?.get(id.name);
    return o === undefined ? undefined : structuredClone(o);
  }

  #list(
    gk: GroupKind,
    namespace: string,
    selector: LabelSelector | undefined,
    signal: AbortSignal | undefined,
  ): KubeObject[] {
    abortIfNeeded(signal);
    this.counts.list++;
    this.requests.push(
      `list ${formatGroupKind(gk)} ${namespace}${selector ? ` ${JSON.stringify(selector)}` : ''}`,
    );
    const err = this.#listErrors.get(`${groupKindKey(gk)}|${namespace}`);
    if (err) throw err;
    const kind = this.#objects.get(groupKindKey(gk));
    if (!kind) return [];
    // '' lists every namespace, as the API does for a namespaced kind (and cluster-scoped kinds).
    const namespaces =
      namespace === ''
        ? [...kind.values()]
        : [kind.get(namespace) ?? new Map<string, KubeObject>()];
    const out: KubeObject[] = [];
    for (const ns of namespaces) {
      for (const o of ns.values()) {
        if (selector && !matchesSelector(labelsOf(o), selector)) continue;
        out.push(structuredClone(o));
      }
    }
    return out;
  }
}

/** An in-memory cluster holding `objects` (copied; reads return copies too). */
export function createMemoryClusterReader(
  objects: readonly KubeObject[] = [],
): MemoryClusterReader {
  const r = new MemoryReader();
  r.set(...objects);
  return r;
}
