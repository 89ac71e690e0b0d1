/**
 * The status poller's ClusterReader over the API server: GET one object, LIST a kind in a
 * namespace (by label selector), with API discovery mapping group/kind to its resource path and
 * scope. Discovery is lazy (`/apis`, then one group version's resource list when a kind of that
 * group is first asked for) and cached per reader; a kind the server does not serve is asked for
 * again after a while, since its CRD may be applied while `fathom health --watch` runs.
 */
import type { Clock } from '../../core/clock.js';
import { FathomError, isFathomError } from '../../core/errors.js';
import type { ClusterReader } from '../../status/reader.js';
import { formatGroupKind, groupKindKey } from '../../status/fields.js';
import { formatSelector } from '../../status/selector.js';
import type { GroupKind, KubeObject, LabelSelector, ObjectIdentifier } from '../../status/types.js';
import type { ResourceScope } from '../../status/watch.js';
import type { KubeClient, KubeList, Query } from './api/client.js';

/** What discovery says about a kind. */
export interface ApiResource {
  readonly group: string;
  /** The group's preferred version that serves the kind. */
  readonly version: string;
  readonly kind: string;
  /** The plural resource name in paths (`deployments`). */
  readonly resource: string;
  readonly namespaced: boolean;
}

/** A ClusterReader for the API server that also answers discovery questions. */
export interface KubeClusterReader extends ClusterReader {
  /** Where the kind lives; undefined when the server does not serve it. */
  scopeOf(gk: GroupKind, signal?: AbortSignal): Promise<ResourceScope | undefined>;
  /** The kind's resource; FATHOM_KUBE_NOT_FOUND naming the kind when the server has none. */
  resourceFor(gk: GroupKind, signal?: AbortSignal): Promise<ApiResource>;
  /** Frees the client's connections. */
  close(): void;
}

export interface KubeReaderOptions {
  readonly clock: Clock;
  /** How long a "no such kind" answer stands before discovery is asked again (default 10 s). */
  readonly rediscoverAfterMs?: number;
}

interface DiscoveryGroup {
  readonly name: string;
  readonly versions?: readonly { readonly groupVersion: string; readonly version: string }[];
  readonly preferredVersion?: { readonly groupVersion: string; readonly version: string };
}

interface DiscoveryResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

interface KindEntry {
  readonly resource: ApiResource | undefined;
  readonly at: number;
}

const LIST_PAGE = 500;

class KubeReader implements KubeClusterReader {
  readonly #clock: Clock;
  readonly #rediscoverMs: number;
  #groups: Promise<readonly DiscoveryGroup[]> | undefined;
  readonly #versions = new Map<string, Promise<readonly DiscoveryResource[]>>();
  readonly #kinds = new Map<string, KindEntry>();

  constructor(
    readonly client: KubeClient,
    options: KubeReaderOptions,
  ) {
    this.#clock = options.clock;
    this.#rediscoverMs = options.rediscoverAfterMs ?? 10_000;
  }

