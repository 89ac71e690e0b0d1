/**
 * Which nodes of which pool each holder (a session, or a run asking for a pool) holds. One
 * component instance takes one whole node. Reserving is all-or-nothing across every pool a
 * holder needs; releasing returns exactly what it holds; a node that disappears (or leaves its
 * pool) shrinks the capacity and is taken from its holder, who is reported (PodsMissing).
 * Invariant: a node has at most one holder, so reserved never exceeds capacity.
 *
 * Errors are deterministic: pools are checked in sorted order, every pool for PoolError before
 * any for CapacityError, then availability. Pure: no I/O, no clock.
 */
import type { PoolNeeds } from './types.js';
import type { Pools } from './pools.js';
import { defaultPoolLabel } from './pools.js';

/** Why a reservation cannot be made. PoolError and CapacityError are permanent. */
export type ReserveError =
  | { readonly reason: 'PoolError'; readonly pool: string; readonly message: string }
  | {
      readonly reason: 'CapacityError';
      readonly pool: string;
      readonly requested: number;
      readonly capacity: number;
      readonly message: string;
    }
  | {
      readonly reason: 'Unavailable';
      readonly pool: string;
      readonly requested: number;
      readonly available: number;
      readonly message: string;
    };

export type Refusal = Extract<ReserveError, { reason: 'PoolError' | 'CapacityError' }>;

/** The nodes given, per pool. */
export type Assignment = Readonly<Record<string, readonly string[]>>;

export type ReserveResult =
  | { readonly ok: true; readonly nodes: Assignment }
  | { readonly ok: false; readonly error: ReserveError };

/** What `fathom pools` shows for one pool. */
export interface PoolUsage {
  readonly name: string;
  readonly capacity: number;
  readonly reserved: number;
  readonly available: number;
  readonly holders: readonly { readonly holder: string; readonly nodes: readonly string[] }[];
}

/** Nodes taken from a holder because they left the cluster or their pool. */
export interface LostNodes {
  readonly holder: string;
  readonly nodes: readonly string[];
}

/** Capacity and free nodes per pool: all admission needs to read. */
export interface PoolCounts {
  /** Undefined for a pool no node is in. */
  capacity(pool: string): number | undefined;
  available(pool: string): number;
}

/**
 * The original's messages, kept for compatibility (tools that matched on them). Its capacity
 * message swaps the numbers: it prints the request where it means the capacity and the other
 * way round; this reproduces that on purpose, fathom's own `message` does not.
 */
export function originalMessage(error: ReserveError): string {
  switch (error.reason) {
    case 'PoolError':
      return `pool '${error.pool}' was referenced, but not added to the availability instance`;
    case 'CapacityError':
      return `pool ${error.pool} has only ${error.requested} machines, but the session required ${error.capacity} machines`;
    case 'Unavailable':
      return 'not enough machines are available to accomodate the reservation';
  }
}

const plural = (n: number): string => `${n} node${n === 1 ? '' : 's'}`;

/** PoolError or CapacityError for needs that can never be met by `counts`; else undefined. */
export function refusal(
  needs: PoolNeeds,
  counts: PoolCounts,
  labelKey = defaultPoolLabel,
): Refusal | undefined {
  for (const [pool] of needs) {
    if (counts.capacity(pool) === undefined) {
      const message = `pool "${pool}" does not exist: no node has the label ${labelKey}=${pool}`;
      return { reason: 'PoolError', pool, message };
    }
  }
  for (const [pool, requested] of needs) {
    const capacity = counts.capacity(pool)!;
    if (requested > capacity) {
      const message = `pool "${pool}" has ${plural(capacity)}, the session needs ${requested}`;
      return { reason: 'CapacityError', pool, requested, capacity, message };
    }
  }
  return undefined;
}

export class Reservations implements PoolCounts {
  private pools: Pools;
  /** node → holder */
  private readonly owner = new Map<string, string>();
  /** holder → pool → nodes */
  private readonly held = new Map<string, Map<string, string[]>>();
  private readonly reserved = new Map<string, number>();

  constructor(
    pools: Pools,
    readonly labelKey: string = defaultPoolLabel,
  ) {
    this.pools = pools;
  }

  capacity(pool: string): number | undefined {
    return this.pools.get(pool)?.length;
  }

  available(pool: string): number {
    return (this.capacity(pool) ?? 0) - (this.reserved.get(pool) ?? 0);
  }

  /** What `holder` holds, per pool; undefined when nothing. */
  holding(holder: string): Assignment | undefined {
    const h = this.held.get(holder);
    return h ? Object.fromEntries([...h].map(([p, n]) => [p, [...n]])) : undefined;
  }

