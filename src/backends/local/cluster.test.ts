import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterLimits, defaultCluster, loadClusterFile } from './cluster.js';

async function clusterFile(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'fathom-cluster-')), 'cluster.yaml');
  await writeFile(file, text);
  return file;
}

describe('local cluster', () => {
  it('names N nodes and gives them the labels a kubelet sets', () => {
    const { nodes } = defaultCluster(2);
    expect(nodes.map((n) => n.name)).toEqual(['node-1', 'node-2']);
    expect(nodes[1]!.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-2',
      'kubernetes.io/os': 'linux',
    });
    expect(() => defaultCluster(0)).toThrow(/--nodes must be a whole number from 1 to 1000/);
  });

  it('reads names and labels from a file, keeping the default labels', async () => {
    const file = await clusterFile(
      'nodes:\n  - name: gpu-1\n    labels: {pool: gpu}\n  - name: cpu-1\n',
    );
    const { nodes } = await loadClusterFile(file);
    expect(nodes).toEqual([
      {
        name: 'gpu-1',
        labels: expect.objectContaining({
          pool: 'gpu',
          'kubernetes.io/hostname': 'gpu-1',
        }) as unknown,
      },
      {
        name: 'cpu-1',
        labels: expect.objectContaining({ 'kubernetes.io/os': 'linux' }) as unknown,
      },
    ]);
  });

  it.each([
    ['nodes: [\n  {name: a\n', /cluster\.yaml:\d+:\d+: /],
    ['nodes: []\n', /nodes must be a non-empty list/],
    ['nodes:\n  - name: Bad_Name\n', /nodes\[0\]\.name must be a lower-case DNS name/],
    ['nodes:\n  - name: a\n  - name: a\n', /nodes\[1\]\.name repeats "a"/],
    ['nodes:\n  - name: a\n    labels: {zone: 1}\n', /nodes\[0\]\.labels\.zone must be a string/],
  ])('rejects %j with a message naming the file and field', async (text, message) => {
    const file = await clusterFile(text);
    await expect(loadClusterFile(file)).rejects.toThrow(message);
    await expect(loadClusterFile(file)).rejects.toThrow(file);
  });

  it('bounds a cluster file before parsing it: bytes and YAML nodes', async () => {
    const head = 'nodes:\n  - name: n1\n#';
    const sized = (n: number) => `${head}${'x'.repeat(n - head.length - 1)}\n`;
    expect(
      (await loadClusterFile(await clusterFile(sized(clusterLimits.fileBytes)))).nodes,
    ).toHaveLength(1);
    const big = await clusterFile(sized(clusterLimits.fileBytes + 1));
    await expect(loadClusterFile(big)).rejects.toThrow(
      `${big}: is over 1 MiB, the limit for a cluster file`,
    );
    // One label map of 17,000 keys: three nodes each by this count.
    const labels = Array.from({ length: 17_000 }, (_, i) => `      k${i}: v\n`).join('');
    const many = await clusterFile(`nodes:\n  - name: n1\n    labels:\n${labels}`);
    await expect(loadClusterFile(many)).rejects.toThrow(
      /holds more than one document or 50000 YAML nodes/,
    );
  });

  it('bounds what aliases expand to and the number of nodes', async () => {
    const chunk = 'v'.repeat(100 * 1024);
    const copies = Array.from({ length: 12 }, (_, i) => `      k${i}: *big\n`).join('');
    const aliased = await clusterFile(
      `x: &big ${chunk}\nnodes:\n  - name: n1\n    labels:\n${copies}`,
    );
    await expect(loadClusterFile(aliased)).rejects.toThrow(/expands .* to over 1 MiB/);
    const nodes = (n: number) =>
      `nodes:\n${Array.from({ length: n }, (_, i) => `  - name: n${i}\n`).join('')}`;
    expect((await loadClusterFile(await clusterFile(nodes(1000)))).nodes).toHaveLength(1000);
    await expect(loadClusterFile(await clusterFile(nodes(1001)))).rejects.toThrow(
      'nodes holds 1001 nodes, over the limit of 1000',
    );
  });

  it('reads taints as a Node spec writes them, naming a bad one', async () => {
    const file = await clusterFile(
      'nodes:\n  - name: gpu-1\n    taints: [{key: gpu, value: "true", effect: NoSchedule}, {key: dedicated, effect: NoExecute}]\n  - name: cpu-1\n',
    );
    const { nodes } = await loadClusterFile(file);
    expect(nodes[0]!.taints).toEqual([
      { key: 'gpu', value: 'true', effect: 'NoSchedule' },
      { key: 'dedicated', effect: 'NoExecute' },
    ]);
    expect(nodes[1]!.taints).toBeUndefined();
    for (const [taints, message] of [
      ['{key: gpu, effect: Sometimes}', 'nodes[0].taints[0].effect must be one of NoSchedule'],
      ['{key: "a b", effect: NoSchedule}', 'nodes[0].taints[0].key must be a label key'],
      ['{key: gpu, value: 1, effect: NoSchedule}', 'nodes[0].taints[0].value must be a string'],
      ['gpu', 'nodes[0].taints must be a list'],
    ]) {
      const bad = await clusterFile(
        `nodes:\n  - name: n1\n    taints: ${taints === 'gpu' ? 'gpu' : `[${taints}]`}\n`,
      );
      await expect(loadClusterFile(bad)).rejects.toThrow(`${bad}: ${message}`);
    }
  });
});
