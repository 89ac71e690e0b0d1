import { describe, expect, it } from 'vitest';
import { compute } from '../status/compute.js';
import type { Status } from '../status/types.js';
import { conditionsFor, nextStatus } from './status.js';
import type { SessionReason, SessionState } from './types.js';
import { sessionStates } from './types.js';

const now = Date.UTC(2026, 0, 1);

/** A Session object as `kubectl get -o json` would show it. */
function object(state: SessionState, reason: SessionReason, message: string) {
  return {
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name: 's', namespace: 'default', generation: 1 },
    spec: {},
    status: { state, reason, message, conditions: conditionsFor(state, reason, message, now) },
  };
}

describe('conditionsFor, read by the kstatus engine', () => {
  const cases: [SessionState, SessionReason, Status][] = [
    ['Queued', 'Submitted', 'InProgress'],
    ['Initializing', 'Provisioning', 'InProgress'],
    ['Running', 'Running', 'InProgress'],
    ['Succeeded', 'DriverSucceeded', 'Current'],
    ['Errored', 'ContainerError', 'Failed'],
    ['Errored', 'TimeoutErrored', 'Failed'],
    ['Cancelled', 'Cancelled', 'Failed'],
  ];
  it.each(cases)('%s (%s) is %s', (state, reason, want) => {
    const result = compute(object(state, reason, 'the message'));
    expect(result.status).toBe(want);
    if (want !== 'Current') expect(result.message).toBe('the message');
  });

  it('reads the same without a generation, and a session without status as InProgress', () => {
    for (const [state, want] of [
      ['Running', 'InProgress'],
      ['Succeeded', 'Current'],
      ['Cancelled', 'Failed'],
    ] as const) {
      const o = object(state, state === 'Succeeded' ? 'DriverSucceeded' : 'Running', 'm');
      expect(compute({ ...o, metadata: { name: 's' } }).status).toBe(want);
    }
    // The user's own file, before any controller took it in: not Current.
    const { status: _none, ...fresh } = object('Queued', 'Submitted', '');
    expect(compute(fresh)).toMatchObject({
      status: 'InProgress',
      message: 'Resource has no status yet',
    });
  });

  it('covers every state with exactly one True condition', () => {
    for (const state of sessionStates) {
      const on = conditionsFor(state, 'Submitted', '', now).filter((c) => c.status === 'True');
      expect(on).toHaveLength(1);
    }
  });
});

describe('nextStatus', () => {
  it('sets startTime on leaving the queue and stopTime at the end, once each', () => {
    const q = nextStatus(undefined, 'Queued', 'Submitted', 'waiting', now);
    expect(q.startTime).toBeUndefined();
    const i = nextStatus(q, 'Initializing', 'Provisioning', '', now + 1000);
    const r = nextStatus(i, 'Running', 'Running', '', now + 2000);
    const d = nextStatus(r, 'Succeeded', 'DriverSucceeded', '', now + 3000);
    expect(d.startTime).toBe(new Date(now + 1000).toISOString());
    expect(d.stopTime).toBe(new Date(now + 3000).toISOString());
    expect(nextStatus(d, 'Succeeded', 'DriverSucceeded', '', now + 9000).stopTime).toBe(d.stopTime);
  });

  it('gives a session refused in the queue a stopTime and no startTime', () => {
    const q = nextStatus(undefined, 'Queued', 'Submitted', '', now);
    const e = nextStatus(q, 'Errored', 'PoolError', 'pool "gpu" does not exist', now + 5);
    expect(e.startTime).toBeUndefined();
    expect(e.stopTime).toBe(new Date(now + 5).toISOString());
  });
});
