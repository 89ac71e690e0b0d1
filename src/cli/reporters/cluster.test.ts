import { describe, expect, it } from 'vitest';
import type { ClusterView } from '../../backends/cluster-view.js';
import { renderCluster } from './cluster.js';

const workload = (name: string) => ({
  namespace: 'ns',
  name,
  component: 'plugin',
  phase: 'Running',
});

const view: ClusterView = {
  backend: 'local',
  nodes: [
    {
      name: 'gpu-1',
      labels: { pool: 'gpu', zone: 'a' },
      taints: [
        { key: 'gpu', value: 'true', effect: 'NoSchedule' },
        { key: 'x', effect: 'NoExecute' },
      ],
      workloads: ['p1', 'p2', 'p3', 'p4', 'p5'].map(workload),
    },
    { name: 'cpu-1', labels: {}, taints: [], workloads: [] },
  ],
};

describe('fathom cluster get', () => {
  it('prints a kubectl-style table: pool, taints, the first workloads and a count of the rest', () => {
    const lines = renderCluster(view, 'table')
      .trimEnd()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(lines).toEqual([
      ['NAME', 'POOL', 'TAINTS', 'WORKLOADS'],
      ['gpu-1', 'gpu', 'gpu=true:NoSchedule,x:NoExecute', 'ns/p1,ns/p2,ns/p3,+2', 'more'],
      ['cpu-1', '<none>', '<none>', '<none>'],
    ]);
  });

  it('adds every label with --show-labels, and prints the view as it is with -o json', () => {
    expect(renderCluster(view, 'table', { showLabels: true })).toMatch(
      /LABELS[\s\S]*pool=gpu,zone=a/,
    );
    expect(JSON.parse(renderCluster(view, 'json'))).toEqual(view);
  });
});
