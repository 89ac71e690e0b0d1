/**
 * What a controller must do to match the store: on start (it knows nothing yet: everything
 * queued is queued again, everything provisioning or running is resumed) and on each sync (a
 * session written by another process, one cancelled in the store). Pure.
 */
import type { QueuedSession } from './queue.js';
import { queuedFrom } from './queue.js';
import type { Assignment } from './reservations.js';
import type { StoredSession } from './store.js';
import type { Session } from './types.js';
import { isFinal } from './types.js';

export interface Known {
  readonly queued: ReadonlySet<string>;
  /** Sessions with an executor here. */
  readonly active: ReadonlySet<string>;
}

export interface Reconciliation {
  /** In the store as queued (or without a status: written by another tool), not known here. */
  readonly enqueue: readonly QueuedSession[];
  /** Queued here, ended in the store (cancelled by another process). */
  readonly dequeue: readonly string[];
  /** Running here, ended in the store: their executors stop and clean up. */
  readonly stop: readonly string[];
  /**
   * Provisioning or running in the store, with no executor here (the last controller died):
   * resume over the nodes held, or end PodsMissing when no holding survived.
   */
  readonly resume: readonly { readonly session: Session; readonly nodes?: Assignment }[];
  /** Holdings of sessions neither running nor to resume: ended, or gone from the store. */
  readonly unhold: readonly string[];
}

export function reconcile(
  stored: readonly StoredSession[],
  holdings: ReadonlyMap<string, Assignment>,
  known: Known,
): Reconciliation {
  const enqueue: QueuedSession[] = [];
  const dequeue: string[] = [];
  const stop: string[] = [];
  const resume: { session: Session; nodes?: Assignment }[] = [];
  const keep = new Set<string>();
  for (const { session, submittedAt } of stored) {
    const name = session.metadata.name;
    const state = session.status?.state ?? 'Queued';
    if (known.active.has(name)) {
      keep.add(name); // its executor frees the holding when it ends
      if (isFinal(state)) stop.push(name);
      continue;
    }
    if (state === 'Queued') {
      // A holding here means it was admitted and the controller died before its executor
      // wrote a word: nothing was placed, so it queues again without it.
      if (!known.queued.has(name)) enqueue.push(queuedFrom(session, submittedAt));
      continue;
    }
    if (isFinal(state)) {
      if (known.queued.has(name)) dequeue.push(name);
      continue;
    }
    const nodes = holdings.get(name);
    resume.push({ session, ...(nodes ? { nodes } : {}) });
    keep.add(name);
  }
  const unhold = [...holdings.keys()].filter((n) => !keep.has(n)).sort();
  return { enqueue, dequeue, stop, resume, unhold };
}
