/**
 * A session's events, as the original emitted them (QUEUE, ACCEPT, PROVISION, RUN, DONE, ERROR)
 * and in its order: on success queued, accepted, provisioning, running, done; on failure the
 * same up to where it failed, then errored. fathom adds that a session may end from the queue
 * (refused for its pools, cancelled) and that every event of a session is kept, not only the
 * latest. Pure.
 */
import type { SessionReason, SessionState } from './types.js';

export type SessionEventKind =
  'queued' | 'accepted' | 'provisioning' | 'running' | 'done' | 'errored';

export interface SessionEvent {
  readonly session: string;
  readonly kind: SessionEventKind;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly reason: SessionReason;
  readonly message: string;
}

/** What may follow each event (and `start` for the first). */
const after: Readonly<Record<SessionEventKind | 'start', readonly SessionEventKind[]>> = {
  start: ['queued'],
  queued: ['accepted', 'errored'],
  accepted: ['provisioning', 'errored'],
  provisioning: ['running', 'errored'],
  // done only after running: an executor that sees the driver finish before it saw everything
  // ready emits running first.
  running: ['done', 'errored'],
  done: [],
  errored: [],
};

/** Whether `next` may follow `last` (undefined: the session has no event yet). */
export function mayFollow(last: SessionEventKind | undefined, next: SessionEventKind): boolean {
  return after[last ?? 'start'].includes(next);
}

/** The first position at which `kinds` breaks the order, or -1 when it keeps it. */
export function orderProblem(kinds: readonly SessionEventKind[]): number {
  let last: SessionEventKind | undefined;
  for (let i = 0; i < kinds.length; i++) {
    if (!mayFollow(last, kinds[i]!)) return i;
    last = kinds[i];
  }
  return -1;
}

/** The state an event leaves the session in. */
export function stateAfter(kind: SessionEventKind, reason: SessionReason): SessionState {
  switch (kind) {
    case 'queued':
      return 'Queued';
    case 'accepted':
    case 'provisioning':
      return 'Initializing';
    case 'running':
      return 'Running';
    case 'done':
      return 'Succeeded';
    case 'errored':
      return reason === 'Cancelled' ? 'Cancelled' : 'Errored';
  }
}

/** The original's descriptions, where fathom says the same. */
export const eventMessages = {
  accepted: (executor: string, session: string) =>
    `executor ${executor} assigned session ${session}`,
  provisioning: 'started provisioning components for session',
  running: 'all containers appear healthy, monitoring during tests',
  done: 'session completed, driver container had exit status of 0',
} as const;
