/**
 * The workload port on the Kubernetes backend, against the real API server: the workload
 * contract with Pods bound to the test pod runner's nodes, whose containers really run here as
 * local processes (the image is never pulled), with their logs through the pods/log API.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { createKubeWorkloadRuntime } from '../../src/backends/kubernetes/workloads.js';
import { systemClock } from '../../src/core/clock.js';
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
  },
);
