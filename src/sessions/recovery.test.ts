import { describe, expect, it } from 'vitest';
import { reconcile } from './recovery.js';
import { parseSessionText } from './spec.js';
import { nextStatus } from './status.js';
import type { StoredSession } from './store.js';
import type { SessionState } from './types.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');
function stored(name: string, state?: SessionState, submittedAt = t0): StoredSession {
  const text = JSON.stringify({
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name },
    spec: { components: [{ name: 'd', kind: 'driver', pool: 'p', command: ['true'] }] },
  });
  const session = parseSessionText(text, 's.yaml')[0]!;
  const reason = state === 'Cancelled' ? 'Cancelled' : 'Submitted';
  return {
    session: state ? { ...session, status: nextStatus(undefined, state, reason, '', t0) } : session,
    submittedAt,
  };
}
const none = { queued: new Set<string>(), active: new Set<string>() };

describe('reconcile: what a controller does to match the store', () => {
  it('on start: queued (or statusless) sessions queue, provisioning and running ones resume with their nodes, ended ones free theirs', () => {
    const plan = reconcile(
      [
        stored('q', 'Queued', t0 + 2),
        stored('raw', undefined, t0 + 1),
        stored('init', 'Initializing'),
        stored('run', 'Running'),
        stored('done', 'Succeeded'),
      ],
      new Map([
        ['run', { p: ['n1'] }],
        ['done', { p: ['n2'] }],
        ['q', { p: ['n3'] }], // admitted, the controller died before its executor wrote
        ['gone', { p: ['n4'] }],
      ]),
      none,
    );
    expect(plan.enqueue.map((q) => [q.name, q.submittedAt])).toEqual([
      ['q', t0 + 2],
      ['raw', t0 + 1],
    ]);
    expect(plan.resume.map((r) => [r.session.metadata.name, r.nodes])).toEqual([
      ['init', undefined],
      ['run', { p: ['n1'] }],
    ]);
    expect(plan.unhold).toEqual(['done', 'gone', 'q']);
    expect(plan.dequeue).toEqual([]);
    expect(plan.stop).toEqual([]);
  });

  it('while running: what it knows stays; what ended elsewhere leaves the queue or is stopped', () => {
    const plan = reconcile(
      [
        stored('q', 'Cancelled'),
        stored('r', 'Cancelled'),
        stored('live', 'Running'),
        stored('w', 'Queued'),
      ],
      new Map([
        ['r', { p: ['n1'] }],
        ['live', { p: ['n2'] }],
      ]),
      { queued: new Set(['q', 'w']), active: new Set(['r', 'live']) },
    );
    expect(plan).toEqual({ enqueue: [], dequeue: ['q'], stop: ['r'], resume: [], unhold: [] });
  });
});