  async scopeOf(gk: GroupKind, signal?: AbortSignal): Promise<ResourceScope | undefined> {
    try {
      return (await this.resourceFor(gk, signal)).namespaced ? 'Namespaced' : 'Cluster';
    } catch (err) {
      if (isFathomError(err, 'FATHOM_KUBE_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async resourceFor(gk: GroupKind, signal?: AbortSignal): Promise<ApiResource> {
    const key = groupKindKey(gk);
    const cached = this.#kinds.get(key);
    if (cached?.resource) return cached.resource;
    if (!cached || this.#clock.now() - cached.at >= this.#rediscoverMs) {
      if (cached) this.#forget(gk.group);
      const resource = await this.#discover(gk, signal);
      this.#kinds.set(key, { resource, at: this.#clock.now() });
      if (resource) return resource;
    }
    throw new FathomError(
      'FATHOM_KUBE_NOT_FOUND',
      `the API server does not serve kind ${formatGroupKind(gk)}${gk.group ? ' (is its CustomResourceDefinition installed?)' : ''}`,
      { details: { group: gk.group, kind: gk.kind } },
    );
  }

  async get(id: ObjectIdentifier, signal?: AbortSignal): Promise<KubeObject | undefined> {
    const res = await this.resourceFor(id, signal);
    const path = `${collectionPath(res, this.#namespaceFor(res, id))}/${encodeURIComponent(id.name)}`;
    const where = res.namespaced ? `${id.namespace}/${id.name}` : id.name;
    try {
      return await this.client.request<KubeObject>('GET', path, `reading ${id.kind} ${where}`, {
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (isFathomError(err, 'FATHOM_KUBE_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async list(
    gk: GroupKind,
    namespace: string,
    selector?: LabelSelector,
    signal?: AbortSignal,
  ): Promise<KubeObject[]> {
    const res = await this.resourceFor(gk, signal);
    const path = collectionPath(res, res.namespaced ? namespace : '');
    const labelSelector = selector ? formatSelector(selector) : '';
    const what = `listing ${res.resource}${res.namespaced && namespace ? ` in namespace ${namespace}` : ''}`;
    const apiVersion = res.group ? `${res.group}/${res.version}` : res.version;
    const items: KubeObject[] = [];
    let cont: string | undefined;
    do {
      const query: Query = {
        limit: LIST_PAGE,
        ...(labelSelector ? { labelSelector } : {}),
        ...(cont ? { continue: cont } : {}),
      };
      const page = await this.client.request<KubeList<KubeObject>>('GET', path, what, {
        query,
        ...(signal ? { signal } : {}),
      });
      // A LIST's items come without apiVersion and kind; the status rules need both.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind: res.kind });
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  close(): void {
    this.client.close();
  }

  #namespaceFor(res: ApiResource, id: ObjectIdentifier): string {
    if (!res.namespaced) return '';
    if (id.namespace === '') {
      throw new FathomError(
        'FATHOM_CONFIG_INVALID',
        `resource ${formatGroupKind(id)} ${id.name} is namespace scoped, but namespace is not set`,
      );
    }
    return id.namespace;
  }

  /** Drops what discovery said about a group, so the next question asks the server again. */
  #forget(group: string): void {
    if (group === '') {
      this.#versions.delete('v1');
      return;
    }
    this.#groups = undefined;
    for (const gv of this.#versions.keys())
      if (gv.startsWith(`${group}/`)) this.#versions.delete(gv);
  }

  async #discover(gk: GroupKind, signal?: AbortSignal): Promise<ApiResource | undefined> {
    let versions: { groupVersion: string; version: string }[];
    if (gk.group === '') {
      versions = [{ groupVersion: 'v1', version: 'v1' }];
    } else {
      const group = (await this.#groupList(signal)).find((g) => g.name === gk.group);
      if (!group) return undefined;
      const preferred = group.preferredVersion;
      versions = [
        ...(preferred ? [preferred] : []),
        ...(group.versions ?? []).filter((v) => v.groupVersion !== preferred?.groupVersion),
      ];
    }
    for (const v of versions) {
      const found = (await this.#resourceList(v.groupVersion, signal)).find(
        (r) => r.kind === gk.kind && !r.name.includes('/'),
      );
      if (found) {
        return {
          group: gk.group,
          version: v.version,
          kind: gk.kind,
          resource: found.name,
          namespaced: found.namespaced,
        };
      }
    }
    return undefined;
  }

  #groupList(signal?: AbortSignal): Promise<readonly DiscoveryGroup[]> {
    this.#groups ??= this.client
      .request<{ groups?: DiscoveryGroup[] }>(
        'GET',
        '/apis',
        'discovering API groups (GET /apis)',
        {
          ...(signal ? { signal } : {}),
        },
      )
      .then((list) => list.groups ?? []);
    const pending = this.#groups;
    // A failed discovery is not remembered: the next cycle asks again.
    pending.catch(() => {
      if (this.#groups === pending) this.#groups = undefined;
    });
    return pending;
  }

  #resourceList(groupVersion: string, signal?: AbortSignal): Promise<readonly DiscoveryResource[]> {
    let pending = this.#versions.get(groupVersion);
    if (!pending) {
      const path = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
      pending = this.client
        .request<{ resources?: DiscoveryResource[] }>('GET', path, `discovering ${path}`, {
          ...(signal ? { signal } : {}),
        })
        .then(
          (list) => list.resources ?? [],
          (err: unknown) => {
            // A group version that went away serves nothing.
            if (isFathomError(err, 'FATHOM_KUBE_NOT_FOUND')) return [];
            throw err;
          },
        );
      this.#versions.set(groupVersion, pending);
      const settled = pending;
      settled.catch(() => {
        if (this.#versions.get(groupVersion) === settled) this.#versions.delete(groupVersion);
      });
    }
    return pending;
  }
}

/** `/apis/<group>/<version>[/namespaces/<ns>]/<resource>`, or `/api/v1/...` for the core group. */
function collectionPath(res: ApiResource, namespace: string): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${res.resource}`;
}

/** A ClusterReader over `client` with its own discovery cache. */
export function createKubeClusterReader(
  client: KubeClient,
  options: KubeReaderOptions,
): KubeClusterReader {
  return new KubeReader(client, options);
}
