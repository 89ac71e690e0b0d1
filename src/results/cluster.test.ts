import { describe, expect, it } from 'vitest';
import { clusterSummaryOf } from './cluster.js';

const node = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, labels: { 'node-role.kubernetes.io/control-plane': '' } },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    nodeInfo: { kubeletVersion: 'v1.36.3' },
  },
  ...extra,
});

describe('the cluster summary of a snapshot', () => {
  it('is undefined without a snapshot', () => {
    expect(clusterSummaryOf({})).toBeUndefined();
  });

  it('reads readiness, versions, roles and taints', () => {
    const v = clusterSummaryOf({
      serverVersion: '{"gitVersion":"v1.36.3"}',
      nodes: JSON.stringify({
        kind: 'NodeList',
        items: [
          node('a'),
          {
            metadata: { name: 'b', labels: { 'kubernetes.io/role': 'gpu' } },
            spec: {
              taints: [
                { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
                { key: 'gpu', value: 'true', effect: 'NoExecute' },
              ],
            },
            status: {
              conditions: [
                { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'cni' },
              ],
              nodeInfo: { kubeletVersion: 'v1.35.0' },
            },
          },
          { metadata: { name: 'c' }, status: { conditions: 'bad', nodeInfo: 7 } },
        ],
      }),
    });
    expect(v).toEqual({
      serverVersion: 'v1.36.3',
      ready: 1,
      nodes: [
        {
          name: 'a',
          ready: 'True',
          reason: 'KubeletReady',
          message: '',
          kubeletVersion: 'v1.36.3',
          roles: ['control-plane'],
          taints: [],
        },
        {
          name: 'b',
          ready: 'False',
          reason: 'KubeletNotReady',
          message: 'cni',
          kubeletVersion: 'v1.35.0',
          roles: ['gpu'],
          taints: ['node.kubernetes.io/not-ready:NoSchedule', 'gpu=true:NoExecute'],
        },
        {
          name: 'c',
          ready: '',
          reason: '',
          message: '',
          kubeletVersion: '',
          roles: [],
          taints: [],
        },
      ],
      notReady: [expect.objectContaining({ name: 'b' }), expect.objectContaining({ name: 'c' })],
      kubeletVersions: [
        { version: '', nodes: 1 },
        { version: 'v1.35.0', nodes: 1 },
        { version: 'v1.36.3', nodes: 1 },
      ],
    });
  });

  it("reads older Sonobuoy's bare array of nodes, and a snapshot with only a version", () => {
    expect(clusterSummaryOf({ nodes: JSON.stringify([node('a'), node('b')]) })).toMatchObject({
      ready: 2,
      kubeletVersions: [{ version: 'v1.36.3', nodes: 2 }],
    });
    expect(clusterSummaryOf({ serverVersion: '{}' })).toMatchObject({
      serverVersion: '',
      nodes: [],
    });
  });

  it('names the file that is not JSON', () => {
    expect(() => clusterSummaryOf({ nodes: '{' })).toThrow(
      /^resources\/cluster\/core_v1_nodes.json: /,
    );
  });
});
