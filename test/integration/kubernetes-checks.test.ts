/**
 * Cluster checks on the Kubernetes backend against the real control plane.
 *
 * - Every object `fathom gen checks` prints passes a server-side dry run (`dryRun=All`, strict
 *   field validation), so it is valid against the API server's own schemas and admission.
 * - `kubeChecksUp` applies them and waits on fathom's kstatus engine until the dispatcher
 *   Deployment and the agent DaemonSet are Current (kwok's nodes run the pods as simulations);
 *   a second up keeps the token; the service accounts get exactly the RBAC the manifests
 *   grant (SelfSubjectAccessReview); `kubeChecksDown` removes everything and waits.
 * - The local end-to-end scenario with real pods (the pod runner plays the kubelet on 3 nodes):
 *   2 dispatcher replicas, every check on exactly one agent, an agent stopped (SIGSTOP) and its
 *   checks re-dispatched, the leader pod deleted and the other replica taking over. It needs
 *   `fathom dispatcher` and `fathom agent` in the built CLI and skips, saying so, without them.
 *   There is no kube-proxy here: agents dial a small TCP forwarder in this process that picks a
 *   ready pod behind the Service, as kube-proxy would from its EndpointSlices (which stay empty:
 *   the API refuses the pod runner's loopback pod IPs as endpoint addresses).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { KubeObject, Pod } from '../../src/backends/kubernetes/api/types.js';
import { kubeDispatcherCall } from '../../src/backends/kubernetes/checks/call.js';
import {
  checksManifests,
  configsConfigMap,
} from '../../src/backends/kubernetes/checks/manifests.js';
import { checksSpec } from '../../src/backends/kubernetes/checks/options.js';
import { kindPath } from '../../src/backends/kubernetes/objects.js';
import {
  generateChecksSecrets,
  readChecksToken,
} from '../../src/backends/kubernetes/checks/secrets.js';
import {
  applyObject,
  checksRefs,
  kubeChecksDown,
  kubeChecksUp,
} from '../../src/backends/kubernetes/checks/up.js';
import { deleteRun } from '../../src/backends/kubernetes/objects.js';
import { systemClock } from '../../src/core/clock.js';
import { isFathomError } from '../../src/core/errors.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import {
  can,
  exactlyOnce,
  hasCheckProcesses,
  podLogTails,
  serviceAccountClient,
  startLoopbackReplica,
  startServiceForwarder,
  type StateAnswer,
} from './kube-checks.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const hex = (): string => randomBytes(3).toString('hex');

const CHECKS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
const checkFile = CHECKS.map(
  (name) => `name: ${name}\ntype: command\ninterval: 2s\ninstances: [{command: [node, -e, '']}]\n`,
).join('---\n');

describe.skipIf(!cluster)(
  `cluster checks objects on the real API server${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `checks-${hex()}`;
    let admin: KubeClient;
    let dir: string;

    beforeAll(async () => {
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      dir = await mkdtemp(join(tmpdir(), 'fathom-kchecks-'));
    });
    afterAll(async () => {
      if (admin) {
        await kubeChecksDown({
          client: admin,
          clock: systemClock,
          namespace: ns,
          timeoutMs: 0,
          noWait: true,
        }).catch(() => undefined);
        await admin
          .remove(resourcePath('', 'namespaces', undefined, ns), `deleting ${ns}`)
          .catch(() => false);
        admin.close();
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passes a server-side dry run with strict field validation, object by object', async () => {
      const spec = checksSpec({
        namespace: ns,
        replicas: 2,
        strategy: 'hashing',
        nodeExpiration: '3s',
        warmup: '1s',
        poll: '1s',
        toleration: ['dedicated=infra:NoSchedule'],
        nodeSelector: ['kubernetes.io/os=linux'],
      });
      const secrets = await generateChecksSecrets({ namespace: ns, now: Date.now() });
      const objects = [
        ...checksManifests(spec, secrets),
        configsConfigMap(spec, { 'a.yaml': checkFile }),
      ];
      const [namespace, ...rest] = objects;
      expect(namespace!.kind).toBe('Namespace');
      await applyObject(admin, namespace!, true);
      const nsPath = resourcePath('', 'namespaces', undefined, ns);
      expect(await admin.find(nsPath, 'reading')).toBeUndefined();
      // Namespaced objects need their namespace to exist, even in a dry run.
      await applyObject(admin, namespace!);
      for (const o of rest) await applyObject(admin, o, true);
      expect(rest).toHaveLength(15);
      for (const ref of checksRefs(ns)) {
        expect(await admin.find(kindPath(ref), `reading ${ref.kind}`), ref.kind).toBeUndefined();
      }
      // The dry run does judge: a field the schema does not have is refused.
      const deployment = rest.find((o) => o.kind === 'Deployment')!;
      const broken = { ...deployment, spec: { ...(deployment.spec as object), replica: 2 } };
      const err = await applyObject(admin, broken, true).catch((e: unknown) => e);
      expect(isFathomError(err)).toBe(true);
      expect((err as Error).message).toMatch(/replica/);
    });

    it('up applies and waits until kstatus sees the Deployment and DaemonSet Current', async () => {
      const configs = join(dir, 'configs');
      await mkdir(configs);
      await writeFile(join(configs, 'checks.yaml'), checkFile);
      const spec = checksSpec({ namespace: ns, replicas: 2 });
      const seen: string[] = [];
      const up = await kubeChecksUp({
        client: admin,
        clock: systemClock,
        spec,
        configsDir: configs,
        timeoutMs: 90_000,
        pollMs: 500,
        onUpdate: (u) => seen.push(u.aggregate),
      });
      expect(up.reusedSecrets).toBe(false);
      expect(up.applied).toContain(`Deployment ${ns}/fathom-checks-dispatcher`);
      expect(up.applied).toContain(`ConfigMap ${ns}/fathom-checks-configs`);
      expect(seen.at(-1)).toBe('Current');
      const d = await admin.get<KubeObject & { status: { readyReplicas?: number } }>(
        resourcePath('apps', 'deployments', ns, 'fathom-checks-dispatcher'),
        'reading',
      );
      expect(d.status.readyReplicas).toBe(2);
      const ds = await admin.get<
        KubeObject & { status: { numberReady: number; desiredNumberScheduled: number } }
      >(resourcePath('apps', 'daemonsets', ns, 'fathom-checks-agent'), 'reading');
      // Every node, the tainted pool's too: agents tolerate every taint by default.
      expect(ds.status.desiredNumberScheduled).toBe(cluster!.nodeNames.length);
      expect(ds.status.numberReady).toBe(ds.status.desiredNumberScheduled);
      const cm = await admin.get<KubeObject & { data: Record<string, string> }>(
        resourcePath('', 'configmaps', ns, 'fathom-checks-configs'),
        'reading',
      );
      expect(cm.metadata.labels?.['fathom.dev/checks']).toBe('true');
      expect(cm.data['checks.yaml']).toBe(checkFile);

      const token = await readChecksToken(admin, ns);
      const again = await kubeChecksUp({
        client: admin,
        clock: systemClock,
        spec,
        timeoutMs: 60_000,
        pollMs: 500,
      });
      expect(again.reusedSecrets).toBe(true);
      expect(await readChecksToken(admin, ns)).toBe(token);
      const d2 = await admin.get<KubeObject>(
        resourcePath('apps', 'deployments', ns, 'fathom-checks-dispatcher'),
        'reading',
      );
      const generation = (o: KubeObject): unknown =>
        (o.metadata as { generation?: number }).generation;
      expect(generation(d2)).toBe(generation(d)); // the same template: nothing rolled
    });

    it('gives each service account exactly the access the manifests grant', async () => {
      const dispatcher = await serviceAccountClient(
        cluster!,
        admin,
        dir,
        ns,
        'fathom-checks-dispatcher',
      );
      const agent = await serviceAccountClient(cluster!, admin, dir, ns, 'fathom-checks-agent');
      try {
        const lease = { group: 'coordination.k8s.io', resource: 'leases' };
        const expectations: [KubeClient, Record<string, string>, boolean][] = [
          [dispatcher, { verb: 'watch', resource: 'configmaps' }, true],
          [dispatcher, { verb: 'list', resource: 'services', namespace: 'default' }, true],
          [
            dispatcher,
            { verb: 'watch', group: 'discovery.k8s.io', resource: 'endpointslices' },
            true,
          ],
          [dispatcher, { verb: 'get', resource: 'endpoints', namespace: 'kube-system' }, true],
          [dispatcher, { verb: 'get', resource: 'secrets', namespace: ns }, false],
          [dispatcher, { verb: 'update', resource: 'configmaps', namespace: ns }, false],
          [dispatcher, { ...lease, verb: 'create', namespace: ns }, true],
          [dispatcher, { ...lease, verb: 'update', namespace: ns, name: 'fathom-checks' }, true],
          [dispatcher, { ...lease, verb: 'get', namespace: ns, name: 'fathom-checks' }, true],
          [dispatcher, { ...lease, verb: 'update', namespace: ns, name: 'other' }, false],
          [dispatcher, { ...lease, verb: 'delete', namespace: ns, name: 'fathom-checks' }, false],
          [dispatcher, { ...lease, verb: 'create', namespace: 'default' }, false],
          [dispatcher, { verb: 'list', resource: 'pods' }, false],
          [agent, { verb: 'get', resource: 'nodes', name: cluster!.nodeNames[0]! }, true],
          [agent, { verb: 'list', resource: 'nodes' }, false],
          [agent, { verb: 'list', resource: 'pods' }, true],
          [
            agent,
            { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'default' },
            true,
          ],
          [agent, { verb: 'watch', group: 'apps', resource: 'deployments' }, false],
          [agent, { verb: 'create', resource: 'pods', namespace: ns }, false],
          [agent, { verb: 'get', resource: 'secrets', namespace: ns }, false],
          [agent, { verb: 'list', resource: 'configmaps' }, false],
          [agent, { ...lease, verb: 'update', namespace: ns, name: 'fathom-checks' }, false],
        ];
        const answers = [];
        for (const [client, attrs] of expectations) answers.push(await can(client, attrs));
        expect(answers).toEqual(expectations.map(([, , want]) => want));
      } finally {
        dispatcher.close();
        agent.close();
      }
    });

    it("reaches the leader named by the Lease with the Secret's token, verifying its certificate", async () => {
      const { pod, close } = await startLoopbackReplica(admin, ns);
      try {
        const state = await kubeDispatcherCall(
          { client: admin, namespace: ns },
          'GET',
          '/api/v1/clusterchecks',
        );
        expect(state).toEqual({
          status: 200,
          via: pod,
          body: { not_running: 'Startup in progress', warmup: false, nodes: [], dangling: [] },
        });
        // The dispatcher's own error answers come back as they are.
        expect(
          await kubeDispatcherCall(
            { client: admin, namespace: ns },
            'POST',
            '/api/v1/clusterchecks/rebalance',
          ),
        ).toEqual({ status: 503, via: pod, body: 'Startup in progress\n' });
      } finally {
        await close();
      }
    });

    it("a run's delete in the same namespace leaves cluster checks alone", async () => {
      const err = await deleteRun(admin, ns, {
        wait: false,
        clock: systemClock,
        pollMs: 500,
        timeoutMs: 0,
      }).catch((e: unknown) => e);
      expect(isFathomError(err, 'FATHOM_RUN_NOT_FOUND')).toBe(true);
      for (const ref of checksRefs(ns).filter((r) => r.kind !== 'Lease')) {
        expect(
          await admin.find(kindPath(ref), `reading ${ref.kind}`),
          `${ref.kind} ${ref.name}`,
        ).toBeDefined();
      }
    });

    it('down deletes everything up made and waits until the pods are gone', async () => {
      const down = await kubeChecksDown({
        client: admin,
        clock: systemClock,
        namespace: ns,
        timeoutMs: 90_000,
        pollMs: 500,
      });
      expect(down.deleted).toContain(`DaemonSet ${ns}/fathom-checks-agent`);
      expect(down.deleted).toContain(`ClusterRole fathom-checks-agent-${ns}`);
      for (const ref of checksRefs(ns)) {
        const left = await admin.find<KubeObject>(kindPath(ref), `reading ${ref.kind}`);
        // Foreground deletion: the workloads are gone only once their pods are.
        expect(left, `${ref.kind} ${ref.name}`).toBeUndefined();
      }
      const pods = await admin.list<Pod>(resourcePath('', 'pods', ns), 'listing pods');
      expect(pods.items).toEqual([]);
      expect(
        (await kubeChecksDown({ client: admin, clock: systemClock, namespace: ns, timeoutMs: 0 }))
          .deleted,
      ).toEqual([]);
      const call = await kubeDispatcherCall(
        { client: admin, namespace: ns },
        'GET',
        '/api/v1/clusterchecks',
      ).catch((e: unknown) => e);
      expect(isFathomError(call, 'FATHOM_DISPATCHER_UNAVAILABLE')).toBe(true);
    });
  },
);

const processes = cluster !== null && hasCheckProcesses();

describe.skipIf(!processes)(
  `cluster checks pods end to end${processes ? '' : ' (skipped: no test cluster, or the built CLI has no `fathom dispatcher`/`fathom agent`)'}`,
  () => {
    const ns = `checks-e2e-${hex()}`;
    let admin: KubeClient;
    let runner: TestPodRunner;
    let proxy: net.Server & { failures: string[] };
    let dir: string;
    const stopped: number[] = [];

    const state = async (): Promise<StateAnswer | undefined> => {
      const answer = await kubeDispatcherCall(
        { client: admin, namespace: ns },
        'GET',
        '/api/v1/clusterchecks',
      ).catch(() => undefined);
      return answer?.status === 200 ? (answer.body as StateAnswer) : undefined;
    };

    /** Asks until `ok`, up to `ms`: the processes run on the real clock, on their own schedule. */
    async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > deadline) {
          throw new Error(
            `not within ${ms} ms: ${what}; state: ${JSON.stringify(await state())}\nforwarder: ${proxy.failures.join('\n')}\n${await podLogTails(admin, runner, ns)}`,
          );
        }
        await delay(250);
      }
    }

    beforeAll(async () => {
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      dir = await mkdtemp(join(tmpdir(), 'fathom-kchecks-e2e-'));
      runner = await startTestPodRunner(cluster!.kubeconfig, { count: 3 });
      proxy = await startServiceForwarder(admin, ns);
    });
    afterAll(async () => {
      for (const pid of stopped) {
        try {
          process.kill(-pid, 'SIGCONT');
        } catch {
          // gone
        }
      }
      await kubeChecksDown({
        client: admin,
        clock: systemClock,
        namespace: ns,
        timeoutMs: 60_000,
      }).catch(() => undefined);
      await admin
        ?.remove(resourcePath('', 'namespaces', undefined, ns), `deleting ${ns}`)
        .catch(() => false);
      await runner?.stop();
      proxy?.close();
      admin?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it(
      '2 replicas and an agent per node: every check on exactly one agent, through agent loss and leader loss',
      { timeout: 300_000 },
      async () => {
        const configs = join(dir, 'configs');
        await mkdir(configs);
        await writeFile(join(configs, 'checks.yaml'), checkFile);
        const port = (proxy.address() as net.AddressInfo).port;
        const runnerOnly = ['fathom.test/runner=true'];
        await kubeChecksUp({
          client: admin,
          clock: systemClock,
          spec: checksSpec({
            namespace: ns,
            replicas: 2,
            nodeExpiration: '3s',
            warmup: '1s',
            poll: '1s',
            nodeSelector: runnerOnly,
            dispatcherNodeSelector: runnerOnly,
            dispatcherUrl: `https://127.0.0.1:${port}`,
          }),
          configsDir: configs,
          extraHosts: ['127.0.0.1'],
          timeoutMs: 120_000,
          pollMs: 500,
        });
        const nodes = runner.nodes;
        await until(
          'every check on exactly one agent',
          async () => exactlyOnce(CHECKS, await state(), nodes),
          90_000,
        );

        // An agent stops answering (partitioned): its node expires and its checks move.
        const agents = await admin.list<Pod>(resourcePath('', 'pods', ns), 'listing agents', {
          labelSelector: 'fathom-component=checks-agent',
        });
        const victim = agents.items.find((p) => p.spec?.nodeName === nodes[0])!;
        const pid = runner.containerPid(ns, victim.metadata.name, 'agent')!;
        process.kill(-pid, 'SIGSTOP');
        stopped.push(pid);
        await until(
          'checks re-dispatched off the stopped agent',
          async () => exactlyOnce(CHECKS, await state(), nodes.slice(1)),
          60_000,
        );

        // The leader goes: the other replica takes the Lease, warms up, and dispatches again.
        const before = await state();
        const leader = before!.leader!;
        await admin.remove(resourcePath('', 'pods', ns, leader), `deleting the leader ${leader}`, {
          gracePeriodSeconds: 0,
        });
        await until(
          'a new leader with every check on exactly one live agent',
          async () => {
            const s = await state();
            return !!s && s.leader !== leader && exactlyOnce(CHECKS, s, nodes.slice(1));
          },
          120_000,
        );
      },
    );
  },
);
