/**
 * A session's status as kstatus reads it: `conditionsFor` is pure, so `fathom health` and
 * `kubectl wait --for=condition=Ready` see a queued or running session as InProgress
 * (Reconciling), a successful one as Current (Ready) and an errored or cancelled one as Failed
 * (Stalled).
 */
import type { SessionCondition, SessionReason, SessionState, SessionStatus } from './types.js';
import { isFinal } from './types.js';

function condition(
  type: SessionCondition['type'],
  on: boolean,
  reason: string,
  message: string,
  time: string,
): SessionCondition {
  return { type, status: on ? 'True' : 'False', reason, message, lastTransitionTime: time };
}

/**
 * Ready, Reconciling and Stalled for a state: exactly one of them is True. kstatus's generic
 * rules then give InProgress (Reconciling), Failed (Stalled) or Current (Ready).
 * @param now milliseconds since the epoch (the conditions' lastTransitionTime).
 */
export function conditionsFor(
  state: SessionState,
  reason: SessionReason,
  message: string,
  now: number,
): SessionCondition[] {
  const time = new Date(now).toISOString();
  const ready = state === 'Succeeded';
  const stalled = state === 'Errored' || state === 'Cancelled';
  const reconciling = !isFinal(state);
  const other = ready ? 'Succeeded' : stalled ? state : 'NotFinished';
  return [
    condition(
      'Ready',
      ready,
      ready ? reason : other,
      ready ? message : `session is ${state}`,
      time,
    ),
    condition(
      'Reconciling',
      reconciling,
      reconciling ? reason : state,
      reconciling ? message : '',
      time,
    ),
    condition('Stalled', stalled, stalled ? reason : state, stalled ? message : '', time),
  ];
}

/**
 * The status after a transition to `state`: startTime when the session leaves the queue,
 * stopTime when it ends (each set once), conditions recomputed. Pure.
 */
export function nextStatus(
  prev: SessionStatus | undefined,
  state: SessionState,
  reason: SessionReason,
  message: string,
  now: number,
): SessionStatus {
  const time = new Date(now).toISOString();
  // The timeout counts from here: a session refused or cancelled in the queue never started.
  const started = state === 'Initializing' || state === 'Running';
  const startTime = prev?.startTime ?? (started ? time : undefined);
  const stopTime = prev?.stopTime ?? (isFinal(state) ? time : undefined);
  return {
    state,
    reason,
    message,
    ...(startTime !== undefined ? { startTime } : {}),
    ...(stopTime !== undefined ? { stopTime } : {}),
    conditions: conditionsFor(state, reason, message, now),
  };
}
