/**
 * The test pod runner: plays the kubelet for a few nodes of its own so that fathom's pods run
 * as local processes in end-to-end tests (kwok's nodes run nothing). See README.md for what
 * it does and does not do, the path rewrite and the pod IPs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import type { Clock } from '../../src/core/clock.js';
import { DEFAULT_RESTART_BACKOFF, DEFAULT_RETRY_BACKOFF } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { createIpPool } from './ips.js';
import { createRunnerApi } from './kube.js';
import type { PodWatch, RunnerApi } from './kube.js';
import { startKubeletEndpoints } from './logs.js';
import type { KubeletEndpoints, LogTarget } from './logs.js';
import { heartbeat } from './node.js';
import type { RunnerTaint } from './node.js';
import { PodWorker } from './pod.js';
import { podKey } from './types.js';
import type { Pod } from './types.js';
import { hostAddress } from '../support/net.js';

export interface PodRunnerOptions {
  /** An admin kubeconfig (the runner writes Nodes, Leases and pod status). */
  readonly kubeconfig: string;
  /** The runner's own node names; registered on start, deleted on stop. */
  readonly nodes: readonly string[];
  /** Pod directories (volumes, container roots, logs) and runner.log go here. */
  readonly workDir: string;
  /** Heartbeats, backoffs and grace periods; the real clock by default. */
  readonly clock?: Clock;
  /** Searched before PATH for container commands (e.g. a dir with a `fathom` shim). */
  readonly pathPrepend?: readonly string[];
  /** Crash-loop backoff; 1 s doubling to 10 s by default. */
  readonly restartBackoff?: BackoffPolicy;
  /** Backoff for failed watches, API writes and unresolvable volumes or env. */
  readonly retryBackoff?: BackoffPolicy;
  /** Caps terminationGracePeriodSeconds; 10 s by default. */
  readonly maxGraceMs?: number;
  /** How often leases and the Ready condition are renewed; 10 s by default. */
  readonly heartbeatMs?: number;
  /** Extra node labels (besides fathom.test/runner=true, kubernetes.io/os and hostname). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly RunnerTaint[];
  /** Also receives the lines written to `<workDir>/runner.log`. */
  readonly log?: (line: string) => void;
  /**
   * Serve each node's kubelet endpoint on this machine's non-loopback address, named as the
   * node's Hostname address, so that the API server's node proxy (which refuses loopback
   * addresses) reaches its configz and healthz. Off by default: the endpoint then stays on
   * loopback, unreachable from the network.
   */
  readonly kubeletOnHostAddress?: boolean;
}

export interface PodRunner {
  readonly nodes: readonly string[];
  /** A node's InternalIP (also the hostIP of its pods). */
  nodeIP(node: string): string | undefined;
  /** The directory of the latest pod with that name the runner ran. */
  podDir(namespace: string, pod: string): string | undefined;
  /** What a container wrote to stdout and stderr, across restarts (also served to pods/log). */
  podLogs(namespace: string, pod: string, container: string): Promise<string>;
  /** The process id of a running container. */
  containerPid(namespace: string, pod: string, container: string): number | undefined;
  /** Stops every process, deletes the runner's pods (grace 0) and Nodes; idempotent. */
  stop(): Promise<void>;
}

interface Running {
  readonly worker: PodWorker;
  readonly ip: string;
  readonly ownsIp: boolean;
}

