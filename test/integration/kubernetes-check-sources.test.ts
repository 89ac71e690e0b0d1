/**
 * Check configs from the cluster, against the real API server: a labelled ConfigMap and an
 * annotated Service over its EndpointSlice become configs; changing and deleting them is
 * reported by digest while the watch runs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { watchKubeCheckSources } from '../../src/backends/kubernetes/check-sources.js';
import type { CheckConfigChange } from '../../src/checks/config/index.js';
import { ManualClock } from '../../src/core/clock.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

describe.skipIf(!cluster)(
  `check configs from Kubernetes objects${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `checks-${randomBytes(3).toString('hex')}`;
    let client: KubeClient;

    beforeAll(async () => {
      client = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      await client.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating ${ns}`);
    });
    afterAll(async () => {
      await client?.remove(`/api/v1/namespaces/${ns}`, `deleting Namespace ${ns}`);
      client?.close();
    });

    it('reports ConfigMap and Service checks, then their changes, by digest', async () => {
      const cms = resourcePath('', 'configmaps', ns);
      await client.create(
        cms,
        {
          metadata: { name: 'checks', labels: { 'fathom.dev/checks': '' } },
          data: {
            'db.yaml': 'name: db\ntype: tcp\ninstances: [{host: db, port: 5432}]\n',
            'bad.yaml': 'name: bad\ntype: nope\ninstances: [{}]\n',
          },
        },
        'creating ConfigMap',
      );
      await client.create(
        cms,
        { metadata: { name: 'unlabelled' }, data: { 'x.yaml': 'name: x\ntype: tcp\n' } },
        'creating ConfigMap',
      );
      // Selector-less, so its EndpointSlice is ours to write (as for an external service).
      await client.create(
        resourcePath('', 'services', ns),
        {
          metadata: {
            name: 'web',
            annotations: {
              'fathom.dev/check.web':
                '{"type": "tcp", "instances": [{"host": "%%host%%", "port": "%%port%%"}]}',
            },
          },
          spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
        },
        'creating Service',
      );
      const node = cluster!.nodeNames[0]!;
      await client.create(
        `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
        {
          metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
          addressType: 'IPv4',
          endpoints: [
            { addresses: ['10.9.0.1'], nodeName: node, conditions: { ready: true } },
            { addresses: ['10.9.0.2'] },
            { addresses: ['10.9.0.3'], conditions: { ready: false } },
          ],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
        'creating EndpointSlice',
      );

      const stop = new AbortController();
      const changes = watchKubeCheckSources({
        client,
        namespace: ns,
        clock: new ManualClock(),
        signal: stop.signal,
      });
      const next = async (): Promise<CheckConfigChange> => {
        const r = await changes.next();
        if (r.done) throw new Error('watch ended');
        return r.value;
      };
      try {
        const first = await next();
        expect(
          [...first.added]
            .sort((a, b) => a.source.localeCompare(b.source))
            .map((c) => [c.name, c.node, c.instances[0], c.source]),
        ).toEqual([
          ['db', undefined, { host: 'db', port: 5432 }, `ConfigMap ${ns}/checks db.yaml:1`],
          [
            'web',
            node,
            { host: '10.9.0.1', port: 8080 },
            `Service ${ns}/web annotation fathom.dev/check.web 10.9.0.1`,
          ],
          [
            'web',
            undefined,
            { host: '10.9.0.2', port: 8080 },
            `Service ${ns}/web annotation fathom.dev/check.web 10.9.0.2`,
          ],
        ]);
        expect(first.errors.map((e) => e.message)).toEqual([
          `ConfigMap ${ns}/checks bad.yaml:2:7: type: must be one of http, tcp, dns, command, kubernetes-status, plugin`,
        ]);
        const db = first.added.find((c) => c.name === 'db')!;

        await client.mergePatch(
          `${cms}/checks`,
          {
            data: {
              'db.yaml': 'name: db\ntype: tcp\ninstances: [{host: db, port: 6432}]\n',
              'bad.yaml': null,
            },
          },
          'patching ConfigMap',
        );
        const changed = await next();
        expect(changed.removed.map((c) => c.digest)).toEqual([db.digest]);
        expect(changed.added.map((c) => c.instances[0])).toEqual([{ host: 'db', port: 6432 }]);
        expect(changed.errors).toEqual([]);

        await client.remove(resourcePath('', 'services', ns, 'web'), 'deleting Service');
        const removed = await next();
        expect(removed.added).toEqual([]);
        expect(removed.removed.map((c) => c.instances[0]).sort()).toEqual([
          { host: '10.9.0.1', port: 8080 },
          { host: '10.9.0.2', port: 8080 },
        ]);
      } finally {
        stop.abort();
      }
      expect((await changes.next()).done).toBe(true);
    });
  },
);
