/**
 * Helpers of kubernetes-checks.test.ts: service-account clients and access reviews, a dispatcher
 * replica on loopback, kube-proxy's part for agents, and what the state must show.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { Pod } from '../../src/backends/kubernetes/api/types.js';
import { readChecksToken } from '../../src/backends/kubernetes/checks/secrets.js';
import { ChecksHandler } from '../../src/checks/handler.js';
import { dispatcherMetrics } from '../../src/checks/metrics.js';
import { startDispatcherServer } from '../../src/checks/server.js';
import { ManualClock } from '../../src/core/clock.js';
import { fathomBin } from '../support/cli.js';
import type { PodRunner } from '../podrunner/runner.js';
import type { ProvidedCluster } from './context.js';

const hex = (): string => randomBytes(3).toString('hex');

/** The admin's kubeconfig with a service account's token instead, to ask what it may do. */
export async function serviceAccountClient(
  cluster: ProvidedCluster,
  admin: KubeClient,
  dir: string,
  namespace: string,
  sa: string,
): Promise<KubeClient> {
  const req = await admin.create<{ status: { token: string } }>(
    `${resourcePath('', 'serviceaccounts', namespace, sa)}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    },
    `requesting a token for ${sa}`,
  );
  const doc = parse(await readFile(cluster.kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
  };
  const path = join(dir, `${sa}.kubeconfig`);
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: cluster.server,
            'certificate-authority-data': doc.clusters[0]!.cluster['certificate-authority-data'],
          },
        },
      ],
      users: [{ name: sa, user: { token: req.status.token } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: sa } }],
      'current-context': 'x',
    }),
  );
  return createKubeClient(resolveKubeconfig({ kubeconfig: path }));
}

export async function can(client: KubeClient, attrs: Record<string, string>): Promise<boolean> {
  const review = await client.create<{ status: { allowed: boolean } }>(
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attrs },
    },
    'reviewing access',
  );
  return review.status.allowed;
}

/**
 * Whether the built CLI has the dispatcher and agent processes (another change adds them). An
 * unknown command's `--help` prints the program's help and exits 0, so the usage line decides.
 */
export function hasCheckProcesses(): boolean {
  const has = (cmd: string): boolean => {
    const r = spawnSync(process.execPath, [fathomBin, cmd, '--help'], { encoding: 'utf8' });
    return r.status === 0 && r.stdout.includes(`Usage: fathom ${cmd} `);
  };
  return has('dispatcher') && has('agent');
}

export interface StateAnswer {
  readonly warmup: boolean;
  readonly leader?: string;
  readonly nodes: readonly {
    readonly name: string;
    /** The newest original's entries: each config with the instance IDs it runs as. */
    readonly configs: readonly { readonly config: { readonly name: string } }[];
  }[];
  readonly dangling: readonly unknown[];
}

interface ServiceLike {
  spec: {
    selector?: Record<string, string>;
    ports: { targetPort?: number | string; port: number }[];
  };
}
interface PodLike {
  metadata: { deletionTimestamp?: string };
  spec?: { containers: { ports?: { name?: string; containerPort: number }[] }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
  };
}

/**
 * The Service's ready endpoints as the EndpointSlice controller would list them: pods its
 * selector picks that are Ready, have an IP and are not going away, at its (first) target port.
 * The real EndpointSlices stay empty here: the API refuses loopback endpoint addresses, and the
 * pod runner's pod IPs are all on loopback.
 */
export async function serviceEndpoints(
  admin: KubeClient,
  ns: string,
  service: string,
): Promise<{ ip: string; port: number }[]> {
  const svc = await admin.get<ServiceLike>(
    resourcePath('', 'services', ns, service),
    `reading Service ${service}`,
  );
  const selector = Object.entries(svc.spec.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const { port, targetPort = port } = svc.spec.ports[0]!;
  const pods = await admin.list<PodLike>(resourcePath('', 'pods', ns), 'listing its pods', {
    labelSelector: selector,
  });
  return pods.items.flatMap((p) => {
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    const ip = p.status?.podIP;
    if (!ready || terminal || !ip || p.metadata.deletionTimestamp) return [];
    const at =
      typeof targetPort === 'number'
        ? targetPort
        : p.spec?.containers.flatMap((c) => c.ports ?? []).find((q) => q.name === targetPort)
            ?.containerPort;
    return at === undefined ? [] : [{ ip, port: at }];
  });
}

/**
 * kube-proxy's part: a connection goes to a ready endpoint of the Service, round robin. Why the
 * last connections were dropped is kept in `failures`, for a failing wait to show.
 */
export async function startServiceForwarder(
  admin: KubeClient,
  ns: string,
  service = 'fathom-checks',
): Promise<net.Server & { failures: string[] }> {
  let next = 0;
  const failures: string[] = [];
  const failed = (why: string): void => {
    failures.push(`${new Date().toISOString()} ${why}`);
    if (failures.length > 10) failures.shift();
  };
  const server = net.createServer((socket) => {
    socket.pause();
    void serviceEndpoints(admin, ns, service).then(
      (endpoints) => {
        if (endpoints.length === 0) {
          failed(`Service ${service}: no ready endpoint`);
          return socket.destroy();
        }
        const { ip, port } = endpoints[next++ % endpoints.length]!;
        const upstream = net.connect(port, ip);
        upstream.on('error', (err) => {
          failed(`${ip}:${port}: ${err.message}`);
          socket.destroy();
        });
        socket.on('error', () => upstream.destroy());
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      },
      (err: unknown) => {
        failed(`Service ${service}: ${String(err)}`);
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { failures });
}

/** Every check on exactly one of `live`, nothing dangling, past warmup. */
export function exactlyOnce(
  checks: readonly string[],
  s: StateAnswer | undefined,
  live: readonly string[],
): boolean {
  if (!s || s.warmup || s.dangling.length > 0) return false;
  const placed = s.nodes.flatMap((n) => n.configs.map((c) => `${c.config.name}@${n.name}`));
  const names = placed.map((p) => p.split('@')[0]!).sort();
  return (
    JSON.stringify(names) === JSON.stringify([...checks].sort()) &&
    placed.every((p) => live.includes(p.split('@')[1]!))
  );
}

/**
 * A dispatcher replica on this machine, as the pod runner gives them: a real dispatcher server
 * on a loopback pod IP with the Secrets' pair and token, behind a Pod and the Lease.
 */
export async function startLoopbackReplica(
  admin: KubeClient,
  ns: string,
): Promise<{ pod: string; close: () => Promise<void> }> {
  const secret = await admin.get<{ data: Record<string, string> }>(
    resourcePath('', 'secrets', ns, 'fathom-checks-tls'),
    'reading',
  );
  const pem = (k: string): string => Buffer.from(secret.data[k]!, 'base64').toString('utf8');
  const token = (await readChecksToken(admin, ns))!;
  const ip = `127.${100 + (randomBytes(1)[0]! % 100)}.${randomBytes(1)[0]!}.${1 + (randomBytes(1)[0]! % 250)}`;
  const pod = `replica-${hex()}`;
  await admin.create(
    resourcePath('', 'pods', ns),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace: ns },
      spec: {
        nodeName: `nowhere-${hex()}`,
        serviceAccountName: 'fathom-checks-dispatcher',
        automountServiceAccountToken: false,
        containers: [{ name: 'dispatcher', image: 'fathom:test' }],
      },
    },
    'creating the replica pod',
  );
  await admin.request(
    'PATCH',
    `${resourcePath('', 'pods', ns, pod)}/status`,
    'setting its status',
    {
      body: {
        status: {
          phase: 'Running',
          podIP: ip,
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      contentType: 'application/merge-patch+json',
    },
  );
  await admin.create(
    resourcePath('coordination.k8s.io', 'leases', ns),
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'fathom-checks' },
      spec: { holderIdentity: pod, leaseDurationSeconds: 15 },
    },
    'creating the Lease',
  );
  const clock = new ManualClock(Date.now());
  const ref: { handler?: ChecksHandler } = {};
  const metrics = dispatcherMetrics(() => ref.handler);
  const handler = (ref.handler = new ChecksHandler({
    clock,
    warmupMs: 30_000,
    dispatcher: {
      strategy: 'count',
      nodeExpirationMs: 30_000,
      unscheduledThresholdMs: 60_000,
      rebalancePeriodMs: 600_000,
      minImprovementPercent: 10,
      checkIds: (c) => c.instances.map((_, i) => `${c.name}:${i}`),
      random: () => 0,
      observer: metrics.observer,
    },
  }));
  const server = await startDispatcherServer({
    handler,
    clock,
    token,
    registry: metrics.registry,
    nodeExpirationMs: 30_000,
    identity: pod,
    tls: { certPem: pem('tls.crt'), keyPem: pem('tls.key') },
    forward: { timeoutMs: 5000, maxConnections: 2 },
    host: ip,
    port: 5005,
  });
  return {
    pod,
    close: async () => {
      await handler.stop();
      await server.close();
      await admin.remove(resourcePath('', 'pods', ns, pod), 'deleting the replica pod', {
        gracePeriodSeconds: 0,
      });
    },
  };
}

/** The last lines each container of the namespace's pods logged, to say why a wait failed. */
export async function podLogTails(
  admin: KubeClient,
  runner: PodRunner,
  ns: string,
  lines = 15,
): Promise<string> {
  const pods = await admin.list<Pod>(resourcePath('', 'pods', ns), 'listing pods');
  const out: string[] = [];
  for (const pod of pods.items) {
    for (const c of pod.spec?.containers ?? []) {
      const log = await runner
        .podLogs(ns, pod.metadata.name, c.name)
        .catch((e: unknown) => `(${String(e)})`);
      const tail = log.trimEnd().split('\n').slice(-lines).join('\n');
      out.push(`--- ${pod.metadata.name}/${c.name} on ${pod.spec?.nodeName ?? '?'}:\n${tail}`);
    }
  }
  return out.join('\n');
}
