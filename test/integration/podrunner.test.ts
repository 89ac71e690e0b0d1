/**
 * The test pod runner against the real control plane: its nodes register and stay Ready,
 * pods bound to them run as local processes with their env, volumes and service-account
 * credentials, and the real controllers' Jobs and DaemonSets run on them. Waits on watch
 * events (and on the pod dir for log lines), never on timers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { kubeHttpFromKubeconfig } from '../cluster/kube.js';
import type { KubeHttp, KubeObject } from '../cluster/kube.js';
import { startTestPodRunner } from '../podrunner/fixture.js';
import type { TestPodRunner } from '../podrunner/fixture.js';
import { RUNNER_LABEL } from '../podrunner/node.js';
import { whenInDir } from '../support/wait.js';

const { cluster, skipReason } = providedCluster();

interface ContainerStatus {
  name: string;
  restartCount: number;
  state: {
    waiting?: { reason: string };
    running?: object;
    terminated?: { exitCode: number; reason: string };
  };
  lastState: { terminated?: { exitCode: number } };
}
interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
interface Node extends KubeObject {
  spec: { taints?: object[] };
  status?: { conditions?: { type: string; status: string }[] };
}

const IMAGE = 'registry.example/never-pulled:1';
const node = (script: string, extra: object = {}): object => ({
  image: IMAGE,
  command: ['node', '-e', script],
  ...extra,
});
const finished = (p: Pod | undefined): boolean =>
  p?.status?.phase === 'Succeeded' || p?.status?.phase === 'Failed';
const ready = (p: Pod): boolean =>
  p.status?.phase === 'Running' &&
  Boolean(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/** POSTs a SelfSubjectReview with the pod's own token and prints what the pod saw. */
const IN_POD_SCRIPT = `
const fs = require('fs'), https = require('https');
const sa = process.env.FATHOM_SERVICEACCOUNT_DIR;
const [fromInitPath, greetingPath] = process.argv.slice(1);
const req = https.request({
  host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
  method: 'POST', path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
  ca: fs.readFileSync(sa + '/ca.crt'),
  headers: { authorization: 'Bearer ' + fs.readFileSync(sa + '/token', 'utf8'), 'content-type': 'application/json' },
}, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    const user = JSON.parse(body).status.userInfo;
    console.log(JSON.stringify({
      fromInit: fs.readFileSync(fromInitPath, 'utf8'),
      greeting: fs.readFileSync(greetingPath, 'utf8'),
      password: process.env.PASSWORD,
      podName: process.env.POD_NAME,
      podIP: process.env.POD_IP,
      namespace: fs.readFileSync(sa + '/namespace', 'utf8'),
      user: user.username,
      boundPod: user.extra['authentication.kubernetes.io/pod-name'],
    }));
  });
});
req.on('error', (e) => { console.error(e); process.exit(2); });
req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
`;

