import { describe, expect, it } from 'vitest';
import type { ReplicaView } from '../../backends/checks.js';
import type { CheckConfig } from '../../checks/types.js';
import type { StateResponse } from '../../checks/wire.js';
import { checkResults, checksStateView, renderCheckResults, renderChecksState } from './checks.js';

const config = (name: string): CheckConfig => ({
  name,
  type: 'command',
  intervalMs: 1000,
  timeoutMs: 1000,
  instances: [{ command: ['true'] }],
  source: `${name}.yaml:1`,
  digest: `${name}-digest`,
});

const leaderState: StateResponse = {
  not_running: '',
  warmup: false,
  leader: 'host-123',
  term: 4,
  nodes: [
    {
      name: 'node-1',
      configs: [{ instance_ids: ['web:1'], config: config('web') }],
      runs: {
        'web:1': { status: 'critical', message: 'exit 3', startedAt: 9_000, durationMs: 20 },
      },
      stats: {
        'web:1': {
          AverageExecutionTime: 20,
          MetricSamples: 1,
          HistogramBuckets: 0,
          Events: 0,
          IsClusterCheck: true,
          LastExecFailed: true,
        },
      },
    },
    { name: 'node-2', configs: [{ instance_ids: ['db:1'], config: config('db') }] },
  ],
  dangling: [config('dns')],
};

const replicas: ReplicaView[] = [
  {
    name: 'dispatcher-1',
    url: 'https://a',
    state: { ...leaderState, not_running: 'currently follower', nodes: [], dangling: [] },
  },
  { name: 'dispatcher-2', url: 'https://b', state: leaderState },
  { name: 'dispatcher-3', url: 'https://c', error: 'connect ECONNREFUSED' },
];

describe('checks state and results', () => {
  it("shows the leader's state under the replica's name, with every replica's role", () => {
    const view = checksStateView(replicas);
    expect(view).toMatchObject({ leader: 'dispatcher-2', term: 4, warmup: false });
    expect(view.replicas.map((r) => r.role)).toEqual(['follower', 'leader', 'unreachable']);
    const table = renderChecksState(view, 'table', 10_000);
    expect(table).toMatch(
      /^Leader dispatcher-2 \(term 4\), dispatching\. Replicas: dispatcher-1 follower, dispatcher-2 leader, dispatcher-3 unreachable\./,
    );
    expect(table).toMatch(/node-1 +web +1 +critical +1s ago +20ms/);
    expect(table).toMatch(/node-2 +db +1 +pending +- +-/);
    expect(table).toMatch(/Dangling \(no node yet\): dns/);
  });

  it('says why when no replica leads', () => {
    const view = checksStateView([replicas[0]!, replicas[2]!]);
    expect(view.leader).toBeUndefined();
    expect(renderChecksState(view, 'table', 0)).toBe(
      'No replica leads (currently follower). Replicas: dispatcher-1 follower, dispatcher-3 unreachable.\n',
    );
  });

  it('lists each instance with its node and last run, filtered by name', () => {
    const rows = checkResults(checksStateView(replicas));
    expect(rows).toEqual([
      { node: 'node-2', check: 'db', id: 'db:1', status: 'pending', message: '' },
      {
        node: 'node-1',
        check: 'web',
        id: 'web:1',
        status: 'critical',
        message: 'exit 3',
        startedAt: 9_000,
        durationMs: 20,
      },
    ]);
    expect(checkResults(checksStateView(replicas), 'web').map((r) => r.check)).toEqual(['web']);
    expect(renderCheckResults(rows, 'table', 10_000)).toMatch(
      /web +1 +node-1 +critical +1s ago +20ms +exit 3/,
    );
  });
});
