/**
 * The `hashing` strategy: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam
 * 2018). Each node owns points on a ring; a config goes to the first node clockwise from its
 * hash that may run it and holds fewer than ⌈(1+ε)·configs/nodes⌉. A node joining or leaving
 * moves about its fair share (1/N) of the configs, not a reshuffle; the bound keeps any node
 * from taking more than (1+ε) times the average. Pure: the same nodes and configs always give
 * the same assignment.
 */

/** 32-bit FNV-1a. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const VIRTUAL_POINTS = 100;
export const LOAD_EPSILON = 0.25;

export class HashRing {
  readonly #points: Uint32Array;
  readonly #owners: string[];
  readonly size: number;

  constructor(nodes: readonly string[], points = VIRTUAL_POINTS) {
    const all: [number, string][] = [];
    for (const n of nodes) for (let i = 0; i < points; i++) all.push([hash32(`${n}#${i}`), n]);
    all.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    this.#points = Uint32Array.from(all.map((p) => p[0]));
    this.#owners = all.map((p) => p[1]);
    this.size = nodes.length;
  }

  /** Distinct nodes in ring order from `key`'s position. */
  *walk(key: string): Generator<string> {
    const n = this.#points.length;
    if (!n) return;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const seen = new Set<string>();
    for (let i = 0; i < n && seen.size < this.size; i++) {
      const owner = this.#owners[(lo + i) % n]!;
      if (seen.has(owner)) continue;
      seen.add(owner);
      yield owner;
    }
  }
}

export interface HashedConfig {
  readonly digest: string;
  /** Nodes it may run on (all when undefined). */
  readonly eligible?: ReadonlySet<string>;
}

/**
 * Assigns every config (in digest order, so the result does not depend on arrival order) to
 * its first eligible node under the load bound. Configs with no eligible node are left out.
 */
export function hashAssignment(
  nodes: readonly string[],
  configs: readonly HashedConfig[],
  epsilon = LOAD_EPSILON,
): Map<string, string> {
  const out = new Map<string, string>();
  if (!nodes.length) return out;
  const ring = new HashRing(nodes);
  const cap = loadCap(configs.length, nodes.length, epsilon);
  const load = new Map(nodes.map((n) => [n, 0]));
  const ordered = [...configs].sort((a, b) =>
    a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0,
  );
  for (const c of ordered) {
    const node = ringTarget(ring, c, (n) => load.get(n)!, cap);
    if (node === undefined) continue;
    out.set(c.digest, node);
    load.set(node, load.get(node)! + 1);
  }
  return out;
}

/** The load bound for `configs` over `nodes`. */
export function loadCap(configs: number, nodes: number, epsilon = LOAD_EPSILON): number {
  return Math.max(1, Math.ceil(((1 + epsilon) * configs) / Math.max(1, nodes)));
}

/**
 * The first eligible node clockwise from the config's hash that holds fewer than `cap`; when
 * every eligible node is full (few may run it) the first eligible one: the bound yields to
 * placement. Undefined when no node may run it.
 */
export function ringTarget(
  ring: HashRing,
  config: HashedConfig,
  load: (node: string) => number,
  cap: number,
): string | undefined {
  let first: string | undefined;
  for (const node of ring.walk(config.digest)) {
    if (config.eligible && !config.eligible.has(node)) continue;
    if (load(node) < cap) return node;
    first ??= node;
  }
  return first;
}
