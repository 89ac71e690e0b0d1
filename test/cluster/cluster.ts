/**
 * A real Kubernetes control plane on loopback for the integration tests and `cluster:up`:
 * etcd, kube-apiserver, kube-controller-manager and kube-scheduler, with nodes simulated by
 * kwok. Certificates are generated per cluster; every process is started in its own process
 * group and `stop()` ends exactly those.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import type { Clock } from '../../src/core/clock.js';
import { KUBERNETES_VERSION, ensureClusterBinaries } from './binaries.js';
import type { ClusterBinaries } from './binaries.js';
import { createKubeHttp, renderKubeconfig } from './kube.js';
import type { KubeCredentials, KubeHttp } from './kube.js';
import { USERS, clusterPaths, componentArgs, componentEnv, servingHosts } from './layout.js';
import type { ClusterLayout, ClusterUser } from './layout.js';
import { KWOK_TYPE_LABEL, nodeIsReady, nodeManifests, resolvePools } from './nodes.js';
import type { NodePool } from './nodes.js';
import { createClusterPki } from './pki.js';
import { logTail, restartProcess, rssKib, startProcess, stopProcesses } from './processes.js';
import type { Component, RestartOptions, StartedProcess } from './processes.js';
import { liveProcesses, readState, writeState } from './state.js';
import { pollUntil } from './wait.js';
import { hostAddress } from '../support/net.js';

export interface ClusterOptions {
  /** How many simulated nodes in total; pools take theirs first, the rest go to pool `default`. */
  nodes: number;
  pools?: NodePool[];
  /** Where certificates, kubeconfigs, logs and etcd data go; a temp dir (removed by stop) when absent. */
  dir?: string;
  /** Drives the readiness polls; the real clock by default. */
  clock?: Clock;
  /** Prebuilt binaries; otherwise build.sh is run (and builds when the cache is cold). */
  binaries?: ClusterBinaries;
  /** How long to wait for the API and the nodes to become ready. */
  timeoutMs?: number;
  /** Progress lines; stderr by default. */
  log?: (line: string) => void;
  /** Extra flags per component (e.g. `--kube-api-qps` for benchmarks). */
  extraArgs?: Partial<Record<Component, string[]>>;
}

export interface ClusterStats {
  /** From start to API ready and all nodes Ready (binaries already built). */
  readonly startMs: number;
  readonly rssKib: Readonly<Record<Component, number | undefined>>;
}

export interface TestCluster {
  /** Path of an admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  readonly server: string;
  readonly pids: Readonly<Record<Component, number>>;
  readonly dir: string;
  readonly nodeNames: readonly string[];
  readonly stats: ClusterStats;
  /** An admin API client; closed by stop(). */
  readonly api: KubeHttp;
  /**
   * Stops one component by its pid (SIGTERM, then SIGKILL after `graceMs`, 10 s by default),
   * runs `whileDown` if given, and starts it again with the same arguments, appending to its
   * log; resolves once the API server answers /readyz again. `pids` then names the new process.
   */
  restart(component: Component, options?: RestartOptions): Promise<void>;
  /** Stops every process this cluster started, waits for them, removes what it created. */
  stop(): Promise<void>;
  /** Lets this Node process exit while the cluster keeps running (`cluster:up`). */
  detach(): void;
}

/** Distinct free loopback ports: all listeners are held open until every port is known. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** A non-loopback IPv4 for the `kubernetes` Service's endpoints (the API rejects loopback there). */
const advertiseAddress = (): string => hostAddress() ?? '127.0.0.1';

const writePrivate = (path: string, content: string): Promise<void> =>
  writeFile(path, content, { mode: 0o600 });

/** Runs `fn` over `items` with at most `limit` in flight. */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Writes the CA, serving cert, service-account keys and one kubeconfig per user. */
async function writePki(
  layout: ClusterLayout,
  server: string,
  now: number,
): Promise<KubeCredentials> {
  const p = clusterPaths(layout.dir);
  const ca = await createClusterPki({ now });
  const serving = await ca.servingCert(servingHosts(layout));
  const sa = await ca.serviceAccountKeys();
  await writeFile(p.caCert, ca.caPem);
  await writeFile(p.servingCert, serving.certPem);
  await writePrivate(p.servingKey, serving.keyPem);
  await writeFile(p.saPublic, sa.publicKeyPem);
  await writePrivate(p.saPrivate, sa.privateKeyPem);
  let admin: KubeCredentials | undefined;
  for (const name of Object.keys(USERS) as ClusterUser[]) {
    const cert = await ca.clientCert(USERS[name]);
    const creds = { caPem: ca.caPem, certPem: cert.certPem, keyPem: cert.keyPem };
    if (name === 'admin') admin = creds;
    const kubeconfig = renderKubeconfig({ server, creds, user: USERS[name].user });
    await writePrivate(p.kubeconfig(name), kubeconfig);
  }
  return admin!;
}

