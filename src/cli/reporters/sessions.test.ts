import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { PoolUsage, SessionEvent, StoredSession } from '../../sessions/index.js';
import { nextStatus, parseSessionText } from '../../sessions/index.js';
import type { WorkloadState } from '../../core/workload.js';
import {
  age,
  eventLine,
  renderEvents,
  renderPools,
  renderSession,
  renderSessionList,
  workloadLine,
} from './sessions.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');
const session = parseSessionText(
  JSON.stringify({
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name: 'lt' },
    spec: {
      components: [
        { name: 'd', kind: 'driver', pool: 'drv', command: ['run-driver'] },
        { name: 's', kind: 'server', pool: 'srv', replicas: 2, command: ['serve', '-p'] },
      ],
    },
  }),
  'lt.yaml',
)[0]!;
const queued = {
  ...session,
  status: nextStatus(undefined, 'Queued', 'Submitted', 'waiting', t0),
};
const stored: StoredSession = { session: queued, submittedAt: t0 };

describe('session reporters', () => {
  it('age: seconds, minutes, hours, days as kubectl prints them', () => {
    expect([0, 119_000, 120_000, 7_199_000, 7_200_000, 172_800_000].map(age)).toEqual([
      '0s',
      '119s',
      '2m',
      '119m',
      '2h',
      '2d',
    ]);
  });

  it('list: a table row per session; json is the Session objects', () => {
    const table = renderSessionList([stored], 'table', t0 + 5_000);
    const [head, row] = table.trimEnd().split('\n');
    expect(head!.split(/\s+/).filter(Boolean)).toEqual([
      'NAME',
      'STATE',
      'REASON',
      'PRIORITY',
      'AGE',
      'COMPONENTS',
    ]);
    expect(row!.split(/\s+/).filter(Boolean)).toEqual([
      'lt',
      'Queued',
      'Submitted',
      '0',
      '5s',
      'd(driver)x1@drv,s(server)x2@srv',
    ]);
    expect(JSON.parse(renderSessionList([stored], 'json', t0))).toEqual([queued]);
    expect(renderSessionList([], 'table', t0)).toBe('No sessions.\n');
  });

  it('get -o json|yaml prints the Session object: metadata, spec, status', () => {
    const obj = JSON.parse(renderSession(queued, 'json')) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(obj).toEqual(queued);
    expect(parse(renderSession(queued, 'yaml'))).toEqual(queued);
    const text = renderSession(queued, 'table');
    expect(text).toMatch(/^Name: +lt$/m);
    expect(text).toMatch(/^State: +Queued$/m);
    expect(text).toMatch(/^ +s +server +srv +2 +serve -p/m);
  });

  it('events: in the order given, with ISO times', () => {
    const events: SessionEvent[] = [
      { session: 'lt', kind: 'queued', time: t0, reason: 'Submitted', message: 'waiting' },
      { session: 'lt', kind: 'accepted', time: t0 + 1, reason: 'Provisioning', message: 'go' },
    ];
    const rows = renderEvents(events, 'table').trimEnd().split('\n').slice(1);
    expect(rows.map((r) => r.split(/\s+/).filter(Boolean).slice(0, 3))).toEqual([
      ['2026-03-01T00:00:00.000Z', 'queued', 'Submitted'],
      ['2026-03-01T00:00:00.001Z', 'accepted', 'Provisioning'],
    ]);
    expect(JSON.parse(renderEvents(events, 'json'))).toEqual(events);
    expect(eventLine('lt', events[1]!)).toBe('session lt: accepted (Provisioning) go');
  });

  it('pools: capacity, reserved, available and the holders with their node counts', () => {
    const pools: PoolUsage[] = [
      { name: 'drv', capacity: 1, reserved: 0, available: 1, holders: [] },
      {
        name: 'srv',
        capacity: 3,
        reserved: 2,
        available: 1,
        holders: [{ holder: 'lt', nodes: ['srv-0', 'srv-1'] }],
      },
    ];
    const rows = renderPools(pools, 'table').trimEnd().split('\n');
    expect(rows.map((r) => r.split(/\s+/).filter(Boolean))).toEqual([
      ['POOL', 'CAPACITY', 'RESERVED', 'AVAILABLE', 'SESSIONS'],
      ['drv', '1', '0', '1', '-'],
      ['srv', '3', '2', '1', 'lt(2)'],
    ]);
    expect(JSON.parse(renderPools(pools, 'json'))).toEqual(pools);
    expect(renderPools([], 'table')).toMatch(/^No pools/);
  });

  it("workload lines: name, node, phase and the container's state; control bytes made visible", () => {
    const w: WorkloadState = {
      name: 'lt-s-0',
      owner: 'lt',
      node: 'srv-0',
      phase: 'Running',
      containers: [{ name: 's', restarts: 0, state: 'running' }],
      addresses: {},
    };
    expect(workloadLine(w)).toBe('  lt-s-0 on srv-0: Running (running)');
    expect(
      eventLine('lt', {
        session: 'lt',
        kind: 'errored',
        time: 0,
        reason: 'Cancelled',
        message: 'a\u001b[2Jb',
      }),
    ).not.toContain('\u001b');
  });
});
