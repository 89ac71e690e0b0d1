import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterFileOf, createCluster } from '../../backends/local/cluster-store.js';
import { defaultCluster } from '../../backends/local/cluster.js';
import { createLocalWorkloadRuntime, workloadNames } from '../../backends/local/workloads/index.js';
import { systemClock } from '../../core/clock.js';
import type { WorkloadRuntime } from '../../core/workload.js';
import { untilPhase } from '../../../test/support/workload-contract.js';
import { processIo } from '../context.js';
import { main } from '../main.js';
import { getCluster } from './cluster-get.js';

let home: string;
let runtime: WorkloadRuntime;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-cluster-get-'));
  const cluster = await createCluster(home, defaultCluster(2), systemClock);
  runtime = createLocalWorkloadRuntime({
    home,
    clock: systemClock,
    nodes: cluster.nodes.map((n) => n.name),
  });
});
afterAll(async () => {
  // A failed test leaves no process behind.
  for (const n of await workloadNames(home)) await runtime.remove(n, { graceMs: 1000 });
  await rm(home, { recursive: true, force: true });
});

describe('fathom cluster get|delete on the local backend, with workloads placed', () => {
  it('lists each running workload on its node, under its owner, and not once it ended', async () => {
    const [first, second] = (await getCluster({ backend: 'local' }, io())).nodes;
    expect(first!.workloads).toEqual([]);
    const forever = [process.execPath, '-e', 'setInterval(() => {}, 1000)'] as const;
    await runtime.place({
      name: 'agent-a',
      owner: 'check-agents',
      node: second!.name,
      containers: [{ name: 'main', command: forever }],
    });
    await runtime.place({
      name: 'done-b',
      owner: 'check-agents',
      node: second!.name,
      containers: [{ name: 'main', command: [process.execPath, '-e', ''] }],
    });
    await untilPhase(runtime, 'check-agents', 'agent-a', ['Running']);
    await untilPhase(runtime, 'check-agents', 'done-b', ['Succeeded']);

    const view = await getCluster({ backend: 'local' }, io());
    expect(view.nodes.map((n) => [n.name, n.workloads])).toEqual([
      [first!.name, []],
      [
        second!.name,
        [{ namespace: 'check-agents', name: 'agent-a', component: 'workload', phase: 'Running' }],
      ],
    ]);
    await runtime.remove('agent-a', { graceMs: 5000 });
    await runtime.remove('done-b');
    expect((await getCluster({ backend: 'local' }, io())).nodes[1]!.workloads).toEqual([]);
  });

  it('delete refuses while workloads run, and --force stops them first', async () => {
    const forever = [
      process.execPath,
      '-e',
      'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)',
    ] as const;
    await runtime.place({
      name: 'agent-c',
      owner: 'check-agents',
      node: 'node-1',
      containers: [{ name: 'main', command: forever }],
    });
    const refused: string[] = [];
    expect(await main(['node', 'fathom', 'cluster', 'delete'], io(refused))).not.toBe(0);
    expect(refused.join('')).toMatch(/^error: workloads run on the cluster \(agent-c\)/);
    expect((await runtime.get('agent-c'))?.phase).toBe('Running');

    const said: string[] = [];
    expect(await main(['node', 'fathom', 'cluster', 'delete', '--force'], io(said))).toBe(0);
    expect(said.join('')).toContain('Removed the workload "agent-c".');
    expect(await runtime.get('agent-c')).toBeUndefined();
    await expect(access(clusterFileOf(home))).rejects.toThrow();
  });
});

function io(err: string[] = []): typeof processIo {
  return { ...processIo, isTTY: false, env: { FATHOM_HOME: home }, err: (t) => void err.push(t) };
}