/** Starts a control plane with `options.nodes` simulated nodes and waits until it is ready. */
export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pools = resolvePools(options.nodes, options.pools);
  let binaries = options.binaries;
  if (!binaries) {
    const found = await ensureClusterBinaries();
    if (!found.ok) throw new Error(found.reason);
    binaries = found.binaries;
  }

  const ownsDir = !options.dir;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'fathom-cluster-')));
  const paths = clusterPaths(dir);
  const previous = await readState(dir);
  const running = previous ? await liveProcesses(previous) : [];
  if (running.length > 0) {
    const pids = running.map((p) => p.pid).join(', ');
    throw new Error(`${dir} holds a running cluster (pids ${pids}); stop it: npm run cluster:down`);
  }
  await rm(paths.etcdData, { recursive: true, force: true }); // stale data of a crashed run
  await Promise.all(
    [paths.pki, paths.logs, paths.kwokHome].map((d) => mkdir(d, { recursive: true })),
  );

  const t0 = clock.now();
  const [etcd, etcdPeer, apiserver] = (await freePorts(3)) as [number, number, number];
  const layout: ClusterLayout = {
    dir,
    ports: { etcd, etcdPeer, apiserver },
    advertise: advertiseAddress(),
    kwokStages: binaries.kwokStages,
  };
  const server = `https://127.0.0.1:${apiserver}`;
  const api = createKubeHttp(server, await writePki(layout, server, clock.now()), 10_000);
  const args = componentArgs(layout);
  const env = componentEnv(layout);

  const started: StartedProcess[] = [];
  const record = (): Promise<void> =>
    writeState(dir, {
      server,
      kubeconfig: paths.kubeconfig('admin'),
      ownsDir,
      processes: started.map(({ component, pid, binary, log }) => ({
        component,
        pid,
        binary,
        log,
      })),
    });
  const start = async (c: Component): Promise<void> => {
    const argv = [...args[c], ...(options.extraArgs?.[c] ?? [])];
    const childEnv = env[c] ? { ...process.env, ...env[c] } : process.env;
    started.push(await startProcess(c, binaries[c], argv, { log: paths.log(c), env: childEnv }));
    // Recorded at once, so cluster:down finds even a half-started cluster.
    await record();
  };
  const exitedComponent = async (): Promise<string | undefined> => {
    const dead = started.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (!dead) return undefined;
    const how = dead.child.exitCode ?? dead.child.signalCode;
    return `${dead.component} exited (${how}); last lines of ${dead.log}:\n${await logTail(dead.log)}`;
  };
  const poll = {
    clock,
    intervalMs: 250,
    timeoutMs: options.timeoutMs ?? 180_000,
    fatal: exitedComponent,
  };
  const keep = (): boolean => !ownsDir || Boolean(process.env.FATHOM_CLUSTER_KEEP);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      api.close();
      await stopProcesses(started, clock);
      if (!keep()) return rm(dir, { recursive: true, force: true });
      await rm(paths.etcdData, { recursive: true, force: true });
      await writeState(dir, undefined);
    })());

  const apiReady = (): Promise<true> =>
    pollUntil(
      'kube-apiserver /readyz',
      async () => ((await api.request('GET', '/readyz')).status === 200 ? true : undefined),
      poll,
    );
  const manifests = nodeManifests(pools, `${KUBERNETES_VERSION}-kwok`);
  try {
    await start('etcd');
    await start('kube-apiserver');
    await apiReady();
    for (const c of ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const) await start(c);

    await eachLimit(manifests, 16, async (node) => {
      const res = await api.request('POST', '/api/v1/nodes', node);
      if (res.status !== 201 && res.status !== 409)
        throw new Error(`creating a node: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    });
    const selector = encodeURIComponent(`${KWOK_TYPE_LABEL.key}=${KWOK_TYPE_LABEL.value}`);
    await pollUntil(
      `${manifests.length} kwok nodes Ready`,
      async () => {
        const list = await api.get<{ items: Parameters<typeof nodeIsReady>[0][] }>(
          `/api/v1/nodes?labelSelector=${selector}`,
        );
        return list.items.filter(nodeIsReady).length >= manifests.length ? true : undefined;
      },
      poll,
    );
    // Pods are admitted only once the controller-manager has made the default ServiceAccount.
    await pollUntil(
      'default ServiceAccount',
      async () => {
        const res = await api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
        return res.status === 200 ? true : undefined;
      },
      poll,
    );
  } catch (err) {
    const tails = await Promise.all(
      started.map(async (p) => `--- ${p.component} (${p.log}):\n${await logTail(p.log, 8)}`),
    );
    await stop().catch(() => undefined);
    const hint = keep() ? '' : '\n(logs removed; set FATHOM_CLUSTER_KEEP=1 to keep them)';
    throw new Error(
      `test cluster did not start: ${(err as Error).message}\n${tails.join('\n')}${hint}`,
      { cause: err },
    );
  }

  const startMs = clock.now() - t0;
  const rss = {} as Record<Component, number | undefined>;
  for (const p of started) rss[p.component] = await rssKib(p.pid);
  const mib = (k: number | undefined): string =>
    k === undefined ? '?' : `${Math.round(k / 1024)} MiB`;
  log(
    `test cluster ready in ${(startMs / 1000).toFixed(1)} s at ${server} with ${manifests.length} kwok nodes; ` +
      `RSS ${started.map((p) => `${p.component} ${mib(rss[p.component])}`).join(', ')}`,
  );

  return {
    kubeconfig: paths.kubeconfig('admin'),
    server,
    dir,
    get pids() {
      return Object.fromEntries(started.map((p) => [p.component, p.pid])) as Record<
        Component,
        number
      >;
    },
    nodeNames: manifests.map((n) => (n as { metadata: { name: string } }).metadata.name),
    stats: { startMs, rssKib: rss },
    api,
    async restart(component, restartOptions = {}) {
      const i = started.findIndex((p) => p.component === component);
      if (i < 0 || stopped) throw new Error(`${component} is not running in this cluster`);
      started[i] = await restartProcess(started[i]!, clock, restartOptions);
      await record();
      await apiReady();
    },
    stop,
    detach() {
      for (const p of started) p.child.unref();
      api.close();
    },
  };
}
