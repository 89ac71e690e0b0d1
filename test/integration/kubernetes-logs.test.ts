/**
 * `logs` through the real pods/log API. kwok serves no logs, so this test registers a node of
 * its own whose kubelet endpoint is a small HTTPS server here, binds the run's pods to it and
 * writes their container states itself; the API server then proxies every log request there.
 */
import { systemClock } from '../../src/core/clock.js';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import type { LogLine } from '../../src/backends/backend.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { createStatusAnnotationWriter } from '../../src/backends/kubernetes/runtime.js';
import { createRunCa } from '../../src/core/pki.js';
import { kubeHttpFromKubeconfig, type KubeHttp, type KubeObject } from '../cluster/kube.js';
import { hostAddress } from '../support/net.js';
import { available } from '../support/required.js';

const { cluster, skipReason } = providedCluster();

const ip = hostAddress();
if (cluster) available(ip !== undefined, 'this machine has no non-loopback IPv4 address');

describe.skipIf(!cluster || !ip)(
  `KubernetesBackend logs${cluster ? (ip ? '' : ' (skipped: no non-loopback IPv4 address)') : ` (skipped: ${skipReason})`}`,
  () => {
    const suffix = randomBytes(3).toString('hex');
    const ns = `fathom-kl-${suffix}`;
    const node = `fathom-logs-${suffix}`;
    let admin: KubeClient;
    let http: KubeHttp;
    let kubelet: https.Server;
    const logs = new Map<string, string>([
      ['fathom-aggregator/aggregator', 'aggregator up\nplugins launched\n'],
      ['fathom-s-job-1/plugin', 'running tests\n'],
      ['fathom-s-job-1/sonobuoy-worker', 'waiting for done file\n'],
    ]);
    const followers = new Map<string, ServerResponse>();
    let followed: () => void = () => undefined;

    beforeAll(async () => {
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      const ca = await createRunCa({ now: Date.now() });
      const tls = await ca.serverCert([ip!]);
      kubelet = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
        const url = new URL(req.url ?? '/', 'https://kubelet');
        const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
        const key = m ? `${m[2]}/${m[3]}` : '';
        if (!m || m[1] !== ns || !logs.has(key)) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(logs.get(key));
        if (url.searchParams.get('follow') !== 'true') return void res.end();
        followers.set(key, res);
        followed();
      });
      await new Promise<void>((r) => kubelet.listen(0, ip, r));
      const port = (kubelet.address() as AddressInfo).port;
      await admin.create('/api/v1/nodes', { metadata: { name: node } }, `creating Node ${node}`);
      await admin.mergePatch(
        `${resourcePath('', 'nodes', undefined, node)}/status`,
        {
          status: {
            addresses: [{ type: 'InternalIP', address: ip }],
            daemonEndpoints: { kubeletEndpoint: { Port: port } },
          },
        },
        'pointing the node at this machine',
      );
      await admin.create(
        '/api/v1/namespaces',
        { metadata: { name: ns } },
        `creating Namespace ${ns}`,
      );
      await http.waitForList<KubeObject, true>(`/api/v1/namespaces/${ns}/serviceaccounts`, (sas) =>
        [...sas.values()].some((s) => s.metadata.name === 'default') ? true : undefined,
      );
      const pod = (
        name: string,
        labels: Record<string, string>,
        containers: string[],
        annotations = {},
      ) => ({
        metadata: { name, labels: { component: 'fathom', ...labels }, annotations },
        spec: { nodeName: node, containers: containers.map((c) => ({ name: c, image: 'x' })) },
      });
      await admin.create(
        resourcePath('', 'pods', ns),
        pod('fathom-aggregator', { 'fathom-component': 'aggregator' }, ['aggregator']),
        'creating',
      );
      await admin.create(
        resourcePath('', 'pods', ns),
        pod(
          'fathom-s-job-1',
          { 'fathom-component': 'plugin', 'fathom-plugin': 's' },
          ['plugin', 'sonobuoy-worker'],
          {
            'sonobuoy-driver': 'Job',
          },
        ),
        'creating',
      );
      const now = new Date().toISOString();
      for (const [name, containers] of [
        ['fathom-aggregator', ['aggregator']],
        ['fathom-s-job-1', ['plugin', 'sonobuoy-worker']],
      ] as const) {
        await admin.mergePatch(
          `${resourcePath('', 'pods', ns, name)}/status`,
          {
            status: {
              phase: 'Running',
              containerStatuses: containers.map((c) => ({
                name: c,
                image: 'x',
                imageID: '',
                ready: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              })),
            },
          },
          'writing the pod status as a kubelet',
        );
      }
    });

    afterAll(async () => {
      for (const res of followers.values()) res.destroy();
      kubelet?.closeAllConnections();
      kubelet?.close();
      await admin
        ?.remove(resourcePath('', 'namespaces', undefined, ns), 'deleting')
        .catch(() => false);
      await admin
        ?.remove(resourcePath('', 'nodes', undefined, node), 'deleting')
        .catch(() => false);
      http?.close();
      admin?.close();
    });

    async function collect(it: AsyncIterable<LogLine>): Promise<string[]> {
      const out: string[] = [];
      for await (const l of it) out.push(`${l.source}: ${l.line}`);
      return out;
    }

    it('prints the aggregator first, then every plugin container, each line with its source', async () => {
      const backend = new KubernetesBackend({ clock: systemClock, client: admin });
      expect(await collect(backend.logs(ns))).toEqual([
        'aggregator: aggregator up',
        'aggregator: plugins launched',
        's/global/plugin: running tests',
        's/global/sonobuoy-worker: waiting for done file',
      ]);
      expect(await collect(backend.logs(ns, { plugin: 'fathom' }))).toEqual([
        'aggregator: aggregator up',
        'aggregator: plugins launched',
      ]);
      expect(await collect(backend.logs(ns, { plugin: 's' }))).toEqual([
        's/global/plugin: running tests',
        's/global/sonobuoy-worker: waiting for done file',
      ]);
      await expect(collect(backend.logs(`${ns}-none`))).rejects.toMatchObject({
        code: 'FATHOM_RUN_NOT_FOUND',
      });
    });

    it('follows new lines until the run is complete', async () => {
      const backend = new KubernetesBackend({ clock: systemClock, client: admin });
      const allFollowing = new Promise<void>((resolve) => {
        followed = () => {
          if (followers.size === 3) resolve();
        };
      });
      const stop = new AbortController();
      const lines: string[] = [];
      let sawPassed: () => void = () => undefined;
      const passed = new Promise<void>((resolve) => (sawPassed = resolve));
      const following = (async () => {
        for await (const l of backend.logs(ns, { follow: true, signal: stop.signal })) {
          lines.push(`${l.source}: ${l.line}`);
          if (l.line === '1 passed') sawPassed();
        }
      })();
      await allFollowing;
      followers.get('fathom-s-job-1/plugin')!.write('1 passed\n');
      await passed;
      await createStatusAnnotationWriter({
        clock: systemClock,
        client: admin,
        namespace: ns,
        pod: 'fathom-aggregator',
      })({
        plugins: [],
        status: 'complete',
        'tar-info': { name: 'x.tar.gz', created: '2026-01-01T00:00:00Z', sha256: '', size: 0 },
      });
      await following;
      expect(lines).toEqual(
        expect.arrayContaining([
          'aggregator: aggregator up',
          's/global/plugin: running tests',
          's/global/plugin: 1 passed',
          's/global/sonobuoy-worker: waiting for done file',
        ]),
      );
      expect(stop.signal.aborted).toBe(false);
    });
  },
);
