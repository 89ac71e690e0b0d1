import { describe, expect, it } from 'vitest';
import { clusterView, nodeOfObject } from './cluster-view.js';

const pod = (ns: string, name: string, node: string | undefined, phase: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    namespace: ns,
    name,
    labels: { component: 'fathom', 'fathom-component': 'plugin', 'fathom-plugin': 'inv' },
  },
  spec: node ? { nodeName: node } : {},
  status: { phase },
});

describe('the cluster view', () => {
  it('reads a Node object: name, labels, taints', () => {
    expect(
      nodeOfObject({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'kwok-1', labels: { pool: 'special' } },
        spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }, { key: 'bad' }] },
      }),
    ).toEqual({
      name: 'kwok-1',
      labels: { pool: 'special' },
      taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
    });
  });

  it('puts each unfinished fathom pod on its node, in name order', () => {
    const view = clusterView(
      'local',
      [
        { name: 'a', labels: {} },
        { name: 'b', labels: {}, taints: [{ key: 'k', effect: 'NoExecute' }] },
      ],
      [
        pod('x', 'p2', 'a', 'Running'),
        pod('x', 'p1', 'a', 'Pending'),
        pod('x', 'done', 'a', 'Succeeded'),
        pod('x', 'failed', 'b', 'Failed'),
        pod('x', 'unplaced', undefined, 'Pending'),
        pod('x', 'elsewhere', 'c', 'Running'),
      ],
    );
    expect(view.nodes.map((n) => [n.name, n.workloads.map((w) => `${w.name}:${w.phase}`)])).toEqual(
      [
        ['a', ['p1:Pending', 'p2:Running']],
        ['b', []],
      ],
    );
    expect(view.nodes[0]!.workloads[0]).toEqual({
      namespace: 'x',
      name: 'p1',
      component: 'plugin',
      plugin: 'inv',
      phase: 'Pending',
    });
    expect(view.nodes[1]!.taints).toEqual([{ key: 'k', effect: 'NoExecute' }]);
  });
});
