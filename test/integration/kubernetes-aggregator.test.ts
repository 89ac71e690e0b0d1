/**
 * A whole run through the real API server: `start` creates the objects, the aggregator (run
 * in this process with the aggregator pod's environment, ConfigMap files and its service
 * account's token) launches a Job and a DaemonSet plugin on the 5 simulated nodes, the test
 * uploads each plugin's result as its worker would (with the address, CA and client
 * certificate the aggregator put in the pods and Secrets), and the tarball comes home through
 * the pod proxy. kwok runs no containers, so the test plays the workers.
 */
import { systemClock } from '../../src/core/clock.js';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { list as tarList } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { parse, stringify } from 'yaml';
import type { RunStatus } from '../../src/aggregation/types.js';
import { runKubernetesAggregator } from '../../src/backends/kubernetes/aggregator.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { Pod } from '../../src/backends/kubernetes/api/types.js';
import { parsePluginDocuments } from '../../src/plugin/loader.js';
import type { PluginDefinition } from '../../src/plugin/types.js';
import { kubeHttpFromKubeconfig, type KubeHttp, type KubeObject } from '../cluster/kube.js';
import { freePort, hostAddress } from '../support/net.js';
import { skipOrFail } from '../support/required.js';
import { deleteWaiting } from './delete-wait.js';

const { cluster, skipReason } = providedCluster();

const plugins = parsePluginDocuments(
  `
sonobuoy-config: {driver: Job, plugin-name: smoke, result-format: junit}
spec: {name: plugin, image: busybox:1.36, command: [./run.sh]}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: inventory, result-format: manual}
spec: {name: plugin, image: busybox:1.36, command: [/bin/sh]}
config-map: {settings.yaml: 'level: 1'}
`,
  'plugins.yaml',
).plugins as PluginDefinition[];

const junit = `<?xml version="1.0"?>
<testsuite name="smoke" tests="2"><testcase name="reaches the API"/><testcase name="lists nodes"/></testsuite>
`;
const manual = (node: string): string =>
  `name: inventory\nstatus: passed\nitems:\n- name: ${node}\n  status: passed\n`;

interface EnvVar {
  name: string;
  value?: string;
}

