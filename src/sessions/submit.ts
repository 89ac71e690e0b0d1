/**
 * Submitting a session: refused at once when it can never run on these pools, otherwise stored
 * Queued with its `queued` event. The controller and a client that writes into the store (the
 * local CLI, which the controller's sync then picks up) both submit through here.
 */
import { FathomError } from '../core/errors.js';
import { claimKeyPrefix } from './claims.js';
import type { Reservations } from './reservations.js';
import { refusal } from './reservations.js';
import { needsOf } from './spec.js';
import { nextStatus } from './status.js';
import type { SessionStore } from './store.js';
import type { Session } from './types.js';

/** FATHOM_SESSION_REFUSED when it can never run, FATHOM_SESSION_EXISTS when the name is taken. */
export async function storeQueued(
  store: SessionStore,
  session: Session,
  reservations: Reservations,
  labelKey: string | undefined,
  now: number,
): Promise<Session> {
  const name = session.metadata.name;
  if (name.startsWith(claimKeyPrefix)) {
    // Their holdings would pass for a run's (claims.ts).
    throw new FathomError(
      'FATHOM_SESSION_INVALID',
      `session ${name}: metadata.name: names beginning with "${claimKeyPrefix}" are kept for runs on a pool`,
    );
  }
  const refused = refusal(needsOf(session.spec), reservations, labelKey);
  if (refused) {
    throw new FathomError('FATHOM_SESSION_REFUSED', `session ${name}: ${refused.message}`, {
      details: { reason: refused.reason, pool: refused.pool },
    });
  }
  const message = 'waiting for nodes and an executor';
  const queued: Session = {
    ...session,
    status: nextStatus(undefined, 'Queued', 'Submitted', message, now),
  };
  if (!(await store.create({ session: queued, submittedAt: now }))) {
    throw new FathomError('FATHOM_SESSION_EXISTS', `session ${name} exists already`);
  }
  await store.addEvent({ session: name, kind: 'queued', time: now, reason: 'Submitted', message });
  return queued;
}
