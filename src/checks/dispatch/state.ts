/**
 * The dispatcher's state (the original's clusterStore and nodeStores) with the indexes that keep
 * every operation proportional to what it touches: removing or moving a config and expiring a
 * node never scan all checks (the original's `idToDigest` scans). Single-threaded: each method
 * is atomic, no lock needed.
 */
import type { CheckConfig, RunnerStatsMap } from '../types.js';
import type { LastRun } from '../wire.js';
import { compatible, type CheckCompatibility, type PlacementNode } from './placement.js';

export interface NodeRecord extends PlacementNode {
  /** Epoch ms of the last status POST; 0 for a node created by a placement, never heard from. */
  heartbeat: number;
  /** Unix nanoseconds of the last add or remove on this node (an integer double). */
  lastConfigChange: number;
  readonly digests: Set<string>;
  clientIP: string;
  nodeType: number;
  compat?: CheckCompatibility;
  labels: Readonly<Record<string, string>>;
  stats: RunnerStatsMap;
  runs: Readonly<Record<string, LastRun>>;
  /** The agent's concurrent runs (utilization divides by it); the original's default is 4. */
  workers: number;
  load: number;
}

export interface DanglingConfig {
  readonly config: CheckConfig;
  /** Epoch ms when it became dangling. */
  readonly since: number;
  unscheduled: boolean;
}

export const DEFAULT_WORKERS = 4;

/** Nanosecond stamps from one source, strictly increasing even within one millisecond. */
export class ChangeStamps {
  #last = 0;
  next(nowMs: number): number {
    // 1024 ns: above 2^53 doubles step by 256, so +1024 is always a different integer.
    this.#last = Math.max(nowMs * 1e6, this.#last + 1024);
    return this.#last;
  }
}

export class ClusterState {
  /** Every dispatchable config the leader knows, by digest. */
  readonly configs = new Map<string, CheckConfig>();
  readonly placement = new Map<string, string>();
  readonly nodes = new Map<string, NodeRecord>();
  readonly dangling = new Map<string, DanglingConfig>();
  /** Endpoints checks: node → digest → config, served only to that node. */
  readonly endpoints = new Map<string, Map<string, CheckConfig>>();
  readonly idToDigest = new Map<string, string>();
  readonly #digestIds = new Map<string, readonly string[]>();
  #sortedNodes: NodeRecord[] | undefined;
  #restricted = 0;

  constructor(
    private readonly stamps: ChangeStamps,
    private readonly checkIds: (config: CheckConfig) => readonly string[],
  ) {}

  /** The node, created (never heard from: heartbeat 0) when absent. */
  node(name: string): { node: NodeRecord; created: boolean } {
    const found = this.nodes.get(name);
    if (found) return { node: found, created: false };
    const node: NodeRecord = {
      name,
      heartbeat: 0,
      lastConfigChange: 0,
      digests: new Set(),
      clientIP: '',
      nodeType: 0,
      labels: {},
      stats: {},
      runs: {},
      workers: DEFAULT_WORKERS,
      load: 0,
    };
    this.nodes.set(name, node);
    this.#sortedNodes = undefined;
    return { node, created: true };
  }

  /**
   * Sets a node's compatibility, keeping count of restricted nodes (placement's fast path). When
   * it changed, the configs the node no longer accepts go dangling at once (re-dispatched at the
   * next sweep), as the original does. Returns their digests.
   */
  setCompat(node: NodeRecord, compat: CheckCompatibility | undefined, now: number): string[] {
    if (signature(compat) === signature(node.compat)) return [];
    this.#restricted += (compat ? 1 : 0) - (node.compat ? 1 : 0);
    node.compat = compat;
    if (!compat) return [];
    const refused = [...node.digests].filter((d) => !compatible(compat, this.configs.get(d)!.name));
    for (const digest of refused) {
      const config = this.configs.get(digest)!;
      this.placement.delete(digest);
      this.#takeFrom(node.name, digest, now);
      this.dangling.set(digest, { config, since: now, unscheduled: false });
    }
    return refused;
  }

