import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readSnapshotConfig, snapshotConfigFor } from '../../snapshot/config.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { ClusterNode } from '../../core/nodes.js';
import { writeClusterHealth } from '../../snapshot/health-file.js';
import { NODE_HOST_OWNER } from './nodehost/protocol.js';
import { PidRegistry } from './process/pidfile.js';
import { nodeReadiness, serverVersion, writeLocalSnapshot } from './snapshot.js';
import { files, LOCAL_KUBERNETES_VERSION, type LocalRunRecord } from './store.js';
import { recordPlugin } from './test-helpers.js';

const HOST_PID = 777;
let dir: string;
let root: string;
let live: Set<number>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-local-snapshot-'));
  root = join(dir, 'results');
  live = new Set([HOST_PID, process.pid]);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const nodes: ClusterNode[] = [
  { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1', pool: 'gpu' } },
  {
    name: 'node-2',
    labels: {},
    taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }],
  },
];

const plugin = (name: string, driver: 'Job' | 'DaemonSet') =>
  recordPlugin(name, driver, {
    container: {
      name: 'plugin',
      image: 'busybox',
      command: ['sh', '-c'],
      args: ['echo hi'],
      env: [{ name: 'A', value: '1' }],
    },
  });

const record: LocalRunRecord = {
  uuid: 'u-1',
  namespace: 'fathom',
  createdAt: '2026-01-01T00:00:00.000Z',
  timeoutMs: 0,
  maxResultBytes: 0,
  terminatedGraceMs: 0,
  nodes,
  plugins: [plugin('ds', 'DaemonSet'), plugin('job', 'Job')],
};

