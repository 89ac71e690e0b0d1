/**
 * The durable store on the Kubernetes backend, against the real API server: the store contract
 * with one ConfigMap per key, each `open()` a new client on the same namespace (another
 * process's view), plus what only this backend can get wrong: a value that is not JSON.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { configMapName, createKubeStore } from '../../src/backends/kubernetes/durable-store.js';
import { storeContract } from '../support/store-contract.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

describe.skipIf(!cluster)(
  `durable store on the Kubernetes backend${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `store-${randomBytes(3).toString('hex')}`;
    const clients: KubeClient[] = [];
    const newClient = (): KubeClient => {
      const c = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      clients.push(c);
      return c;
    };
    let admin: KubeClient;
    let n = 0;

    beforeAll(async () => {
      admin = newClient();
      await admin.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating ${ns}`);
    });
    afterAll(async () => {
      await admin?.remove(`/api/v1/namespaces/${ns}`, `deleting Namespace ${ns}`);
      for (const c of clients) c.close();
    });

    storeContract(() => ({
      open: () => Promise.resolve(createKubeStore({ client: newClient(), namespace: ns })),
      collection: () => `c${++n}`,
    }));

    it('keeps collections whose names run into each other apart', async () => {
      const store = createKubeStore({ client: admin, namespace: ns });
      const [ab, a] = [store.collection('x-a-b'), store.collection('x-a')];
      expect(await ab.create('c', 'ab/c')).toEqual(expect.any(String));
      expect(await a.create('b-c', 'a/b-c')).toEqual(expect.any(String));
      expect((await a.get('b-c'))?.value).toBe('a/b-c');
      expect((await ab.list()).map((i) => i.value)).toEqual(['ab/c']);
    });

    it('refuses a value that is not JSON, naming the ConfigMap', async () => {
      const store = createKubeStore({ client: admin, namespace: ns });
      const c = store.collection('corrupt');
      const version = (await c.create('k', { ok: true }))!;
      const name = configMapName('corrupt', 'k');
      await admin.mergePatch(
        resourcePath('', 'configmaps', ns, name),
        { data: { value: '{not json' } },
        'corrupting',
      );
      await expect(c.get('k')).rejects.toThrow(
        expect.objectContaining({
          code: 'FATHOM_STATE_INVALID',
          message: expect.stringMatching(
            new RegExp(`^ConfigMap ${ns}/${name}: data.value: not JSON`),
          ),
        }),
      );
      await expect(c.list()).rejects.toThrow(/not JSON/);
      expect(await c.remove('k', version)).toBe(false); // the corruption moved the version on
      expect(await c.remove('k')).toBe(true);
    });
  },
);