const terminal = (pod: Pod): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Registers the nodes, starts watching their pods and resolves once both are done. */
export async function startPodRunner(options: PodRunnerOptions): Promise<PodRunner> {
  const clock = options.clock ?? systemClock;
  const api: RunnerApi = createRunnerApi(options.kubeconfig);
  const retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  await mkdir(join(options.workDir, 'pods'), { recursive: true });
  const logFile = createWriteStream(join(options.workDir, 'runner.log'), { flags: 'a' });
  const log = (line: string): void => {
    logFile.write(`${new Date(clock.now()).toISOString()} ${line}\n`);
    options.log?.(line);
  };

  const ips = createIpPool();
  const nodeIps = new Map(options.nodes.map((n) => [n, ips.allocate()]));
  const pathPrepend = options.pathPrepend ?? [];
  const baseEnv = {
    PATH: [...pathPrepend, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':'),
    KUBERNETES_SERVICE_HOST: api.server.hostname,
    KUBERNETES_SERVICE_PORT: api.server.port,
    KUBERNETES_SERVICE_PORT_HTTPS: api.server.port,
    KUBERNETES_PORT: `tcp://${api.server.hostname}:${api.server.port}`,
  };
  const running = new Map<string, Running>(); // by pod uid
  const dirs = new Map<string, string>(); // namespace/name → latest pod dir
  let stopping = false;

  const upsert = (pod: Pod): void => {
    const uid = pod.metadata.uid ?? '';
    const known = running.get(uid);
    if (known) return known.worker.update(pod);
    if (stopping) return;
    // Not started by this runner: a finished pod is left alone, a deleted one just removed.
    if (pod.metadata.deletionTimestamp)
      return void api.remove(pod).catch((e: Error) => log(e.message));
    if (terminal(pod)) return;
    const node = pod.spec.nodeName ?? '';
    const hostIP = nodeIps.get(node)!;
    let ip = hostIP;
    let ownsIp = false;
    if (!pod.spec.hostNetwork) {
      const had = pod.status?.podIP; // a pod IP cannot change once set
      ip = had && ips.reserve(had) ? had : ips.allocate();
      ownsIp = true;
    }
    const podDir = join(
      options.workDir,
      'pods',
      `${pod.metadata.namespace}_${pod.metadata.name}_${uid.slice(0, 8)}`,
    );
    dirs.set(podKey(pod), podDir);
    const worker = new PodWorker(pod, {
      api,
      clock,
      podDir,
      podIP: ip,
      hostIP,
      pathPrepend,
      baseEnv,
      restartBackoff: options.restartBackoff ?? DEFAULT_RESTART_BACKOFF,
      retryBackoff,
      maxGraceMs: options.maxGraceMs ?? 10_000,
      log,
    });
    running.set(uid, { worker, ip, ownsIp });
    log(`pod ${podKey(pod)} on ${node}: ip ${ip}, dir ${podDir}`);
    worker.start();
  };

  const remove = (pod: Pod): void => {
    const uid = pod.metadata.uid ?? '';
    const known = running.get(uid);
    if (!known) return;
    void known.worker.end('gone').then(() => {
      running.delete(uid);
      if (known.ownsIp) ips.release(known.ip);
      log(`pod ${podKey(pod)} gone`);
    });
  };

  /** The latest pod of that name this runner still tracks. */
  const find = (namespace: string, pod: string): PodWorker | undefined => {
    let found: PodWorker | undefined;
    for (const r of running.values())
      if (r.worker.pod.metadata.namespace === namespace && r.worker.pod.metadata.name === pod)
        found = r.worker;
    return found;
  };
  const findLog = (namespace: string, pod: string, container: string): LogTarget | undefined => {
    const worker = find(namespace, pod);
    const dir = dirs.get(`${namespace}/${pod}`);
    if (!worker || !dir || !worker.records.some((r) => r.name === container)) return undefined;
    return {
      path: join(dir, `${container}.log`),
      running: () => worker.pid(container) !== undefined,
      onChange: (listener) => worker.onChange(listener),
    };
  };

  const now = clock.now();
  let endpoints: KubeletEndpoints | undefined;
  const watches: PodWatch[] = [];
  const beats = new AbortController();
  let beating: Promise<void> = Promise.resolve();
  // Last resort when the test process exits without stop(): no container outlives it.
  const killOnExit = (): void => {
    for (const r of running.values())
      for (const pid of r.worker.pids()) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
  };
  process.once('exit', killOnExit);
  const stopAll = async (): Promise<void> => {
    process.off('exit', killOnExit);
    stopping = true;
    beats.abort();
    await Promise.all(watches.map((w) => w.stop()));
    await Promise.all([...running.values()].map((r) => r.worker.end('stop')));
    await beating;
    await endpoints?.close();
    for (const node of options.nodes) {
      await api.deleteNode(node).catch((e: Error) => log(`delete node ${node}: ${e.message}`));
      const left = await api.podsOn(node).catch(() => []);
      await Promise.all(left.map((p) => api.forceDelete(p).catch(() => undefined)));
    }
    await new Promise((r) => logFile.end(r));
  };

  try {
    const kubeletHost = options.kubeletOnHostAddress ? hostAddress() : undefined;
    endpoints = await startKubeletEndpoints(nodeIps, findLog, kubeletHost);
    for (const node of options.nodes)
      await api.registerNode(node, nodeIps.get(node)!, now, {
        kubeletPort: endpoints.ports.get(node)!,
        ...(kubeletHost ? { kubeletHost } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.taints ? { taints: options.taints } : {}),
      });
    beating = heartbeat(clock, options.heartbeatMs ?? 10_000, beats.signal, async () => {
      for (const node of options.nodes)
        await api
          .heartbeat(node, nodeIps.get(node)!, clock.now(), now)
          .catch((e: Error) => log(`heartbeat ${node}: ${e.message}`));
    });
    for (const node of options.nodes)
      watches.push(await api.watchPods(node, { upsert, remove, log }, clock, retryBackoff));
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  log(`runner started: ${options.nodes.map((n) => `${n} (${nodeIps.get(n)})`).join(', ')}`);

  let stopped: Promise<void> | undefined;
  return {
    nodes: [...options.nodes],
    nodeIP: (node) => nodeIps.get(node),
    podDir: (namespace, pod) => dirs.get(`${namespace}/${pod}`),
    async podLogs(namespace, pod, container) {
      const dir = dirs.get(`${namespace}/${pod}`);
      if (!dir) throw new Error(`pod runner: no pod ${namespace}/${pod} ran here`);
      return readFile(join(dir, `${container}.log`), 'utf8').catch(() => '');
    },
    containerPid: (namespace, pod, container) => find(namespace, pod)?.pid(container),
    stop: () => (stopped ??= stopAll()),
  };
}
