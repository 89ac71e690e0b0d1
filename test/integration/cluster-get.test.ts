/**
 * `fathom cluster get --backend kubernetes` through the real CLI against the test control plane:
 * the real nodes (the tainted, labelled special pool included) in the same JSON shape as the
 * local cluster, with the fathom pods (by label) on their nodes; and `create`/`delete` refused,
 * since fathom never builds a Kubernetes cluster.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';
import { fathom, tempDir } from '../support/cli.js';
import { SPECIAL_POOL } from './context.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

interface View {
  backend: string;
  nodes: {
    name: string;
    labels: Record<string, string>;
    taints: { key: string; value?: string; effect: string }[];
    workloads: { namespace: string; name: string; component: string; plugin?: string }[];
  }[];
}

describe.skipIf(!cluster)(
  `fathom cluster get --backend kubernetes${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `cluster-get-${randomBytes(3).toString('hex')}`;
    let http: KubeHttp;
    let home: string;
    const kube = (): string[] => ['--backend', 'kubernetes', '--kubeconfig', cluster!.kubeconfig];

    beforeAll(async () => {
      http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      home = await tempDir('cluster-get-home');
      await http.create('/api/v1/namespaces', { metadata: { name: ns } });
      // A fathom plugin pod bound to the first node, and a pod that is not fathom's beside it.
      const pod = (name: string, labels: Record<string, string>) =>
        http.create(`/api/v1/namespaces/${ns}/pods`, {
          metadata: { name, labels },
          spec: {
            nodeName: cluster!.nodeNames[0],
            containers: [{ name: 'c', image: 'registry.example/never-pulled:1' }],
          },
        });
      await pod('fathom-probe-node', {
        component: 'fathom',
        'fathom-component': 'plugin',
        'fathom-plugin': 'probe',
      });
      await pod('someone-else', { app: 'other' });
    });
    afterAll(async () => {
      await http.request('DELETE', `/api/v1/namespaces/${ns}`);
      http.close();
    });

    it('lists the real nodes with labels, taints and the fathom pods on each', async () => {
      const r = await fathom(['cluster', 'get', ...kube(), '-o', 'json'], { FATHOM_HOME: home });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const view = JSON.parse(r.stdout) as View;
      expect(view.backend).toBe('kubernetes');
      const names = view.nodes.map((n) => n.name);
      for (const name of cluster!.nodeNames) expect(names).toContain(name);
      for (const node of view.nodes) {
        expect(Object.keys(node).sort()).toEqual(['labels', 'name', 'taints', 'workloads']);
        expect(node.labels['kubernetes.io/hostname']).toBeDefined();
      }
      const special = view.nodes.filter((n) => n.labels['fathom.test/special'] === 'true');
      expect(special).toHaveLength(SPECIAL_POOL.count);
      expect(special[0]!.taints).toEqual(expect.arrayContaining(SPECIAL_POOL.taints as object[]));

      const first = view.nodes.find((n) => n.name === cluster!.nodeNames[0])!;
      const mine = first.workloads.filter((w) => w.namespace === ns);
      expect(mine).toEqual([
        expect.objectContaining({
          namespace: ns,
          name: 'fathom-probe-node',
          component: 'plugin',
          plugin: 'probe',
        }),
      ]);
      // Fathom's pods only, and nothing local: the local cluster was not made.
      expect(view.nodes.flatMap((n) => n.workloads).map((w) => w.name)).not.toContain(
        'someone-else',
      );
      const table = await fathom(['cluster', 'get', ...kube()], { FATHOM_HOME: home });
      expect(table.stdout).toMatch(new RegExp(`${first.name}\\s.*${ns}/fathom-probe-node`));
      expect(table.stdout).toMatch(/fathom\.test\/special=true:NoSchedule/);
      expect((await fathom(['cluster', 'get'], { FATHOM_HOME: home })).code).toBe(1);
    });

    it('builds and removes no Kubernetes cluster', async () => {
      for (const verb of ['create', 'delete']) {
        const r = await fathom(['cluster', verb, ...kube()], { FATHOM_HOME: home });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`^error: --backend kubernetes: fathom does not ${verb} Kubernetes clusters`),
        );
      }
    });
  },
);
