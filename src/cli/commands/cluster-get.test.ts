import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster } from '../../backends/local/cluster-store.js';
import { defaultCluster } from '../../backends/local/cluster.js';
import { createLocalWorkloadRuntime } from '../../backends/local/workloads/runtime.js';
import { systemClock } from '../../core/clock.js';
import type { WorkloadRuntime } from '../../core/workload.js';
import { untilPhase } from '../../../test/support/workload-contract.js';
import { processIo } from '../context.js';
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
  await rm(home, { recursive: true, force: true });
});

describe('fathom cluster get on the local backend', () => {
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
});

function io(): typeof processIo {
  return { ...processIo, env: { FATHOM_HOME: home } };
}