function put(
  url: string,
  tls: { ca: string; cert: string; key: string },
  file: string,
  body: string,
  contentType: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'PUT',
        ...tls,
        headers: {
          'content-type': contentType,
          'content-disposition': `attachment;filename=${file}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!cluster)(
  `a Kubernetes run end to end${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `fathom-ka-${randomBytes(3).toString('hex')}`;
    let dir: string;
    let admin: KubeClient;
    let http: KubeHttp;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fathom-ka-'));
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
    });

    afterAll(async () => {
      http?.close();
      admin?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('runs a Job and a DaemonSet plugin on 5 nodes and brings the results home', async (ctx) => {
      const ip = hostAddress();
      if (!ip)
        return skipOrFail(
          ctx,
          'this machine has no non-loopback IPv4 address for the pod proxy to reach',
        );
      const [uploadPort, resultsPort] = [await freePort(), await freePort()];
      const backend = new KubernetesBackend({
        clock: systemClock,
        client: admin,
        uploadPort,
        resultsPort,
      });
      const { uuid } = await backend.start({
        namespace: ns,
        plugins,
        timeoutMs: 120_000,
        maxResultBytes: 1 << 20,
      });

      // What the kubelet would give the aggregator container: its ConfigMaps as files, its env.
      const configDir = join(dir, 'etc');
      await mkdir(join(configDir, 'config'), { recursive: true });
      await mkdir(join(configDir, 'plugins'), { recursive: true });
      for (const [cm, sub] of [
        ['fathom-config', 'config'],
        ['fathom-plugins', 'plugins'],
      ] as const) {
        const data = (
          await admin.get<{ data: Record<string, string> }>(
            resourcePath('', 'configmaps', ns, cm),
            'reading',
          )
        ).data;
        for (const [file, text] of Object.entries(data))
          await writeFile(join(configDir, sub, file), text);
      }
      const pod = await admin.get<Pod>(
        resourcePath('', 'pods', ns, 'fathom-aggregator'),
        'reading',
      );
      // The pod's IP is this machine, where the aggregator listens, so the pod proxy finds it.
      await admin.mergePatch(
        `${resourcePath('', 'pods', ns, 'fathom-aggregator')}/status`,
        { status: { podIP: ip, podIPs: [{ ip }] } },
        'pointing the pod at this machine',
      );
      const secret = await admin.get<{ data: Record<string, string> }>(
        resourcePath('', 'secrets', ns, 'fathom-retrieve'),
        'reading',
      );
      const doc = parse(await readFile(cluster!.kubeconfig, 'utf8')) as {
        clusters: { cluster: Record<string, string> }[];
      };
      const token = await admin.create<{ status: { token: string } }>(
        `${resourcePath('', 'serviceaccounts', ns, 'fathom-aggregator')}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
        'requesting a token',
      );
      const kubeconfig = join(dir, 'aggregator.kubeconfig');
      await writeFile(
        kubeconfig,
        stringify({
          clusters: [
            { name: 'c', cluster: { ...doc.clusters[0]!.cluster, server: cluster!.server } },
          ],
          users: [{ name: 'sa', user: { token: token.status.token } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'sa' } }],
          'current-context': 'x',
        }),
      );
      const stop = new AbortController();
      const aggregator = runKubernetesAggregator({
        clock: systemClock,
        env: {
          KUBECONFIG: kubeconfig, // the service account's token, as in-cluster
          POD_NAME: 'fathom-aggregator',
          POD_NAMESPACE: ns,
          POD_UID: pod.metadata.uid,
          POD_IP: ip,
          FATHOM_RETRIEVE_TOKEN: Buffer.from(secret.data.token!, 'base64').toString(),
          FATHOM_CONFIG_DIR: join(configDir, 'config'),
          FATHOM_PLUGINS_DIR: join(configDir, 'plugins'),
          FATHOM_OUTPUT_DIR: join(dir, 'out'),
        },
        signal: stop.signal,
        logger: pino({ level: 'silent' }),
      });
      try {
        // The aggregator launched both plugins: a Job pod and a DaemonSet pod on every node.
        const pods = await http.waitForList<KubeObject & Pod, Pod[]>(
          `${resourcePath('', 'pods', ns)}?labelSelector=${encodeURIComponent(`fathom-run=${uuid},fathom-component=plugin`)}`,
          (all) => {
            const ps = [...all.values()].filter((p) => p.spec?.nodeName);
            return ps.length === 6 ? ps : undefined;
          },
        );
        const session = uuid.replace(/-/g, '').slice(0, 16);
        const job = pods.find((p) => p.metadata.name === `fathom-smoke-job-${session}`)!;
        const workerEnv = (p: Pod): Record<string, string | undefined> => {
          const worker = p.spec?.containers?.find(
            (c) => c.name === 'sonobuoy-worker',
          ) as unknown as {
            env: EnvVar[];
          };
          return Object.fromEntries(worker.env.map((e) => [e.name, e.value]));
        };
        const env = workerEnv(job);
        expect(env.AGGREGATOR_URL).toBe(`https://${ip}:${uploadPort}`);
        const tlsOf = async (plugin: string) => {
          const s = await admin.get<{ data: Record<string, string> }>(
            resourcePath('', 'secrets', ns, `fathom-plugin-${plugin}-${session}`),
            'reading',
          );
          const b = (k: string): string => Buffer.from(s.data[k]!, 'base64').toString();
          return { ca: b('ca.crt'), cert: b('tls.crt'), key: b('tls.key') };
        };
        expect(
          await put(
            `${env.AGGREGATOR_URL}/api/v1/results/global/smoke`,
            await tlsOf('smoke'),
            'junit.xml',
            junit,
            'text/xml',
          ),
        ).toBe(200);
        const inventoryTls = await tlsOf('inventory');
        for (const node of cluster!.nodeNames) {
          const url = `${env.AGGREGATOR_URL}/api/v1/results/by-node/${node}/inventory`;
          expect(
            await put(url, inventoryTls, 'inventory.yaml', manual(node), 'application/x-yaml'),
          ).toBe(200);
        }

        let last: RunStatus | undefined;
        for await (const s of backend.watch(ns)) last = s;
        expect(last?.status).toBe('complete');
        expect(
          last?.plugins
            .map((p) => `${p.plugin}/${p.node}:${p.status}:${p['result-status']}`)
            .sort(),
        ).toEqual(
          [
            ...cluster!.nodeNames.map((n) => `inventory/${n}:complete:passed`),
            'smoke/global:complete:passed',
          ].sort(),
        );

        const tarball = await backend.retrieve(ns, join(dir, 'home'));
        const entries: string[] = [];
        await tarList({ file: tarball, onReadEntry: (e) => void entries.push(e.path) });
        expect(entries).toEqual(
          expect.arrayContaining([
            'meta/info.json',
            'plugins/smoke/results/global/junit.xml',
            'plugins/smoke/sonobuoy_results.yaml',
            'plugins/inventory/sonobuoy_results.yaml',
            ...cluster!.nodeNames.map((n) => `plugins/inventory/results/${n}/inventory.yaml`),
          ]),
        );
        // The aggregator cleaned up its plugins with its own narrow rights.
        const left = await admin.list(resourcePath('apps', 'daemonsets', ns), 'listing');
        expect(left.items).toEqual([]);
      } finally {
        stop.abort();
        expect(await aggregator).toBe(0);
        await deleteWaiting(admin, http, ns);
      }
    }, 120_000);
  },
);
