/**
 * The test control plane works: a real kube-apiserver answers, kwok's simulated nodes are
 * Ready with their pool labels and taints, kwok fakes pods as Running, and the real scheduler
 * and controller-manager place pods and DaemonSets. Runs under vitest.integration.config.ts,
 * whose global setup starts the cluster; skips (saying why) anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { kubeHttpFromKubeconfig } from '../cluster/kube.js';
import type { KubeHttp, KubeObject } from '../cluster/kube.js';
import { KWOK_ANNOTATION, POOL_LABEL, ZONE_LABEL, nodeIsReady } from '../cluster/nodes.js';
import { INTEGRATION_NODES, SPECIAL_POOL } from './context.js';

const { cluster, skipReason } = providedCluster();

interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}
interface Node extends KubeObject {
  metadata: KubeObject['metadata'] & {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

const IMAGE = 'registry.k8s.io/pause:3.10'; // never pulled: kwok runs nothing
const tolerateAll = [{ operator: 'Exists' }];

function podsOn(objects: ReadonlyMap<string, Pod>): Pod[] {
  return [...objects.values()];
}

function running(p: Pod): boolean {
  return p.status?.phase === 'Running';
}

describe.skipIf(!cluster)(`test control plane${cluster ? '' : ` (skipped: ${skipReason})`}`, () => {
  let api: KubeHttp;
  const ns = `fathom-it-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    // Pods are admitted only once the controller-manager has made the namespace's ServiceAccount.
    await api.waitForList(`/api/v1/namespaces/${ns}/serviceaccounts`, (sas) =>
      [...sas.values()].some((sa) => sa.metadata.name === 'default') ? true : undefined,
    );
  });

  afterAll(async () => {
    await api?.request('DELETE', `/api/v1/namespaces/${ns}`);
    api?.close();
  });

  it('the API server answers with its version and is ready', async () => {
    expect(await api.get('/version')).toMatchObject({
      major: '1',
      minor: '36',
      gitVersion: 'v1.36.3',
    });
    const ready = await api.request('GET', '/readyz');
    expect([ready.status, ready.text]).toEqual([200, 'ok']);
  });

  it(`${INTEGRATION_NODES} kwok nodes are Ready with their pool, zone and taint`, async () => {
    const nodes = (await api.get<{ items: Node[] }>('/api/v1/nodes?labelSelector=type%3Dkwok'))
      .items;
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual([...cluster!.nodeNames].sort());
    expect(nodes).toHaveLength(INTEGRATION_NODES);
    for (const n of nodes) {
      expect(nodeIsReady(n), `${n.metadata.name} Ready`).toBe(true);
      expect(n.metadata.annotations[KWOK_ANNOTATION.key]).toBe(KWOK_ANNOTATION.value);
      expect(n.metadata.labels[ZONE_LABEL]).toMatch(/^zone-[abc]$/);
    }
    const special = nodes.filter((n) => n.metadata.labels[POOL_LABEL] === SPECIAL_POOL.name);
    expect(special.map((n) => n.metadata.name)).toEqual(['kwok-special-0']);
    expect(special[0]!.metadata.labels['fathom.test/special']).toBe('true');
    expect(special[0]!.spec.taints).toEqual(SPECIAL_POOL.taints);
    expect(nodes.filter((n) => n.spec.taints?.length).map((n) => n.metadata.name)).toEqual([
      'kwok-special-0',
    ]);
  });

  it('kwok reports a pod bound to one of its nodes as Running, with an IP', async () => {
    await api.create(`/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bound' },
      spec: { nodeName: 'kwok-default-0', containers: [{ name: 'c', image: IMAGE }] },
    });
    const pod = await api.waitForList<Pod, Pod>(
      `/api/v1/namespaces/${ns}/pods?fieldSelector=metadata.name%3Dbound`,
      (pods) => podsOn(pods).find(running),
    );
    expect(pod.spec.nodeName).toBe('kwok-default-0');
    expect(pod.status?.podIP).toMatch(/^10\./);
    expect(pod.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True' }),
    );
  });

  it('the scheduler places a pod by node selector and toleration on the tainted pool', async () => {
    await api.create(`/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'picky' },
      spec: {
        nodeSelector: { [POOL_LABEL]: SPECIAL_POOL.name },
        tolerations: [
          { key: 'fathom.test/special', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
        ],
        containers: [{ name: 'c', image: IMAGE }],
      },
    });
    const pod = await api.waitForList<Pod, Pod>(
      `/api/v1/namespaces/${ns}/pods?fieldSelector=metadata.name%3Dpicky`,
      (pods) => podsOn(pods).find(running),
    );
    expect(pod.spec.nodeName).toBe('kwok-special-0');
  });

  it('a DaemonSet runs on every node it tolerates, scheduled by the real controllers', async () => {
    const daemonSet = (name: string, tolerations: object[]): object => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { tolerations, containers: [{ name: 'c', image: IMAGE }] },
        },
      },
    });
    await api.create(
      `/apis/apps/v1/namespaces/${ns}/daemonsets`,
      daemonSet('everywhere', tolerateAll),
    );
    await api.create(`/apis/apps/v1/namespaces/${ns}/daemonsets`, daemonSet('untainted', []));

    const placed = async (app: string, count: number): Promise<string[]> =>
      api.waitForList<Pod, string[]>(
        `/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${app}`,
        (objects) => {
          const pods = podsOn(objects);
          return pods.length === count && pods.every(running)
            ? pods.map((p) => p.spec.nodeName!).sort()
            : undefined;
        },
      );
    expect(await placed('everywhere', INTEGRATION_NODES)).toEqual([...cluster!.nodeNames].sort());
    expect(await placed('untainted', INTEGRATION_NODES - 1)).toEqual(
      cluster!.nodeNames.filter((n) => n !== 'kwok-special-0').sort(),
    );

    const status = await api.waitForList<
      KubeObject & { status?: Record<string, number> },
      Record<string, number>
    >(
      `/apis/apps/v1/namespaces/${ns}/daemonsets?fieldSelector=metadata.name%3Deverywhere`,
      (sets) => {
        const s = [...sets.values()][0]?.status;
        return s?.numberReady === INTEGRATION_NODES ? s : undefined;
      },
    );
    expect(status).toMatchObject({
      desiredNumberScheduled: INTEGRATION_NODES,
      currentNumberScheduled: INTEGRATION_NODES,
      numberMisscheduled: 0,
    });
  });
});
