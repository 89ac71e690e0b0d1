/**
 * Node pools on Kubernetes: the cluster's Nodes by their pool label, listed once for a command
 * and kept by a watch for the controller (re-read when nodes come, go or change labels).
 */
import type { Clock } from '../../../core/clock.js';
import type { ClusterNode } from '../../../core/nodes.js';
import type { Pools } from '../../../sessions/index.js';
import { poolsFromNodes } from '../../../sessions/index.js';
import type { KubeClient } from '../api/client.js';
import { watchObjects } from '../api/informer.js';
import type { Node } from '../api/types.js';

const NODES = '/api/v1/nodes';

const clusterNode = (n: Node): ClusterNode => ({
  name: n.metadata.name ?? '',
  labels: { ...n.metadata.labels },
});

/** The pools as the nodes make them now. */
export async function listPools(client: KubeClient, labelKey: string): Promise<Pools> {
  const nodes = await client.list<Node>(NODES, 'listing nodes');
  return poolsFromNodes(nodes.items.map(clusterNode), labelKey);
}

const sameShape = (a: Pools, b: Pools): boolean =>
  JSON.stringify([...a]) === JSON.stringify([...b]);

/**
 * The pools kept current by a watch on Nodes. `changed` returns the pools once after each
 * change that moved a node in or out of a pool; a node's heartbeat (status only) changes none.
 */
export class WatchedPools {
  readonly #nodes = new Map<string, ClusterNode>();
  #pools: Pools;
  #dirty = false;

  private constructor(
    private readonly labelKey: string,
    initial: Pools,
  ) {
    this.#pools = initial;
  }

  /**
   * Lists the nodes, then watches them until `signal` aborts. Resolves after the first list;
   * watch errors (retried by the watch) go to `onError`.
   */
  static start(o: {
    client: KubeClient;
    clock: Clock;
    labelKey: string;
    signal: AbortSignal;
    onError: (error: Error) => void;
  }): Promise<WatchedPools> {
    const watched = new WatchedPools(o.labelKey, new Map());
    let listed = false;
    return new Promise((resolve, reject) => {
      void (async () => {
        for await (const e of watchObjects<Node & { metadata: { name: string } }>({
          client: o.client,
          clock: o.clock,
          path: NODES,
          signal: o.signal,
          what: 'watching nodes for pools',
        })) {
          if (e.type === 'error') o.onError(e.error);
          else if (e.type === 'synced') {
            watched.#apply(e.objects, true);
            if (!listed) watched.#dirty = false; // the first pools are the start's, not a change
            listed = true;
            resolve(watched);
          } else if (e.type === 'added' || e.type === 'updated') watched.#apply([e.object], false);
          else if (e.type === 'deleted') watched.#remove(e.object.metadata.name);
        }
        reject(new Error('stopped before the nodes were listed'));
      })();
    });
  }

  get pools(): Pools {
    return this.#pools;
  }

  /** The pools if they changed since the last call. */
  changed(): Pools | undefined {
    if (!this.#dirty) return undefined;
    this.#dirty = false;
    return this.#pools;
  }

  #apply(nodes: readonly Node[], whole: boolean): void {
    if (whole) this.#nodes.clear();
    for (const n of nodes) this.#nodes.set(n.metadata.name ?? '', clusterNode(n));
    this.#recompute();
  }

  #remove(name: string): void {
    this.#nodes.delete(name);
    this.#recompute();
  }

  #recompute(): void {
    const next = poolsFromNodes([...this.#nodes.values()], this.labelKey);
    if (sameShape(next, this.#pools)) return;
    this.#pools = next;
    this.#dirty = true;
  }
}
