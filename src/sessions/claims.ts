/**
 * A run's claim on the nodes of a pool (`fathom run --pool NAME`): runs and sessions share pools
 * through the same reservations, so they never overlap. A claim is admitted by the session
 * queue's rule (priority, then FIFO, EASY backfill; queue.ts) but takes no executor slot: the
 * controller reserves the nodes, stores the holding (`session-holdings`, key `run--<run>`, so
 * `fathom pools` shows `run/<run>` as holder) and marks the claim Granted with its nodes. The
 * run then places its plugins only on those nodes. A claim is released (holding removed,
 * nodes freed) when it is removed from the store, or when the backend's probe says its run
 * ended.
 *
 * Kept in their own collection, `pool-claims`, under the run's name, with the store's
 * compare-and-swap. The decisions here are pure; the controller applies them.
 */
import { FathomError } from '../core/errors.js';
import type { Collection, DurableStore } from '../core/store.js';
import { typedCollection } from '../core/store.js';
import { Type } from '../core/schema.js';
import type { ClusterNode } from '../core/nodes.js';
import { poolsFromNodes } from './pools.js';
import { casLoop } from './store.js';
import type { QueuedSession } from './queue.js';
import type { Assignment, PoolCounts, Refusal } from './reservations.js';
import { refusal, Reservations } from './reservations.js';

export type ClaimState = 'Waiting' | 'Granted' | 'Refused';
export const claimStates: readonly ClaimState[] = ['Waiting', 'Granted', 'Refused'];

export interface PoolClaim {
  /** The run's name (its namespace): a DNS label of at most `claimLimits.runName`. */
  readonly run: string;
  readonly pool: string;
  /** Nodes wanted; undefined for every node of the pool (counted when it is admitted). */
  readonly nodes?: number;
  /** Higher is admitted first, as for sessions. */
  readonly priority: number;
  /** Milliseconds since the epoch: its place in the queue. */
  readonly submittedAt: number;
  readonly state: ClaimState;
  /** The nodes granted, sorted (state Granted). */
  readonly granted?: readonly string[];
  /** Why it was refused (state Refused). */
  readonly message?: string;
}

/** The prefix that makes a claim's holding key: `run--<run>` (a DNS label, as store keys are). */
export const claimKeyPrefix = 'run--';
export const claimLimits = { runName: 63 - claimKeyPrefix.length } as const;

/** The holder in reservations and `fathom pools`. */
export const claimHolder = (run: string): string => `run/${run}`;
/** The key of its holding in `session-holdings`. */
export const claimKey = (run: string): string => `${claimKeyPrefix}${run}`;
/** The run a holding key or holder belongs to; undefined for a session's. */
export function claimRunOf(keyOrHolder: string): string | undefined {
  if (keyOrHolder.startsWith(claimKeyPrefix)) return keyOrHolder.slice(claimKeyPrefix.length);
  if (keyOrHolder.startsWith('run/')) return keyOrHolder.slice('run/'.length);
  return undefined;
}

/**
 * The nodes of the pool a run asks for (`fathom run --pool`), or FATHOM_POOL_REFUSED naming the
 * pool, the nodes asked for and the capacity when the pool cannot give them.
 */
export function runPoolNodes(
  nodes: readonly ClusterNode[],
  pool: { readonly name: string; readonly nodes?: number; readonly labelKey: string },
): readonly string[] {
  const pools = poolsFromNodes(nodes, pool.labelKey);
  const counts = new Reservations(pools, pool.labelKey);
  const r = refusal(
    [[pool.name, pool.nodes ?? counts.capacity(pool.name) ?? 1]],
    counts,
    pool.labelKey,
  );
  if (r) {
    throw new FathomError('FATHOM_POOL_REFUSED', `--pool ${pool.name}: ${runMessage(r)}`, {
      details: { pool: pool.name, reason: r.reason },
    });
  }
  return pools.get(pool.name)!;
}

/** A refusal as a run is told it. */
export const runMessage = (r: Refusal): string =>
  r.message.replace('the session needs', 'the run asks for');

/** The claim as the queue sees it: every node of its pool unless it names a count. */
export function claimQueued(claim: PoolClaim, counts: PoolCounts): QueuedSession {
  const all = counts.capacity(claim.pool) ?? 1; // an unknown pool: refused as PoolError
  return {
    name: claimHolder(claim.run),
    priority: claim.priority,
    submittedAt: claim.submittedAt,
    needs: [[claim.pool, claim.nodes ?? all]],
    slot: false,
  };
}

export interface ClaimsKnown {
  /** Claims queued in the controller, by run. */
  readonly queued: ReadonlySet<string>;
  /** Claims whose nodes the controller holds, by run. */
  readonly granted: ReadonlySet<string>;
}

