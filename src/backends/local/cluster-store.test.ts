import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { defaultCluster } from './cluster.js';
import {
  clusterFileOf,
  clusterForRun,
  createCluster,
  firstDifference,
  readCluster,
  removeCluster,
} from './cluster-store.js';

const clock = new ManualClock(Date.UTC(2026, 11, 1));
const home = (): Promise<string> => mkdtemp(join(tmpdir(), 'fathom-cluster-store-'));

/** The error a promise rejects with, as `code: message`. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof FathomError ? `${err.code}: ${err.message}` : String(err);
  }
  return 'no error';
}

const gpuNodes = {
  nodes: [
    {
      name: 'gpu-1',
      labels: { pool: 'gpu' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' as const }],
    },
    { name: 'cpu-1', labels: { pool: 'cpu' } },
  ],
};

describe('the cluster file', () => {
  it('is written once, whole, and read back frozen', async () => {
    const h = await home();
    expect(await readCluster(h)).toBeUndefined();
    const made = await createCluster(h, gpuNodes, clock);
    expect(made.createdAt).toBe('2026-12-01T00:00:00.000Z');
    const read = await readCluster(h);
    expect(read).toEqual(made);
    expect(Object.isFrozen(read!.nodes[0]!.labels)).toBe(true);
    expect(JSON.parse(await readFile(clusterFileOf(h), 'utf8'))).toMatchObject({
      apiVersion: 'fathom.dev/v1alpha1',
      kind: 'Cluster',
    });
    // No temporary file is left beside it, and a second create is refused.
    expect(await failure(createCluster(h, defaultCluster(2), clock))).toMatch(
      /^FATHOM_CLUSTER_EXISTS: a cluster already exists \(.*cluster\.json, 2 nodes\)/,
    );
    expect(await readdir(h)).toEqual(['cluster.json']);
    expect((await readCluster(h))!.nodes.map((n) => n.name)).toEqual(['gpu-1', 'cpu-1']);
  });

  it('lets one of two concurrent creators win', async () => {
    const h = await home();
    const outcomes = await Promise.allSettled([
      createCluster(h, defaultCluster(2), clock),
      createCluster(h, defaultCluster(5), clock),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect([2, 5]).toContain((await readCluster(h))!.nodes.length);
  });

  it.each([
    ['not JSON', '{"nodes": [', /cluster\.json: is not JSON/],
    [
      'a wrong kind',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Run","createdAt":"x","nodes":[]}',
      /cluster\.json: kind: must be "Cluster"$/,
    ],
    [
      'no nodes',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[]}',
      /cluster\.json: nodes: must have at least 1 items$/,
    ],
    [
      'a label that is not a string',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[{"name":"a","labels":{"pool":3}}]}',
      /cluster\.json: nodes\[0\]\.labels\.pool: must be string$/,
    ],
    [
      'a missing field',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[{"name":"a"}]}',
      /cluster\.json: nodes\[0\]\.labels: is missing$/,
    ],
    [
      'an unknown field',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[{"name":"a","labels":{},"cpu":4}]}',
      /cluster\.json: nodes\[0\]\.cpu: is not a field fathom writes$/,
    ],
    [
      'a bad taint effect',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[{"name":"a","labels":{},"taints":[{"key":"k","effect":"Never"}]}]}',
      /cluster\.json: nodes\[0\]\.taints\[0\]\.effect: must be one of "NoSchedule", "PreferNoSchedule", "NoExecute"$/,
    ],
    [
      'a repeated name',
      '{"apiVersion":"fathom.dev/v1alpha1","kind":"Cluster","createdAt":"x","nodes":[{"name":"a","labels":{}},{"name":"a","labels":{}}]}',
      /cluster\.json: nodes\[1\]\.name: repeats "a"$/,
    ],
  ])('refuses a corrupt file (%s) naming the file and field', async (_name, text, message) => {
    const h = await home();
    await writeFile(clusterFileOf(h), text);
    const err = await readCluster(h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FathomError);
    expect((err as FathomError).code).toBe('FATHOM_CLUSTER_INVALID');
    expect((err as FathomError).kind).toBe('input');
    expect((err as FathomError).message).toMatch(message);
    expect((err as FathomError).message).not.toContain('\n');
    expect((err as FathomError).details.file).toBe(clusterFileOf(h));
  });

  it('is removed even when corrupt, and removing none is not an error', async () => {
    const h = await home();
    await writeFile(clusterFileOf(h), 'garbage');
    expect(await removeCluster(h)).toBe(true);
    expect(await removeCluster(h)).toBe(false);
    expect(await readdir(h)).toEqual([]);
  });
});

describe('the cluster a run is placed on', () => {
  it('is made with 3 nodes on first use and reused after', async () => {
    const h = await home();
    const first = await clusterForRun(h, {}, clock);
    expect(first.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(await clusterForRun(h, {}, clock)).toEqual(first);
    expect(await clusterForRun(h, { nodes: 3 }, clock)).toEqual(first);
  });

  it('is made from --nodes or --cluster-config when there is none', async () => {
    const h = await home();
    expect((await clusterForRun(h, { nodes: 5 }, clock)).nodes).toHaveLength(5);
    const h2 = await home();
    const made = await clusterForRun(h2, { config: { file: 'c.yaml', cluster: gpuNodes } }, clock);
    expect(made.nodes).toEqual(gpuNodes.nodes);
  });

  it('refuses flags that contradict the cluster, and changes nothing', async () => {
    const h = await home();
    await createCluster(h, gpuNodes, clock);
    const before = await readFile(clusterFileOf(h), 'utf8');
    expect(await failure(clusterForRun(h, { nodes: 3 }, clock))).toMatch(
      /^FATHOM_BAD_FLAG_VALUE: --nodes 3: the cluster has 2 nodes \(.*cluster\.json\); leave the flag out/,
    );
    const other = { nodes: [gpuNodes.nodes[0]!, { name: 'cpu-1', labels: { pool: 'big' } }] };
    expect(
      await failure(clusterForRun(h, { config: { file: 'c.yaml', cluster: other } }, clock)),
    ).toMatch(/^FATHOM_BAD_FLAG_VALUE: --cluster-config c\.yaml: node "cpu-1" has other labels/);
    expect(
      await failure(
        clusterForRun(h, { nodes: 2, config: { file: 'c', cluster: gpuNodes } }, clock),
      ),
    ).toMatch(/give one or the other/);
    expect(
      (await clusterForRun(h, { config: { file: 'c.yaml', cluster: gpuNodes } }, clock)).nodes,
    ).toEqual(gpuNodes.nodes);
    expect(await readFile(clusterFileOf(h), 'utf8')).toBe(before);
  });

  it.each([
    [
      'the same nodes, labels in another order',
      [{ name: 'a', labels: { y: '1', x: '2' } }],
      undefined,
    ],
    ['a node missing', [{ name: 'b', labels: {} }], 'node "b" is not'],
    [
      'other taints',
      [
        {
          name: 'a',
          labels: { x: '2', y: '1' },
          taints: [{ key: 'k', effect: 'NoSchedule' as const }],
        },
      ],
      'node "a" has other taints',
    ],
    ['fewer nodes', [], 'the file lists 0 nodes where there are 1'],
  ])('compares node lists: %s', (_name, want, expected) => {
    expect(firstDifference([{ name: 'a', labels: { x: '2', y: '1' } }], want)).toBe(expected);
  });
});
