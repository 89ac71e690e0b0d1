/**
 * KubernetesPluginRuntime against the real test control plane, acting as the aggregator does:
 * with the aggregator service account's own token. The Monitor reports an unschedulable
 * plugin, a crash-looping one (its pod status patched through the status subresource, as a
 * kubelet would write it) and a DaemonSet node without a pod, each in Sonobuoy's words; the
 * worker reads its own pod; cleanup removes what launch made.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { parse, stringify } from 'yaml';
import type { MonitorError } from '../../src/aggregation/runtime.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import {
  containerStateSourceFromEnv,
  createKubernetesContainerStateSource,
  KubernetesPluginRuntime,
} from '../../src/backends/kubernetes/runtime.js';
import type { Pod } from '../../src/backends/kubernetes/api/types.js';
import { systemClock, ManualClock } from '../../src/core/clock.js';
import { createRunCa, type RunCa } from '../../src/core/pki.js';
import { nodeMatches, type ClusterNode } from '../../src/core/nodes.js';
import { expectedResults } from '../../src/plugin/expected-results.js';
import { parsePluginDocuments } from '../../src/plugin/loader.js';
import type { PluginDefinition } from '../../src/plugin/types.js';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';

const { cluster, skipReason } = providedCluster();
const iterate = <T>(it: AsyncIterable<T>): AsyncIterator<T> => it[Symbol.asyncIterator]();

const [picky, crashy, tainted] = parsePluginDocuments(
  `
sonobuoy-config: {driver: Job, plugin-name: picky}
spec: {name: plugin, image: busybox:1.36, command: [./run.sh]}
podSpec: {nodeSelector: {fathom.test/none: nowhere}}
---
sonobuoy-config: {driver: Job, plugin-name: crashy}
spec: {name: plugin, image: busybox:1.36, command: [./run.sh]}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: tainted}
spec: {name: plugin, image: busybox:1.36, command: [./run.sh]}
podSpec: {containers: []}
`,
  'plugins.yaml',
).plugins as PluginDefinition[] as [PluginDefinition, PluginDefinition, PluginDefinition];

describe.skipIf(!cluster)(
  `KubernetesPluginRuntime${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `fathom-kr-${randomBytes(3).toString('hex')}`;
    let dir: string;
    let admin: KubeClient;
    let http: KubeHttp;
    let sa: KubeClient;
    let runtime: KubernetesPluginRuntime;
    let clock: ManualClock;
    let ca: RunCa;
    let nodes: ClusterNode[];
    let uuid: string;
    /** The runtime's log lines, so a test can wait for the Monitor to have listed the pods. */
    const logLines: Record<string, unknown>[] = [];
    const logWaiters: (() => void)[] = [];
    const logSink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        for (const w of logWaiters.splice(0)) w();
        done();
      },
    });
    async function logged(
      match: (l: Record<string, unknown>) => boolean,
    ): Promise<Record<string, unknown>> {
      for (;;) {
        const hit = logLines.find(match);
        if (hit) return hit;
        await new Promise<void>((r) => logWaiters.push(r));
      }
    }

    async function tokenClient(name: string): Promise<KubeClient> {
      const doc = parse(await readFile(cluster!.kubeconfig, 'utf8')) as {
        clusters: { cluster: Record<string, string> }[];
      };
      const req = await admin.create<{ status: { token: string } }>(
        `${resourcePath('', 'serviceaccounts', ns, name)}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
        `requesting a token for ${name}`,
      );
      const path = join(dir, `${name}.kubeconfig`);
      await writeFile(
        path,
        stringify({
          clusters: [
            { name: 'c', cluster: { ...doc.clusters[0]!.cluster, server: cluster!.server } },
          ],
          users: [{ name, user: { token: req.status.token } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: name } }],
          'current-context': 'x',
        }),
      );
      return createKubeClient(resolveKubeconfig({ kubeconfig: path }));
    }

    async function launch(plugin: PluginDefinition): Promise<void> {
      await runtime.launch(plugin, {
        runId: uuid,
        aggregatorUrl: 'https://10.0.0.1:8080',
        caPem: ca.caPem,
        clientCert: await ca.clientCert(plugin.name),
        nodes: nodes.filter((n) => nodeMatches(plugin, n)),
      });
    }

    const podsOf = (plugin: string): string =>
      `${resourcePath('', 'pods', ns)}?labelSelector=${encodeURIComponent(`fathom-plugin=${plugin}`)}`;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fathom-kr-'));
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      const backend = new KubernetesBackend({ clock: systemClock, client: admin });
      uuid = (
        await backend.start({
          namespace: ns,
          plugins: [picky, crashy, tainted],
          timeoutMs: 0,
          maxResultBytes: 1 << 20,
        })
      ).uuid;
      const owner = await admin.get<Pod>(
        resourcePath('', 'pods', ns, 'fathom-aggregator'),
        'reading',
      );
      sa = await tokenClient('fathom-aggregator');
      clock = new ManualClock(Date.now());
      ca = await createRunCa({ now: Date.now() });
      runtime = new KubernetesPluginRuntime({
        client: sa,
        config: {
          uuid,
          namespace: ns,
          image: 'fathom:test',
          imagePullPolicy: 'IfNotPresent',
          kubernetesVersion: 'v1.36.3',
        },
        owner: { name: 'fathom-aggregator', uid: owner.metadata.uid! },
        clock,
        logger: pino({ level: 'info' }, logSink),
        monitorIntervalMs: 10_000,
        noPodGraceMs: 60_000,
      });
      nodes = await runtime.listNodes();
    });

    afterAll(async () => {
      sa?.close();
      http?.close();
      await admin
        ?.remove(resourcePath('', 'namespaces', undefined, ns), 'deleting')
        .catch(() => false);
      await admin
        ?.remove(
          resourcePath(
            'rbac.authorization.k8s.io',
            'clusterroles',
            undefined,
            `fathom-aggregator-${ns}`,
          ),
          'x',
        )
        .catch(() => false);
      await admin
        ?.remove(
          resourcePath(
            'rbac.authorization.k8s.io',
            'clusterrolebindings',
            undefined,
            `fathom-aggregator-${ns}`,
          ),
          'x',
        )
        .catch(() => false);
      admin?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('lists the nodes with their labels through the aggregator account', () => {
      expect(nodes.map((n) => n.name).sort()).toEqual([...cluster!.nodeNames].sort());
      expect(nodes.find((n) => n.name === 'kwok-special-0')?.labels).toMatchObject({
        'fathom.test/special': 'true',
      });
    });

    it("reports an unschedulable Job plugin with the scheduler's reason, once", async () => {
      await launch(picky);
      const stop = new AbortController();
      const problems = iterate(runtime.monitor(picky, expectedResults(picky, nodes), stop.signal));
      const first = (await problems.next()).value as MonitorError;
      expect(first.node).toBe('global');
      expect(first.error).toMatch(
        /^Can't schedule pod: 0\/5 nodes are available: .*node\(s\) didn't match Pod's node affinity\/selector/,
      );
      expect((first.details?.pod as Pod).metadata.name).toMatch(/^fathom-picky-job-[0-9a-f]{16}$/);
      stop.abort();
      expect((await problems.next()).done).toBe(true);
    });

    it('reports a crash-looping container after its third restart', async () => {
      await launch(crashy);
      const pod = await http.waitForList<Pod, Pod>(podsOf('crashy'), (pods) =>
        [...pods.values()].find((p) => p.status?.phase === 'Running'),
      );
      const stop = new AbortController();
      const problems = iterate(
        runtime.monitor(crashy, expectedResults(crashy, nodes), stop.signal),
      );
      const now = new Date().toISOString();
      const statuses = (restarts: number) => ({
        status: {
          containerStatuses: [
            {
              name: 'plugin',
              image: 'busybox:1.36',
              imageID: '',
              ready: false,
              restartCount: restarts,
              state: {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: 'back-off 40s restarting failed container',
                },
              },
              lastState: {
                terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now },
              },
            },
            {
              name: 'sonobuoy-worker',
              image: 'fathom:test',
              imageID: '',
              ready: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            },
          ],
        },
      });
      const statusPath = `${resourcePath('', 'pods', ns, pod.metadata.name)}/status`;
      await admin.mergePatch(statusPath, statuses(2), 'patching the pod status');
      await admin.mergePatch(statusPath, statuses(3), 'patching the pod status');
      const problem = (await problems.next()).value as MonitorError;
      expect([problem.node, problem.error]).toEqual([
        'global',
        'Container plugin has restarted unsuccessfully 3 times',
      ]);
      stop.abort();
      await problems.return?.(undefined);

      // The worker's view of the same pod, with the plugin account's own token.
      const pluginSa = await tokenClient('fathom-plugin');
      const states = createKubernetesContainerStateSource({
        client: pluginSa,
        namespace: ns,
        pod: pod.metadata.name,
      });
      expect(await states.otherContainers()).toEqual([{ name: 'plugin', terminated: false }]);
      await admin.mergePatch(
        statusPath,
        {
          status: {
            containerStatuses: [
              {
                name: 'plugin',
                image: 'busybox:1.36',
                imageID: '',
                ready: false,
                restartCount: 0,
                state: {
                  terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now },
                },
              },
              {
                name: 'sonobuoy-worker',
                image: 'fathom:test',
                imageID: '',
                ready: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              },
            ],
          },
        },
        'patching the pod status',
      );
      expect(await states.otherContainers()).toEqual([
        { name: 'plugin', terminated: true, exitCode: 0, reason: 'Completed' },
      ]);
      // As the worker builds it from its pod's env (the plugin account's token via $KUBECONFIG here).
      const env = {
        SONOBUOY_NS: ns,
        SONOBUOY_PLUGIN_POD: pod.metadata.name,
        KUBECONFIG: join(dir, 'fathom-plugin.kubeconfig'),
      };
      expect(await containerStateSourceFromEnv(env)!.otherContainers()).toEqual([
        { name: 'plugin', terminated: true, exitCode: 0, reason: 'Completed' },
      ]);
      expect(containerStateSourceFromEnv({ ...env, SONOBUOY_PLUGIN_POD: '' })).toBeUndefined();
      const stranger = createKubernetesContainerStateSource({
        client: pluginSa,
        namespace: ns,
        pod: 'no-such-pod',
      });
      expect(await stranger.otherContainers()).toBeUndefined();
      pluginSa.close();
    });

    it('reports a node a DaemonSet left without a pod (an untolerated taint) once the grace is over', async () => {
      await launch(tainted);
      const expected = expectedResults(tainted, nodes);
      expect(expected).toHaveLength(5); // taints do not make a node unexpected, as in Sonobuoy
      // The DaemonSet controller places pods on the four untainted nodes only.
      await http.waitForList<Pod, true>(podsOf('tainted'), (pods) =>
        [...pods.values()].filter((p) => p.status?.phase === 'Running').length === 4
          ? true
          : undefined,
      );
      const stop = new AbortController();
      const problems = iterate(runtime.monitor(tainted, expected, stop.signal));
      const got: MonitorError[] = [];
      const collecting = (async () => {
        for (;;) {
          const r = await problems.next();
          if (r.done) return;
          got.push(r.value);
        }
      })();
      // The Monitor has listed the four pods, on the clock's time: no time has passed yet.
      expect(
        await logged((l) => l.msg === 'monitoring the plugin pods' && l.plugin === 'tainted'),
      ).toMatchObject({
        pods: 4,
      });
      await clock.advance(50_000);
      expect(got).toEqual([]);
      expect(clock.pendingDelays()).toEqual([10_000]);
      await clock.advance(10_000);
      expect(got).toEqual([
        {
          node: 'kwok-special-0',
          error:
            'No pod was scheduled on node kwok-special-0 within 1m0s. Check tolerations for plugin tainted',
        },
      ]);
      // Reported once: later passes stay quiet.
      await clock.advance(30_000);
      expect(got).toHaveLength(1);
      stop.abort();
      await collecting;
    });

    it('cleanup deletes the workloads and Secrets launch created, with the narrow delete rights', async () => {
      const session = uuid.replace(/-/g, '').slice(0, 16);
      for (const p of [picky, crashy, tainted]) await runtime.cleanup(p);
      for (const p of [picky, crashy, tainted]) {
        expect(
          await admin.find(
            resourcePath('', 'secrets', ns, `fathom-plugin-${p.name}-${session}`),
            'reading',
          ),
        ).toBeUndefined();
      }
      expect(
        await admin.find(
          resourcePath('apps', 'daemonsets', ns, `fathom-tainted-daemon-set-${session}`),
          'reading',
        ),
      ).toBeUndefined();
      for (const p of [picky, crashy]) {
        const pod = await admin.find<Pod>(
          resourcePath('', 'pods', ns, `fathom-${p.name}-job-${session}`),
          'reading',
        );
        expect(pod === undefined || pod.metadata.deletionTimestamp !== undefined).toBe(true);
      }
      // Already gone is fine: cleanup runs again after a crash.
      await runtime.cleanup(picky);
    });
  },
);