export interface ClaimPlan {
  /** Waiting in the store, not queued here: queue them. */
  readonly enqueue: readonly PoolClaim[];
  /** Queued here, no longer waiting in the store (removed, or ended): leave the queue. */
  readonly dequeue: readonly string[];
  /** Granted in the store, not held here (a restarted controller): take their nodes again. */
  readonly adopt: readonly { readonly run: string; readonly nodes: readonly string[] }[];
  /** Held here, whose claim is gone or whose run ended: free the nodes, remove the holding. */
  readonly release: readonly string[];
  /** Claims of runs that ended, to remove from the store. */
  readonly remove: readonly string[];
  /** Holding keys of claims that are neither granted nor held here (a crash between writes). */
  readonly unhold: readonly string[];
}

/**
 * What a controller does to match the claims in the store. `holdings` are the claim holdings
 * only (key `run--<run>`); `ended` the runs the backend's probe found ended. Pure.
 */
export function reconcileClaims(
  stored: readonly PoolClaim[],
  holdings: ReadonlyMap<string, Assignment>,
  known: ClaimsKnown,
  ended: ReadonlySet<string>,
): ClaimPlan {
  const enqueue: PoolClaim[] = [];
  const adopt: { run: string; nodes: readonly string[] }[] = [];
  const remove: string[] = [];
  const live = new Map<string, PoolClaim>();
  for (const c of stored) {
    if (ended.has(c.run)) {
      remove.push(c.run);
      continue;
    }
    live.set(c.run, c);
    if (c.state === 'Waiting' && !known.queued.has(c.run) && !known.granted.has(c.run)) {
      enqueue.push(c);
    }
    if (c.state === 'Granted' && !known.granted.has(c.run)) {
      // The holding is written before the claim is granted; the claim's own list is the fallback.
      const held = holdings.get(claimKey(c.run));
      adopt.push({ run: c.run, nodes: held ? Object.values(held).flat() : (c.granted ?? []) });
    }
  }
  const dequeue = [...known.queued].filter((r) => live.get(r)?.state !== 'Waiting');
  const release = [...known.granted].filter((r) => live.get(r)?.state !== 'Granted');
  const keep = new Set([...adopt.map((a) => a.run), ...known.granted].filter((r) => live.has(r)));
  const unhold = [...holdings.keys()]
    .filter((k) => {
      const run = claimRunOf(k);
      return run !== undefined && !keep.has(run) && !release.includes(run);
    })
    .sort();
  return { enqueue, dequeue: dequeue.sort(), adopt, release: release.sort(), remove, unhold };
}

/** The port over the durable store. */
export interface ClaimStore {
  get(run: string): Promise<PoolClaim | undefined>;
  list(): Promise<readonly PoolClaim[]>;
  /** false when the run has a claim already. */
  create(claim: PoolClaim): Promise<boolean>;
  /** Waiting → Granted with `nodes`; undefined when the claim is gone or no longer waiting. */
  grant(run: string, nodes: readonly string[]): Promise<PoolClaim | undefined>;
  /** Waiting → Refused (its pool is gone or too small); undefined as for `grant`. */
  refuse(run: string, message: string): Promise<PoolClaim | undefined>;
  remove(run: string): Promise<void>;
}

const claimSchema = Type.Object({
  run: Type.String({ minLength: 1 }),
  pool: Type.String({ minLength: 1 }),
  nodes: Type.Optional(Type.Integer({ minimum: 1 })),
  priority: Type.Integer(),
  submittedAt: Type.Number(),
  state: Type.Enum(claimStates),
  granted: Type.Optional(Type.Array(Type.String())),
  message: Type.Optional(Type.String()),
});

class DurableClaimStore implements ClaimStore {
  readonly #c: Collection<PoolClaim>;

  constructor(store: DurableStore) {
    this.#c = typedCollection(store.collection('pool-claims'), claimSchema, 'pool-claims');
  }

  async get(run: string): Promise<PoolClaim | undefined> {
    return (await this.#c.get(run))?.value;
  }

  async list(): Promise<readonly PoolClaim[]> {
    return (await this.#c.list()).map((i) => i.value);
  }

  async create(claim: PoolClaim): Promise<boolean> {
    return (await this.#c.create(claim.run, claim)) !== undefined;
  }

  grant(run: string, nodes: readonly string[]): Promise<PoolClaim | undefined> {
    return this.#fromWaiting(run, (c) => ({ ...c, state: 'Granted', granted: [...nodes].sort() }));
  }

  refuse(run: string, message: string): Promise<PoolClaim | undefined> {
    return this.#fromWaiting(run, (c) => ({ ...c, state: 'Refused', message }));
  }

  async remove(run: string): Promise<void> {
    await this.#c.remove(run);
  }

  /** Compare-and-swap from Waiting (casLoop); undefined when the claim is not Waiting. */
  async #fromWaiting(
    run: string,
    change: (c: PoolClaim) => PoolClaim,
  ): Promise<PoolClaim | undefined> {
    let wrote = false;
    const out = await casLoop(this.#c, run, (cur) => {
      wrote = cur?.value.state === 'Waiting';
      return wrote ? change(cur!.value) : undefined;
    });
    return wrote ? out : undefined;
  }
}

export function claimStoreOver(store: DurableStore): ClaimStore {
  return new DurableClaimStore(store);
}
