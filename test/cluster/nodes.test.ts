import { describe, expect, it } from 'vitest';
import { parseUpArgs } from './cli.js';
import {
  KWOK_ANNOTATION,
  POOL_LABEL,
  ZONE_LABEL,
  nodeIsReady,
  nodeManifests,
  parsePoolSpec,
  resolvePools,
} from './nodes.js';

type Node = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints?: unknown[] };
  status: { allocatable: Record<string, string> };
};

describe('resolvePools', () => {
  it('puts the nodes the pools do not take into pool default', () => {
    expect(resolvePools(5, [{ name: 'gpu', count: 2 }])).toEqual([
      { name: 'gpu', count: 2 },
      { name: 'default', count: 3 },
    ]);
    expect(resolvePools(3)).toEqual([{ name: 'default', count: 3 }]);
    expect(resolvePools(2, [{ name: 'gpu', count: 2 }])).toEqual([{ name: 'gpu', count: 2 }]);
  });

  it('rejects pools that ask for more nodes than there are, bad names and duplicates', () => {
    expect(() => resolvePools(1, [{ name: 'gpu', count: 2 }])).toThrow(
      /ask for 2 nodes but nodes is 1/,
    );
    expect(() => resolvePools(2, [{ name: 'GPU', count: 1 }])).toThrow(/not a DNS label/);
    expect(() =>
      resolvePools(4, [
        { name: 'a', count: 1 },
        { name: 'a', count: 1 },
      ]),
    ).toThrow(/given twice/);
    expect(() => resolvePools(4, [{ name: 'default', count: 1 }])).toThrow(
      /pool "default" is given/,
    );
    expect(() => resolvePools(-1)).toThrow(/whole number/);
  });
});

describe('nodeManifests', () => {
  const nodes = nodeManifests(
    resolvePools(4, [
      {
        name: 'gpu',
        count: 1,
        labels: { accelerator: 'a100' },
        taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
      },
    ]),
  ) as Node[];

  it('names nodes by pool and marks every one for kwok', () => {
    expect(nodes.map((n) => n.metadata.name)).toEqual([
      'kwok-gpu-0',
      'kwok-default-0',
      'kwok-default-1',
      'kwok-default-2',
    ]);
    for (const n of nodes) {
      expect(n.metadata.annotations[KWOK_ANNOTATION.key]).toBe('fake');
      expect(n.metadata.labels.type).toBe('kwok');
      expect(n.metadata.labels['kubernetes.io/hostname']).toBe(n.metadata.name);
      expect(n.status.allocatable.pods).toBe('110');
    }
  });

  it('labels pools and spreads zones round-robin over the cluster', () => {
    expect(nodes.map((n) => n.metadata.labels[POOL_LABEL])).toEqual([
      'gpu',
      'default',
      'default',
      'default',
    ]);
    expect(nodes.map((n) => n.metadata.labels[ZONE_LABEL])).toEqual([
      'zone-a',
      'zone-b',
      'zone-c',
      'zone-a',
    ]);
    expect(nodes[0]!.metadata.labels.accelerator).toBe('a100');
    expect(nodes[1]!.metadata.labels.accelerator).toBeUndefined();
  });

  it('taints only the pool that asks for it', () => {
    expect(nodes[0]!.spec.taints).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(nodes[1]!.spec.taints).toBeUndefined();
  });
});

describe('parsePoolSpec', () => {
  it('reads count, labels and taints', () => {
    expect(
      parsePoolSpec('gpu=2,accelerator=a100,taint:gpu=true:NoSchedule,taint:spot:NoExecute'),
    ).toEqual({
      name: 'gpu',
      count: 2,
      labels: { accelerator: 'a100' },
      taints: [
        { key: 'gpu', value: 'true', effect: 'NoSchedule' },
        { key: 'spot', effect: 'NoExecute' },
      ],
    });
    expect(parsePoolSpec('big=10')).toEqual({ name: 'big', count: 10 });
  });

  it('says what is wrong', () => {
    expect(() => parsePoolSpec('gpu')).toThrow(/expected name=count/);
    expect(() => parsePoolSpec('gpu=x')).toThrow(/expected name=count/);
    expect(() => parsePoolSpec('gpu=1,taint:k=v:Sometimes')).toThrow(/taint "taint:k=v:Sometimes"/);
    expect(() => parsePoolSpec('gpu=1,novalue')).toThrow(/label "novalue" is not key=value/);
  });
});

describe('parseUpArgs', () => {
  it('defaults to the pools’ nodes, or 5', () => {
    expect(parseUpArgs([])).toMatchObject({ nodes: 5, pools: [], timeoutMs: 180_000 });
    expect(parseUpArgs(['--pool', 'a=2', '--pool', 'b=3'])).toMatchObject({ nodes: 5 });
    expect(parseUpArgs(['--nodes', '50', '--pool', 'a=2', '--timeout', '60'])).toMatchObject({
      nodes: 50,
      pools: [{ name: 'a', count: 2 }],
      timeoutMs: 60_000,
    });
  });

  it('rejects unknown flags and bad numbers', () => {
    expect(() => parseUpArgs(['--node', '3'])).toThrow(/Unknown option/);
    expect(() => parseUpArgs(['--nodes', 'many'])).toThrow(/whole number/);
    expect(() => parseUpArgs(['--timeout', '0'])).toThrow(/seconds > 0/);
  });
});

describe('nodeIsReady', () => {
  it('reads the Ready condition', () => {
    expect(nodeIsReady({ status: { conditions: [{ type: 'Ready', status: 'True' }] } })).toBe(true);
    expect(nodeIsReady({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } })).toBe(
      false,
    );
    expect(nodeIsReady({})).toBe(false);
  });
});
