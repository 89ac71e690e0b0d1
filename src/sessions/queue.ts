/**
 * Admission: which queued sessions start now. Pure: the caller passes the queue, what runs,
 * the pools' free nodes and the time, and starts (reserves) what comes back, in order.
 *
 * The rule (README: sessions, admission):
 *
 * - **Order.** Queued sessions are considered by priority (higher first), then by submission
 *   time (first come, first served), then by name. At most `executors` sessions run at once.
 * - **Never queued forever.** A session that names a pool no node is in (`PoolError`) or needs
 *   more nodes of a pool than the pool has (`CapacityError`) is not queued: `refusal` says why
 *   and the caller refuses it. One that becomes impossible while queued (its pool shrank) is
 *   returned in `refuse` when it comes first in line, never made the head (a controller also
 *   checks `refusal` for every queued session when the nodes change, to end it at once).
 * - **The head.** Sessions start in order while they fit (enough free nodes in every pool they
 *   need, and an executor slot). The first one that does not fit is the *head*: it waits.
 * - **Shadow time.** The head's shadow time is the earliest time at which, as running sessions
 *   end at their deadlines (start + timeout), enough nodes of every pool it needs are free and
 *   an executor slot is free. It is *unknown* when a running session without a deadline holds
 *   nodes or slots the head needs and nothing else frees enough.
 * - **Backfill (EASY).** A later session may start ahead of the head only if it fits now and
 *   either (a) its own deadline, now + its timeout, is at or before the head's shadow time, so
 *   everything it takes is back by then; or (b) it takes only nodes and executor slots that
 *   the head will not need at its shadow time (the *extra*: what is free now plus what ends by
 *   the shadow time, minus what the head needs; each session started by (b) uses up extra). A
 *   session without a timeout can start only by (b). When the shadow time is unknown, (a) never
 *   applies and the extra of a pool the head needs is what is free now beyond the head's needs
 *   (zero where it is short), so nothing backfills onto those nodes.
 * - **Guarantee.** With sessions ending by their deadlines, the head starts no later than its
 *   shadow time, and no later than it would with backfill off. Only the head is protected:
 *   sessions behind it may be overtaken by backfill (as in EASY backfilling).
 * - **Runs' pool claims** (`claims`, claims.ts) are in the same order and under the same rule,
 *   but take no executor slot and have no deadline: a claim starts in order while it fits, may
 *   be the head, and behind the head starts only by (b). A session waiting only for a slot is
 *   the head as well when claims are queued, so that a claim never takes its nodes.
 */
import type { PoolCounts, Refusal } from './reservations.js';
import { refusal } from './reservations.js';
import { needsOf, timeoutMs } from './spec.js';
import type { PoolNeeds, Session } from './types.js';

export interface QueuedSession {
  readonly name: string;
  readonly priority: number;
  /** Milliseconds since the epoch. */
  readonly submittedAt: number;
  readonly needs: PoolNeeds;
  /** Provisioning plus running; undefined for no limit. */
  readonly timeoutMs?: number;
  /** false for a run's pool claim: it holds nodes but takes no executor slot. */
  readonly slot?: false;
}

export interface RunningSession {
  readonly name: string;
  /** Nodes it holds per pool. */
  readonly holds: PoolNeeds;
  /** When it ends at the latest (start + timeout); undefined for no limit. */
  readonly deadline?: number;
}

export interface AdmissionState {
  /** Ideally kept sorted with `insertQueued` (admit sorts a copy otherwise). */
  readonly queued: readonly QueuedSession[];
  /** Runs' pool claims waiting (`slot: false`), merged into the order of `queued`. */
  readonly claims?: readonly QueuedSession[];
  readonly running: readonly RunningSession[];
  readonly reservations: PoolCounts;
  readonly executors: number;
}

export interface AdmitOptions {
  /** false: strict order, nothing overtakes the head (for comparison). Default true. */
  readonly backfill?: boolean;
  readonly labelKey?: string;
}

export interface Admission {
  /** To start now, in this order. */
  readonly start: readonly QueuedSession[];
  /** To end with their refusal: they can never run. */
  readonly refuse: readonly { readonly session: QueuedSession; readonly refusal: Refusal }[];
  /** The head that waits, with its shadow time when known. */
  readonly head?: { readonly name: string; readonly shadow?: number };
}

/** A validated session as the queue sees it. */
export function queuedFrom(session: Session, submittedAt: number): QueuedSession {
  const timeout = timeoutMs(session.spec);
  return {
    name: session.metadata.name,
    priority: session.spec.priority,
    submittedAt,
    needs: needsOf(session.spec),
    ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
  };
}

/** Priority (higher first), then submission time, then name. */
export function compareQueued(a: QueuedSession, b: QueuedSession): number {
  return (
    b.priority - a.priority ||
    a.submittedAt - b.submittedAt ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/** Inserts `s` into a queue sorted by `compareQueued`, keeping it sorted (binary search). */
export function insertQueued(queue: QueuedSession[], s: QueuedSession): void {
  let lo = 0;
  let hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareQueued(queue[mid]!, s) <= 0) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, s);
}

function sorted(queue: readonly QueuedSession[]): readonly QueuedSession[] {
  for (let i = 1; i < queue.length; i++) {
    if (compareQueued(queue[i - 1]!, queue[i]!) > 0) return [...queue].sort(compareQueued);
  }
  return queue;
}

/** What the head leaves to backfill (rule b), and its shadow time (rule a). */
interface Shadow {
  readonly time?: number;
  /** Per pool the head needs: nodes a (b)-backfill may still take. */
  readonly extra: Map<string, number>;
  extraSlots: number;
}