describe.skipIf(!cluster)(`test pod runner${cluster ? '' : ` (skipped: ${skipReason})`}`, () => {
  let api: KubeHttp;
  let runner: TestPodRunner;
  let nodes: readonly string[];
  const ns = `fathom-pr-${Date.now().toString(36)}`;
  const pods = `/api/v1/namespaces/${ns}/pods`;

  const podUntil = <R>(name: string, until: (p: Pod | undefined) => R | undefined): Promise<R> =>
    api.waitForList<Pod, R>(`${pods}?fieldSelector=metadata.name%3D${name}`, (objects) =>
      until(objects.get(`${ns}/${name}`)),
    );
  const logLine = (pod: string, container: string, text: string): Promise<string> =>
    whenInDir(runner.podDir(ns, pod)!, async () => {
      const log = await runner.podLogs(ns, pod, container);
      return log.includes(text) ? log : undefined;
    });

  beforeAll(async () => {
    api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    await api.waitForList(`/api/v1/namespaces/${ns}/serviceaccounts`, (sas) =>
      sas.has(`${ns}/default`) ? true : undefined,
    );
    runner = await startTestPodRunner(cluster!.kubeconfig, {
      count: 2,
      restartBackoff: { initialMs: 100, maxMs: 400 },
      heartbeatMs: 1000,
    });
    nodes = runner.nodes;
  });

  afterAll(async () => {
    await runner?.stop();
    await api?.request('DELETE', `/api/v1/namespaces/${ns}`);
    api?.close();
  });

  it('registers its nodes Ready, untainted, labelled, and keeps their leases fresh', async () => {
    const selector = encodeURIComponent(`${RUNNER_LABEL}=true`);
    const names = await api.waitForList<Node, string[]>(
      `/api/v1/nodes?labelSelector=${selector}`,
      (objects) => {
        const ok = [...objects.values()].filter(
          (n) =>
            nodes.includes(n.metadata.name) &&
            !n.spec.taints?.length &&
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ok.length === nodes.length ? ok.map((n) => n.metadata.name).sort() : undefined;
      },
    );
    expect(names).toEqual(nodes);

    type Lease = KubeObject & { spec: { holderIdentity: string; renewTime: string } };
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?fieldSelector=metadata.name%3D${nodes[0]}`;
    const first = await api.waitForList<Lease, Lease>(leasePath, (l) => [...l.values()][0]);
    expect(first.spec.holderIdentity).toBe(nodes[0]);
    const renewed = await api.waitForList<Lease, Lease>(leasePath, (l) => {
      const lease = [...l.values()][0];
      return lease && lease.spec.renewTime !== first.spec.renewTime ? lease : undefined;
    });
    expect(Date.parse(renewed.spec.renewTime)).toBeGreaterThan(Date.parse(first.spec.renewTime));
  });

  it('runs a pod: secret env, configMap file, emptyDir shared with an init container, in-cluster credentials', async () => {
    await api.create(`/api/v1/namespaces/${ns}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds' },
      stringData: { password: 'hunter2' },
    });
    await api.create(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'conf' },
      data: { 'greeting.txt': 'hello from a configmap' },
    });
    await api.create(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'full' },
      spec: {
        nodeName: nodes[0],
        restartPolicy: 'Never',
        volumes: [
          { name: 'shared', emptyDir: {} },
          { name: 'conf', configMap: { name: 'conf' } },
        ],
        initContainers: [
          {
            name: 'prepare',
            ...node('require("fs").writeFileSync(process.argv[1], "written by init")', {
              args: ['/work/from-init'],
              volumeMounts: [{ name: 'shared', mountPath: '/work' }],
            }),
          },
        ],
        containers: [
          {
            name: 'main',
            ...node(IN_POD_SCRIPT, {
              args: ['/shared/from-init', '/etc/fathom/greeting.txt'],
              env: [
                {
                  name: 'PASSWORD',
                  valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } },
                },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              volumeMounts: [
                { name: 'shared', mountPath: '/shared' },
                { name: 'conf', mountPath: '/etc/fathom', readOnly: true },
              ],
            }),
          },
        ],
      },
    });
    const pod = await podUntil('full', (p) => (finished(p) ? p : undefined));
    const out = await runner.podLogs(ns, 'full', 'main');
    expect(pod.status?.phase, out).toBe('Succeeded');
    expect(pod.status?.initContainerStatuses?.[0]?.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(pod.status?.containerStatuses?.[0]?.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(pod.status?.podIP).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(pod.status?.hostIP).toBe(runner.nodeIP(nodes[0]!));
    expect(pod.status?.conditions?.map((c) => c.type).sort()).toEqual(
      [
        'ContainersReady',
        'Initialized',
        'PodReadyToStartContainers',
        'PodScheduled',
        'Ready',
      ].sort(),
    );
    // The real pods/log API reads the same log through the runner's containerLogs endpoint.
    const viaApi = await api.request('GET', `${pods}/full/log?container=main`);
    expect([viaApi.status, viaApi.text]).toEqual([200, out]);
    const init = await api.request('GET', `${pods}/full/log?container=prepare`);
    expect([init.status, init.text]).toEqual([200, '']);
    expect(JSON.parse(out)).toEqual({
      fromInit: 'written by init',
      greeting: 'hello from a configmap',
      password: 'hunter2',
      podName: 'full',
      podIP: pod.status?.podIP,
      namespace: ns,
      user: `system:serviceaccount:${ns}:default`,
      boundPod: ['full'],
    });
  });

  it('restarts a crash-looping pod with backoff, counting restarts', async () => {
    await api.create(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'crasher' },
      spec: { nodeName: nodes[1], containers: [{ name: 'c', ...node('process.exit(1)') }] },
    });
    const reasons = new Set<string>();
    const status = await podUntil('crasher', (p) => {
      const c = p?.status?.containerStatuses?.[0];
      if (c?.state.waiting) reasons.add(c.state.waiting.reason);
      return c && c.restartCount > 2 ? { phase: p.status?.phase, c } : undefined;
    });
    expect(status.phase).toBe('Running');
    expect(status.c.lastState.terminated?.exitCode).toBe(1);
    expect(reasons).toContain('CrashLoopBackOff');
  });

  it('runs a Job created through the batch API on a runner node, and the Job completes', async () => {
    await api.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { [RUNNER_LABEL]: 'true' },
            containers: [
              {
                name: 'job',
                ...node('console.log("job ran on " + process.env.NODE_NAME)', {
                  env: [
                    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  ],
                }),
              },
            ],
          },
        },
      },
    });
    type Job = KubeObject & {
      status?: { succeeded?: number; conditions?: { type: string; status: string }[] };
    };
    const job = await api.waitForList<Job, Job>(
      `/apis/batch/v1/namespaces/${ns}/jobs?fieldSelector=metadata.name%3Donce`,
      (jobs) => {
        const j = jobs.get(`${ns}/once`);
        return j?.status?.conditions?.some(
          (c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
        )
          ? j
          : undefined;
      },
    );
    expect(job.status?.conditions).toContainEqual(
      expect.objectContaining({ type: 'Complete', status: 'True' }),
    );
    expect(job.status?.succeeded).toBe(1);
    const { items } = await api.get<{ items: Pod[] }>(`${pods}?labelSelector=job-name%3Donce`);
    expect(items).toHaveLength(1);
    const pod = items[0]!;
    expect(nodes).toContain(pod.spec.nodeName);
    expect(await runner.podLogs(ns, pod.metadata.name, 'job')).toBe(
      `job ran on ${pod.spec.nodeName}\n`,
    );
    const log = await api.request('GET', `${pods}/${pod.metadata.name}/log?tailLines=1`);
    expect([log.status, log.text]).toEqual([200, `job ran on ${pod.spec.nodeName}\n`]);
  });

  it('runs a DaemonSet selecting fathom.test/runner=true on every runner node, each pod with its own IP', async () => {
    await api.create(`/apis/apps/v1/namespaces/${ns}/daemonsets`, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'everyrunner' },
      spec: {
        selector: { matchLabels: { app: 'everyrunner' } },
        template: {
          metadata: { labels: { app: 'everyrunner' } },
          spec: {
            nodeSelector: { [RUNNER_LABEL]: 'true' },
            containers: [{ name: 'd', ...node('setInterval(() => {}, 1 << 30)') }],
          },
        },
      },
    });
    const placed = await api.waitForList<Pod, Pod[]>(
      `${pods}?labelSelector=app%3Deveryrunner`,
      (objects) => {
        const list = [...objects.values()];
        return list.length === nodes.length && list.every(ready) ? list : undefined;
      },
    );
    expect(placed.map((p) => p.spec.nodeName).sort()).toEqual(nodes);
    const ips = placed.map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(nodes.length);
    for (const ip of ips) expect(ip).toMatch(/^127\.0\.\d+\.\d+$/);

    type Ds = KubeObject & { status?: Record<string, number> };
    const ds = await api.waitForList<Ds, Record<string, number>>(
      `/apis/apps/v1/namespaces/${ns}/daemonsets?fieldSelector=metadata.name%3Deveryrunner`,
      (sets) => {
        const s = sets.get(`${ns}/everyrunner`)?.status;
        return s?.numberReady === nodes.length ? s : undefined;
      },
    );
    expect(ds).toMatchObject({ desiredNumberScheduled: nodes.length, numberMisscheduled: 0 });
  });

  it('stops the process of a deleted pod with SIGTERM, then removes the pod', async () => {
    await api.create(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'doomed' },
      spec: {
        nodeName: nodes[0],
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'c',
            ...node(
              'process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(0); }); console.log("ready"); setInterval(() => {}, 1 << 30)',
            ),
          },
        ],
      },
    });
    await podUntil('doomed', (p) => (p && ready(p) ? true : undefined));
    await logLine('doomed', 'c', 'ready');
    const pid = runner.containerPid(ns, 'doomed', 'c')!;
    expect(() => process.kill(pid, 0)).not.toThrow();

    const del = await api.request('DELETE', `${pods}/doomed`);
    expect(del.status).toBe(200);
    await podUntil('doomed', (p) => (p === undefined ? true : undefined));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(await runner.podLogs(ns, 'doomed', 'c')).toBe('ready\ngot SIGTERM\n');
  });
});