  /** True when no node declared compatibility (every node is a candidate for a plain check). */
  get unrestricted(): boolean {
    return this.#restricted === 0;
  }

  /** Nodes sorted by name (cached until membership changes). */
  sortedNodes(): readonly NodeRecord[] {
    this.#sortedNodes ??= [...this.nodes.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    return this.#sortedNodes;
  }

  idsOf(digest: string): readonly string[] {
    return this.#digestIds.get(digest) ?? [];
  }

  /**
   * Records `config` and places it on `target`, or leaves it dangling when there is none
   * (the original's addConfig). Returns whether it was placed.
   */
  addConfig(config: CheckConfig, target: string | undefined, now: number): boolean {
    const { digest } = config;
    if (!this.configs.has(digest)) {
      this.configs.set(digest, config);
      const ids = this.checkIds(config);
      this.#digestIds.set(digest, ids);
      for (const id of ids) this.idToDigest.set(id, digest);
    }
    if (!target) {
      if (!this.dangling.has(digest)) {
        this.dangling.set(digest, { config, since: now, unscheduled: false });
      }
      return false;
    }
    const previous = this.placement.get(digest);
    if (previous === target) return true;
    const { node } = this.node(target);
    node.digests.add(digest);
    node.load = node.digests.size;
    node.lastConfigChange = this.stamps.next(now);
    this.placement.set(digest, target);
    this.dangling.delete(digest);
    if (previous !== undefined) this.#takeFrom(previous, digest, now);
    return true;
  }

  /** Forgets a config wherever it is. Returns the node it was on, if any. */
  removeConfig(digest: string, now: number): string | undefined {
    const node = this.placement.get(digest);
    for (const id of this.idsOf(digest)) this.idToDigest.delete(id);
    this.#digestIds.delete(digest);
    this.configs.delete(digest);
    this.dangling.delete(digest);
    this.placement.delete(digest);
    if (node !== undefined) this.#takeFrom(node, digest, now);
    return node;
  }

  /** Deletes a node; its configs become dangling (since `now`). Returns their digests. */
  expireNode(name: string, now: number): string[] {
    const node = this.nodes.get(name);
    if (!node) return [];
    this.nodes.delete(name);
    this.#sortedNodes = undefined;
    if (node.compat) this.#restricted--;
    const moved = [...node.digests];
    for (const digest of moved) {
      this.placement.delete(digest);
      const config = this.configs.get(digest);
      if (config) this.dangling.set(digest, { config, since: now, unscheduled: false });
    }
    return moved;
  }

  addEndpoint(config: CheckConfig & { node: string }): void {
    let byDigest = this.endpoints.get(config.node);
    if (!byDigest) this.endpoints.set(config.node, (byDigest = new Map<string, CheckConfig>()));
    byDigest.set(config.digest, config);
  }

  removeEndpoint(config: CheckConfig & { node: string }): void {
    const byDigest = this.endpoints.get(config.node);
    byDigest?.delete(config.digest);
    if (byDigest?.size === 0) this.endpoints.delete(config.node);
  }

  /** Empties everything (leadership lost, or a new term begins). */
  reset(): void {
    this.configs.clear();
    this.placement.clear();
    this.nodes.clear();
    this.dangling.clear();
    this.endpoints.clear();
    this.idToDigest.clear();
    this.#digestIds.clear();
    this.#sortedNodes = undefined;
    this.#restricted = 0;
  }

  #takeFrom(name: string, digest: string, now: number): void {
    const node = this.nodes.get(name);
    if (!node?.digests.delete(digest)) return;
    node.load = node.digests.size;
    node.lastConfigChange = this.stamps.next(now);
  }
}

/** A compatibility declaration in canonical form: equal declarations compare equal. */
function signature(c: CheckCompatibility | undefined): string {
  if (!c) return 'unrestricted';
  const list = (l: readonly string[]) => [...new Set(l)].sort().join(',');
  return `include=${list(c.include)};exclude=${list(c.exclude)}`;
}