  holders(): string[] {
    return [...this.held.keys()].sort();
  }

  /** The first reason `needs` cannot be reserved now, or undefined if it can. */
  check(needs: PoolNeeds): ReserveError | undefined {
    const permanent = refusal(needs, this, this.labelKey);
    if (permanent) return permanent;
    for (const [pool, requested] of needs) {
      const available = this.available(pool);
      if (requested > available) {
        const message = `pool "${pool}" has ${available} of ${plural(this.capacity(pool)!)} free, the session needs ${requested}`;
        return { reason: 'Unavailable', pool, requested, available, message };
      }
    }
    return undefined;
  }

  /** All of `needs` for `holder`, or nothing; free nodes are taken in name order. */
  reserve(holder: string, needs: PoolNeeds): ReserveResult {
    if (this.held.has(holder)) throw new Error(`${holder} already holds nodes`);
    const error = this.check(needs);
    if (error) return { ok: false, error };
    const mine = new Map<string, string[]>();
    for (const [pool, requested] of needs) {
      if (requested <= 0) continue;
      const nodes: string[] = [];
      for (const node of this.pools.get(pool)!) {
        if (nodes.length === requested) break;
        if (!this.owner.has(node)) nodes.push(node);
      }
      for (const node of nodes) this.owner.set(node, holder);
      this.reserved.set(pool, (this.reserved.get(pool) ?? 0) + nodes.length);
      mine.set(pool, nodes);
    }
    this.held.set(holder, mine);
    return { ok: true, nodes: this.holding(holder)! };
  }

  /**
   * Takes these nodes for `holder` again (a restarted controller, from the nodes its running
   * components are on). Nodes that are gone, in no pool or held by another are not taken and
   * are returned.
   */
  adopt(holder: string, nodes: readonly string[]): string[] {
    const poolOf = this.poolOfNodes();
    const refused: string[] = [];
    const mine = this.held.get(holder) ?? new Map<string, string[]>();
    for (const node of nodes) {
      const pool = poolOf.get(node);
      const current = this.owner.get(node);
      if (pool === undefined || (current !== undefined && current !== holder)) {
        refused.push(node);
        continue;
      }
      if (current === holder) continue;
      this.owner.set(node, holder);
      this.reserved.set(pool, (this.reserved.get(pool) ?? 0) + 1);
      mine.set(pool, [...(mine.get(pool) ?? []), node].sort());
    }
    if (mine.size > 0) this.held.set(holder, mine);
    return refused;
  }

  /** Returns exactly what `holder` holds; false when it held nothing (idempotent). */
  release(holder: string): boolean {
    const mine = this.held.get(holder);
    if (!mine) return false;
    for (const [pool, nodes] of mine) {
      for (const node of nodes) this.owner.delete(node);
      this.reserved.set(pool, (this.reserved.get(pool) ?? 0) - nodes.length);
    }
    this.held.delete(holder);
    return true;
  }

  /**
   * New pools (the nodes changed). A held node that is gone or now in another pool is taken
   * from its holder (who keeps the rest until released); the holders who lost nodes are
   * returned, sorted.
   */
  setPools(pools: Pools): LostNodes[] {
    this.pools = pools;
    const poolOf = this.poolOfNodes();
    const lost = new Map<string, string[]>();
    for (const [holder, mine] of this.held) {
      for (const [pool, nodes] of mine) {
        const kept = nodes.filter((n) => poolOf.get(n) === pool);
        if (kept.length === nodes.length) continue;
        for (const n of nodes) {
          if (poolOf.get(n) === pool) continue;
          this.owner.delete(n);
          lost.set(holder, [...(lost.get(holder) ?? []), n]);
        }
        this.reserved.set(pool, (this.reserved.get(pool) ?? 0) - (nodes.length - kept.length));
        if (kept.length) mine.set(pool, kept);
        else mine.delete(pool);
      }
    }
    return [...lost]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([holder, nodes]) => ({ holder, nodes: nodes.sort() }));
  }

  /** Every pool with its capacity, reservations and holders, sorted. */
  usage(): PoolUsage[] {
    return [...this.pools].map(([name, nodes]) => {
      const holders = new Map<string, string[]>();
      for (const node of nodes) {
        const h = this.owner.get(node);
        if (h !== undefined) holders.set(h, [...(holders.get(h) ?? []), node]);
      }
      return {
        name,
        capacity: nodes.length,
        reserved: this.reserved.get(name) ?? 0,
        available: this.available(name),
        holders: [...holders]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([holder, n]) => ({ holder, nodes: n })),
      };
    });
  }

  private poolOfNodes(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [pool, nodes] of this.pools) for (const n of nodes) out.set(n, pool);
    return out;
  }
}
