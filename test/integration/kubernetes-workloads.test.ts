/**
 * The workload port on the Kubernetes backend, against the real API server: the workload
 * contract with Pods bound to the test pod runner's nodes, whose containers really run here as
 * local processes (the image is never pulled), with their logs through the pods/log API.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import {
  CONFIRM_DELETE_MS,
  createKubeWorkloadRuntime,
} from '../../src/backends/kubernetes/workloads.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import type { WorkloadRuntime } from '../../src/core/workload.js';
import { kubeHttpFromKubeconfig } from '../cluster/kube.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { workloadContract } from '../support/workload-contract.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

describe.skipIf(!cluster)(
  `workloads on the Kubernetes backend${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `workloads-${randomBytes(3).toString('hex')}`;
    let client: KubeClient;
    let runner: TestPodRunner;
    let runtime: WorkloadRuntime;

    beforeAll(async () => {
      client = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      await client.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating ${ns}`);
      // Pods are refused until the namespace's default ServiceAccount exists.
      const http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      try {
        await http.waitForList(`/api/v1/namespaces/${ns}/serviceaccounts`, (sas) =>
          sas.has(`${ns}/default`) ? true : undefined,
        );
      } finally {
        http.close();
      }
      runner = await startTestPodRunner(cluster!.kubeconfig, { count: 2 });
      runtime = createKubeWorkloadRuntime({ client, namespace: ns, clock: systemClock });
    });
    afterAll(async () => {
      await runner?.stop();
      await client?.remove(`/api/v1/namespaces/${ns}`, `deleting Namespace ${ns}`);
      client?.close();
    });

    workloadContract(() => ({
      runtime,
      nodes: [runner.nodes[0]!, runner.nodes[1]!],
      image: 'fathom.test/none:1',
    }));

    it('forces the deletion when no kubelet confirms it within the grace period and a margin', async () => {
      // A Node with no kubelet behind it: its Pods never start, their deletion is never confirmed.
      const node = `silent-${randomBytes(3).toString('hex')}`;
      await client.create(resourcePath('', 'nodes'), { metadata: { name: node } }, 'creating');
      try {
        const clock = new ManualClock(Date.now());
        const silent = createKubeWorkloadRuntime({ client, namespace: ns, clock });
        const placed = await silent.place({
          name: node,
          owner: 'silent',
          node,
          containers: [{ name: 'main', image: 'fathom.test/none:1', command: ['true'] }],
        });
        expect(placed).toMatchObject({ phase: 'Pending', node, addresses: {} });
        expect(placed.containers).toEqual([
          { name: 'main', restarts: 0, state: 'waiting', reason: 'ContainerCreating', message: '' },
        ]);
        const said: Buffer[] = [];
        for await (const chunk of silent.logs(node, 'main')) said.push(chunk);
        expect(said).toEqual([]); // not started: no output, and no error
        let settled = false;
        const removing = silent.remove(node, { graceMs: 1000 }).finally(() => (settled = true));
        await clock.whenSleeping(1);
        expect(clock.pendingDelays()).toEqual([1000 + CONFIRM_DELETE_MS]);
        const pod = await client.get<{
          metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
        }>(resourcePath('', 'pods', ns, node), 'reading');
        // Still terminating, with the grace period asked for.
        expect(pod.metadata).toMatchObject({
          deletionTimestamp: expect.any(String),
          deletionGracePeriodSeconds: 1,
        });
        expect(settled).toBe(false);
        await clock.advance(1000 + CONFIRM_DELETE_MS);
        expect(await removing).toBe(true);
        expect(await silent.get(node)).toBeUndefined();
      } finally {
        await client.remove(resourcePath('', 'nodes', undefined, node), 'deleting');
      }
    });
  },
);