function shadowOf(
  head: QueuedSession,
  running: readonly RunningSession[],
  free: (pool: string) => number,
  slots: number,
): Shadow {
  const short = new Map<string, number>();
  for (const [pool, n] of head.needs) if (n > free(pool)) short.set(pool, n - free(pool));
  const slot = head.slot === false ? 0 : 1;
  let slotShort = slot - slots;
  const ending = running.filter((r) => r.deadline !== undefined);
  ending.sort((a, b) => a.deadline! - b.deadline!);
  let time: number | undefined;
  let i = 0;
  for (; time === undefined && i < ending.length; i++) {
    const r = ending[i]!;
    slotShort--;
    for (const [pool, n] of r.holds) {
      const s = short.get(pool);
      if (s === undefined) continue;
      if (s - n <= 0) short.delete(pool);
      else short.set(pool, s - n);
    }
    if (short.size === 0 && slotShort <= 0) time = r.deadline!;
  }
  const extra = new Map<string, number>();
  if (time === undefined) {
    for (const [pool, n] of head.needs) extra.set(pool, Math.max(0, free(pool) - n));
    // The head has a slot now and waits for nodes: it starts only after a session without a
    // deadline ends, which gives back that session's slot too.
    return { extra, extraSlots: slots };
  }
  // Everything ending by the shadow time is back then (ties included).
  let released = 0;
  const back = new Map<string, number>();
  for (const r of ending) {
    if (r.deadline! > time) break;
    released++;
    for (const [pool, n] of r.holds) back.set(pool, (back.get(pool) ?? 0) + n);
  }
  for (const [pool, n] of head.needs) {
    extra.set(pool, Math.max(0, free(pool) + (back.get(pool) ?? 0) - n));
  }
  return { time, extra, extraSlots: Math.max(0, slots + released - slot) };
}

/** Both queues in one order (each sorted by `compareQueued`). */
function* merged(
  a: readonly QueuedSession[],
  b: readonly QueuedSession[],
): Generator<QueuedSession> {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && compareQueued(a[i]!, b[j]!) <= 0)) yield a[i++]!;
    else yield b[j++]!;
  }
}

/**
 * The sessions to start now, in order, by the rule above. Costs one pass over the queue (it
 * stops once every executor slot is given) plus a sort of what runs when the head waits.
 */
export function admit(state: AdmissionState, now: number, options: AdmitOptions = {}): Admission {
  const backfill = options.backfill ?? true;
  const start: QueuedSession[] = [];
  const refuse: { session: QueuedSession; refusal: Refusal }[] = [];
  let slots = state.executors - state.running.length;
  const freeNow = new Map<string, number>();
  const free = (pool: string): number => {
    let n = freeNow.get(pool);
    if (n === undefined) freeNow.set(pool, (n = state.reservations.available(pool)));
    return n;
  };
  const fits = (s: QueuedSession): boolean => s.needs.every(([p, n]) => n <= free(p));
  const take = (s: QueuedSession): void => {
    for (const [p, n] of s.needs) freeNow.set(p, free(p) - n);
    if (s.slot !== false) slots--;
    start.push(s);
  };
  const failedAt = new Map<string, number>();
  const fitsRemembering = (s: QueuedSession): boolean => {
    for (const [p, n] of s.needs) {
      if (n >= (failedAt.get(p) ?? Infinity)) return false;
      if (n > free(p)) {
        failedAt.set(p, n);
        return false;
      }
    }
    return true;
  };
  let head: QueuedSession | undefined;
  let shadow: Shadow | undefined;
  const claims = state.claims?.length ? sorted(state.claims) : [];
  let claimsLeft = claims.length;
  for (const s of claims.length ? merged(sorted(state.queued), claims) : sorted(state.queued)) {
    const slot = s.slot !== false;
    if (!slot) claimsLeft--;
    // Out of slots, only a claim can still start; with none left, the pass is over.
    if (slots <= 0 && slot && (claimsLeft === 0 || head)) {
      if (claimsLeft === 0) break;
      continue;
    }
    if (!head) {
      const refused = refusal(s.needs, state.reservations, options.labelKey);
      if (refused) refuse.push({ session: s, refusal: refused });
      else if (fits(s) && (!slot || slots > 0)) take(s);
      else {
        head = s;
        if (!backfill) break;
        shadow = shadowOf(s, state.running, free, slots);
      }
      continue;
    }
    // Behind the head only what fits now matters (one that can never run cannot fit now; it
    // is refused once it is first in line). Free nodes only shrink during a pass, so a need
    // that failed once fails again: remembered per pool, the pass stays cheap.
    if (!shadow || !fitsRemembering(s)) continue;
    const endsInTime =
      shadow.time !== undefined && s.timeoutMs !== undefined && now + s.timeoutMs <= shadow.time;
    if (endsInTime) {
      take(s);
      continue;
    }
    const extra = shadow.extra;
    if (slot && shadow.extraSlots < 1) continue;
    if (!s.needs.every(([p, n]) => n <= (extra.get(p) ?? Infinity))) continue;
    for (const [p, n] of s.needs) if (extra.has(p)) extra.set(p, extra.get(p)! - n);
    if (slot) shadow.extraSlots--;
    take(s);
  }
  return {
    start,
    refuse,
    ...(head
      ? {
          head: { name: head.name, ...(shadow?.time !== undefined ? { shadow: shadow.time } : {}) },
        }
      : {}),
  };
}