/** A run directory as the runtime leaves it at pack time. */
async function writeRunDir(hostRunning: boolean): Promise<void> {
  await mkdir(root, { recursive: true });
  await writeFile(join(dir, files.record), JSON.stringify(record));
  await writeFile(
    join(dir, files.status),
    JSON.stringify({
      plugins: [],
      status: 'post-processing',
      'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
    }),
  );
  await writeFile(join(dir, files.daemonPid), String(process.pid));
  await writeFile(join(dir, files.log), '{"level":50,"msg":"an error"}\n');
  const pids = new PidRegistry(join(dir, files.pids));
  if (hostRunning) await pids.record(HOST_PID, NODE_HOST_OWNER);
  const pod = async (p: string, key: string, exitCode: number, log: string): Promise<void> => {
    const podDir = join(dir, files.pods, p, key);
    await mkdir(podDir, { recursive: true });
    await writeFile(
      join(podDir, 'status.json'),
      JSON.stringify({
        containers: [
          { name: 'plugin', state: 'terminated', exitCode, reason: 'Completed', message: '' },
          { name: 'sonobuoy-worker', state: 'terminated', exitCode: 0, reason: 'Completed' },
        ],
      }),
    );
    await writeFile(join(podDir, 'plugin.log'), log);
    await writeFile(join(podDir, 'sonobuoy-worker.log'), 'uploaded\n');
  };
  await pod('ds', 'node-1', 0, 'warning: slow\n');
  await pod('job', 'global', 1, `failed here\n${'x'.repeat(100)}`);
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const json = async (rel: string): Promise<Obj> =>
  JSON.parse(await readFile(join(root, rel), 'utf8')) as Obj;

describe('the local cluster snapshot', () => {
  it('writes nodes, pods, logs, hosts, the server version and query times', async () => {
    await writeRunDir(true);
    const clock = new ManualClock(Date.parse('2026-01-01T00:01:00Z'));
    const rows = await writeLocalSnapshot(root, {
      runDir: dir,
      record,
      clock,
      isAlive: (pid) => live.has(pid ?? -1),
      config: readSnapshotConfig(
        { Limits: { PodLogs: { LimitBytes: 64 } } },
        { where: 'test', code: 'FATHOM_USAGE' },
      ),
    });
    expect(rows.map((r) => [r.queryobj, r.namespace, r.error])).toEqual([
      ['serverversion', undefined, undefined],
      ['nodes', undefined, undefined],
      ['pods', 'fathom', undefined],
      ['Nodes', undefined, 'node node-2: its kubelet does not answer (not ready)'],
      ['PodLogs', 'fathom', undefined],
    ]);
    expect(await json('meta/query-time.json')).toEqual(JSON.parse(JSON.stringify(rows)));

    expect((await json('serverversion.json')).gitVersion).toBe(LOCAL_KUBERNETES_VERSION);
    const nodeList = await json('resources/cluster/core_v1_nodes.json');
    expect(nodeList.kind).toBe('NodeList');
    const [n1, n2] = nodeList.items;
    expect(n1).toMatchObject({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', labels: { pool: 'gpu' } },
      spec: {},
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
        nodeInfo: { kubeletVersion: LOCAL_KUBERNETES_VERSION },
      },
    });
    expect(n2.spec.taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    expect(n2.status.conditions[0]).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    expect(await json('hosts/node-1/healthz.json')).toEqual({ status: 200 });
    await expect(readFile(join(root, 'hosts/node-2/healthz.json'))).rejects.toThrow(/ENOENT/);

    const pods = (await json('resources/ns/fathom/core_v1_pods.json')).items as Obj[];
    expect(
      pods.map((p: Obj): unknown[] => [p.metadata.name, p.spec.nodeName, p.status.phase]),
    ).toEqual([
      ['fathom-aggregator', undefined, 'Running'],
      ['fathom-ds-node-1', 'node-1', 'Succeeded'],
      ['fathom-job-job', 'node-1', 'Failed'],
    ]);
    expect(pods[1]!.spec.containers[0]).toEqual({
      name: 'plugin',
      image: 'busybox',
      command: ['sh', '-c'],
      args: ['echo hi'],
      env: [{ name: 'A', value: '1' }],
    });
    expect(pods[2]!.status.containerStatuses[0].state).toEqual({
      terminated: { exitCode: 1, reason: 'Completed' },
    });

    const log = (p: string, c: string): Promise<string> =>
      readFile(join(root, 'podlogs/fathom', p, 'logs', `${c}.txt`), 'utf8');
    expect(await log('fathom-ds-node-1', 'plugin')).toBe('warning: slow\n');
    expect(await log('fathom-ds-node-1', 'sonobuoy-worker')).toBe('uploaded\n');
    expect(await log('fathom-aggregator', 'aggregator')).toContain('an error');
    expect((await log('fathom-job-job', 'plugin')).length).toBe(64); // cut at the bound

    // Sonobuoy's summary of it.
    await writeClusterHealth(root);
    const health = await json('meta/clusterhealth.json');
    expect(health.api_version).toBe(LOCAL_KUBERNETES_VERSION);
    expect(health.node_health).toMatchObject({ total_nodes: 2, healthy_nodes: 1 });
    expect(health.pod_health).toMatchObject({ total_nodes: 3, healthy_nodes: 2 });
    expect(health.error_summary).toEqual({
      Errors: {
        'podlogs/fathom/fathom-aggregator/logs/aggregator.txt': 1,
        'podlogs/fathom/fathom-job-job/logs/plugin.txt': 1,
      },
      Warnings: { 'podlogs/fathom/fathom-ds-node-1/logs/plugin.txt': 1 },
    });
  });

  it('has every node not ready when the node host is gone', async () => {
    await writeRunDir(false);
    await writeLocalSnapshot(root, {
      runDir: dir,
      record,
      clock: new ManualClock(0),
      isAlive: (pid) => live.has(pid ?? -1),
    });
    const items = (await json('resources/cluster/core_v1_nodes.json')).items as Obj[];
    expect(items.map((n: Obj): unknown => n.status.conditions[0].reason)).toEqual([
      'NodeHostNotRunning',
      'NodeHostNotRunning',
    ]);
  });

  it('records a piece that fails and writes the rest', async () => {
    await writeRunDir(true);
    await writeFile(join(dir, files.status), '{'); // the pods cannot be read
    const rows = await writeLocalSnapshot(root, {
      runDir: dir,
      record,
      clock: new ManualClock(0),
      isAlive: (pid) => live.has(pid ?? -1),
    });
    expect(rows.find((r) => r.queryobj === 'pods')?.error).toBeTruthy();
    expect((await json('resources/cluster/core_v1_nodes.json')).items).toHaveLength(2);
    // The aggregator's log still goes in; the plugins' pods are unknown, so are their logs.
    expect(await json('podlogs/fathom/fathom-aggregator/logs/aggregator.txt')).toEqual({
      level: 50,
      msg: 'an error',
    });
    await expect(readFile(join(root, 'podlogs/fathom/fathom-ds-node-1'))).rejects.toThrow(/ENOENT/);
  });

  it('collects only what Resources names, and no logs when pod-log limits exclude the run', async () => {
    await writeRunDir(true);
    const rows = await writeLocalSnapshot(root, {
      runDir: dir,
      record,
      clock: new ManualClock(0),
      isAlive: (pid) => live.has(pid ?? -1),
      config: snapshotConfigFor(undefined, ['nodes', 'podlogs']),
    });
    expect(rows.map((r) => r.queryobj)).toEqual(['nodes', 'Nodes', 'PodLogs']);
    expect((await json('resources/cluster/core_v1_nodes.json')).items).toHaveLength(2);
    await expect(readFile(join(root, 'serverversion.json'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(root, 'resources/ns/fathom/core_v1_pods.json'))).rejects.toThrow(
      /ENOENT/,
    );
    expect(await json('podlogs/fathom/fathom-aggregator/logs/aggregator.txt')).toBeTruthy();

    const other = join(dir, 'other-root');
    const none = await writeLocalSnapshot(other, {
      runDir: dir,
      record,
      clock: new ManualClock(0),
      isAlive: (pid) => live.has(pid ?? -1),
      config: readSnapshotConfig(
        { Resources: ['podlogs'], Limits: { PodLogs: { SonobuoyNamespace: false } } },
        { where: 'test', code: 'FATHOM_USAGE' },
      ),
    });
    expect(none).toEqual([]);
    await expect(
      readFile(join(other, 'podlogs/fathom/fathom-aggregator/logs/aggregator.txt')),
    ).rejects.toThrow(/ENOENT/);
  });

  it.each([
    [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const }, 'Unknown'],
    [{ key: 'gpu', effect: 'NoSchedule' as const }, 'True'],
  ])('a node with taint %j is Ready=%s', (taint, status) => {
    expect(nodeReadiness({ name: 'n', labels: {}, taints: [taint] }, true).status).toBe(status);
  });

  it('gives the server version its major and minor', () => {
    expect(serverVersion('v1.36.3')).toMatchObject({ major: '1', minor: '36' });
  });
});
