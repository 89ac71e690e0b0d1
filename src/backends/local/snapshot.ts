/**
 * The local backend's cluster snapshot, written into the results root at pack time in
 * Sonobuoy's layout (src/snapshot/layout.ts), so a local tarball reads like a cluster's:
 *
 * - `resources/cluster/core_v1_nodes.json`: the simulated nodes as Node objects (labels, taints,
 *   a Ready condition, nodeInfo.kubeletVersion)
 * - `resources/ns/<run namespace>/core_v1_pods.json`: the aggregator and the plugin processes
 *   as Pods (as `fathom health` sees them, reader.ts), with the plugins' containers
 * - `podlogs/<ns>/<pod>/logs/<container>.txt`: the processes' logs, each cut at a bound
 * - `hosts/<node>/healthz.json`, `serverversion.json`, `meta/query-time.json`
 *
 * A simulated node is Ready while the run's node host (every node's kubelet stand-in) runs,
 * unless the cluster file gives it Kubernetes' `node.kubernetes.io/not-ready` or `unreachable`
 * taint, the way to simulate a node that is not. Each piece that fails is a query-time row with
 * its error; nothing here fails the run.
 */
import { DEFAULT_SNAPSHOT_CONFIG, wants, type SnapshotConfig } from '../../snapshot/config.js';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { ClusterNode } from '../../core/nodes.js';
import { GLOBAL_NODE, type PluginDefinition } from '../../plugin/types.js';
import {
  CORE_NODES_FILE,
  hostFile,
  listDocument,
  podLogFile,
  QUERY_TIME_FILE,
  queryRecord,
  resourceFile,
  SERVER_VERSION_FILE,
  type QueryRecord,
} from '../../snapshot/layout.js';
import { readCluster } from './cluster-store.js';
import { NODE_HOST_OWNER } from './nodehost/protocol.js';
import { LOCAL_AGGREGATOR_POD, podObjects } from './reader.js';
import {
  files,
  isAlive,
  LOCAL_KUBERNETES_VERSION,
  readRunStatus,
  type LocalRunRecord,
} from './store.js';

const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export interface NodeReadiness {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Whether a simulated node is usable: its host runs and no taint says it is not ready. */
export function nodeReadiness(node: ClusterNode, hostRunning: boolean): NodeReadiness {
  if (!hostRunning) {
    return {
      status: 'False',
      reason: 'NodeHostNotRunning',
      message: "the run's node host (the kubelet stand-in of every simulated node) is not running",
    };
  }
  const taint = (key: string): boolean => (node.taints ?? []).some((t) => t.key === key);
  if (taint(UNREACHABLE_TAINT)) {
    return {
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: `the cluster file gives the node the ${UNREACHABLE_TAINT} taint`,
    };
  }
  if (taint(NOT_READY_TAINT)) {
    return {
      status: 'False',
      reason: 'KubeletNotReady',
      message: `the cluster file gives the node the ${NOT_READY_TAINT} taint`,
    };
  }
  return { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
}

const goArch = (arch: string): string => (arch === 'x64' ? 'amd64' : arch);

/** A simulated node as a Node object. */
export function nodeObject(
  node: ClusterNode,
  ready: NodeReadiness,
  at: { readonly createdAt: string; readonly now: string; readonly kubeletVersion: string },
): Record<string, unknown> {
  return {
    metadata: { name: node.name, labels: { ...node.labels }, creationTimestamp: at.createdAt },
    spec: node.taints?.length ? { taints: node.taints.map((t) => ({ ...t })) } : {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready.status,
          lastHeartbeatTime: at.now,
          lastTransitionTime: at.createdAt,
          reason: ready.reason,
          message: ready.message,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: node.name },
      ],
      nodeInfo: {
        kubeletVersion: at.kubeletVersion,
        kubeProxyVersion: at.kubeletVersion,
        operatingSystem: process.platform,
        architecture: goArch(process.arch),
        containerRuntimeVersion: `fathom-local://${process.version}`,
      },
    },
  };
}

/** serverversion.json for the local cluster, as the API server's /version answers. */
export function serverVersion(gitVersion: string): Record<string, string> {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  return {
    major: m?.[1] ?? '',
    minor: m?.[2] ?? '',
    gitVersion,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '',
    goVersion: '',
    compiler: '',
    platform: `${process.platform}/${goArch(process.arch)}`,
  };
}

/** A plugin's containers as its pod spec would list them (the worker as fathom runs it). */
function pluginContainers(p: PluginDefinition | undefined): Record<string, unknown>[] {
  const c = p?.container;
  return [
    {
      name: 'plugin',
      ...(c?.image ? { image: c.image } : {}),
      ...(c?.command.length ? { command: [...c.command] } : {}),
      ...(c?.args.length ? { args: [...c.args] } : {}),
      ...(c?.env.length ? { env: c.env.map((e) => ({ name: e.name, value: e.value })) } : {}),
    },
    { name: 'sonobuoy-worker', command: ['fathom', 'worker'] },
  ];
}

/** Files written and read at once: enough to hide their latency, few enough for any ulimit. */
const CONCURRENCY = 16;

async function forEachLimit<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** Whether the run's node host runs: its pid file is the one whose owner is the host. */
async function nodeHostRunning(
  runDir: string,
  alive: (pid: number | undefined) => boolean,
): Promise<boolean> {
  const dir = join(runDir, files.pids);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  let running = false;
  await forEachLimit(names, async (name) => {
    const owner = await readFile(join(dir, name), 'utf8').catch(() => '');
    if (owner.trim() === NODE_HOST_OWNER && alive(Number(name))) running = true;
  });
  return running;
}

async function readHead(path: string, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(path, { end: limit - 1 })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export interface LocalSnapshotOptions {
  readonly runDir: string;
  readonly record: LocalRunRecord;
  readonly clock: Clock;
  /** Where the cluster file is ($FATHOM_HOME); the run's own nodes when it has none. */
  readonly home?: string;
  readonly isAlive?: (pid: number | undefined) => boolean;
  /** `Resources`, the namespace filters and `Limits.PodLogs` (default: Sonobuoy's). */
  readonly config?: SnapshotConfig;
}

/** Writes the snapshot under `root`; resolves to its query-time.json rows (also written). */
export async function writeLocalSnapshot(
  root: string,
  options: LocalSnapshotOptions,
): Promise<QueryRecord[]> {
  const { runDir, record, clock } = options;
  const config = options.config ?? DEFAULT_SNAPSHOT_CONFIG;
  const alive = options.isAlive ?? isAlive;
  const ns = record.namespace;
  // The run's namespace is the only one here: listed if the filter matches it, its logs kept
  // if the pod-log limits name it.
  const podLogs = config.Limits.PodLogs;
  const listNs = new RegExp(config.Filters.Namespaces).test(ns);
  const logNs = podLogs.SonobuoyNamespace || new RegExp(podLogs.Namespaces).test(ns);
  const rows: QueryRecord[] = [];
  const put = async (rel: string, value: unknown): Promise<void> => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), JSON.stringify(value));
  };
  const query = async (
    name: string,
    namespace: string | undefined,
    work: () => Promise<void>,
  ): Promise<void> => {
    const started = clock.now();
    let error: string | undefined;
    await work().catch((err: unknown) => (error = (err as Error).message));
    rows.push(queryRecord(name, namespace, clock.now() - started, error));
  };
  const now = new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');

  if (wants(config, 'serverversion')) {
    await query('serverversion', undefined, () =>
      put(SERVER_VERSION_FILE, serverVersion(LOCAL_KUBERNETES_VERSION)),
    );
  }

  let nodes: readonly ClusterNode[] = record.nodes;
  let hostRunning = false;
  if (wants(config, 'nodes')) {
    await query('nodes', undefined, async () => {
      const cluster = options.home
        ? await readCluster(options.home).catch(() => undefined)
        : undefined;
      if (cluster) nodes = cluster.nodes;
      hostRunning = await nodeHostRunning(runDir, alive);
      const createdAt = cluster?.createdAt ?? record.createdAt;
      const items = nodes.map((n) =>
        nodeObject(n, nodeReadiness(n, hostRunning), {
          createdAt,
          now,
          kubeletVersion: LOCAL_KUBERNETES_VERSION,
        }),
      );
      await put(
        CORE_NODES_FILE,
        listDocument({ group: '', version: 'v1', resource: 'nodes', kind: 'Node' }, items),
      );
    });
  }

  // The run's pods, read once for the pods list and for their logs.
  let podsRead: Promise<Record<string, unknown>[]> | undefined;
  const readPods = (): Promise<Record<string, unknown>[]> =>
    (podsRead ??= (async () => {
      const { status, aggregatorAlive } = await readRunStatus(runDir, alive);
      const objects = await podObjects(
        { namespace: ns, dir: runDir, record, status, aggregatorAlive },
        alive,
      );
      return objects.map((o) => {
        const meta = o.metadata as { name: string; labels?: Record<string, string> };
        if (meta.name === LOCAL_AGGREGATOR_POD) return o;
        const def = record.plugins.find((p) => p.name === meta.labels?.['fathom-plugin']);
        const spec = o.spec as Record<string, unknown>;
        return { ...o, spec: { ...spec, containers: pluginContainers(def) } };
      });
    })());

  if (listNs && wants(config, 'pods')) {
    await query('pods', ns, async () => {
      const items = (await readPods()).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
      if (items.length === 0) return;
      await put(
        resourceFile({ group: '', version: 'v1', resource: 'pods' }, ns),
        listDocument({ group: '', version: 'v1', resource: 'pods', kind: 'Pod' }, items),
      );
    });
  }

  if (wants(config, 'nodes')) {
    await query('Nodes', undefined, async () => {
      const ready = (n: ClusterNode): boolean => nodeReadiness(n, hostRunning).status === 'True';
      const down = nodes.filter((n) => !ready(n));
      await forEachLimit(nodes.filter(ready), (n) =>
        put(hostFile(n.name, 'healthz'), { status: 200 }),
      );
      // Sonobuoy records the first node it could not reach; the others are still written here.
      if (down[0]) throw new Error(`node ${down[0].name}: its kubelet does not answer (not ready)`);
    });
  }

  if (wants(config, 'podlogs') && logNs) {
    await query('PodLogs', ns, async () => {
      const limit = podLogs.LimitBytes ?? Number.MAX_SAFE_INTEGER;
      const copy = async (pod: string, container: string, from: string): Promise<void> => {
        if (!(await stat(from).catch(() => undefined))?.isFile()) return;
        const rel = podLogFile(ns, pod, container);
        await mkdir(dirname(join(root, rel)), { recursive: true });
        await writeFile(join(root, rel), await readHead(from, limit));
      };
      const logs: [string, string, string][] = [
        [LOCAL_AGGREGATOR_POD, 'aggregator', join(runDir, files.log)],
      ];
      // Pods that cannot be read leave their logs out; the aggregator's still goes in.
      let unread: Error | undefined;
      const pods = await readPods().catch((err: unknown) => {
        unread = err instanceof Error ? err : new Error(String(err));
        return [];
      });
      for (const pod of pods) {
        const meta = pod.metadata as { name: string; labels?: Record<string, string> };
        const def = record.plugins.find((p) => p.name === meta.labels?.['fathom-plugin']);
        if (!def) continue;
        const nodeName = (pod.spec as { nodeName?: string }).nodeName;
        const key = def.driver === 'Job' ? GLOBAL_NODE : nodeName;
        if (key === undefined) continue;
        for (const c of ['plugin', 'sonobuoy-worker']) {
          logs.push([meta.name, c, join(runDir, files.pods, def.name, key, `${c}.log`)]);
        }
      }
      await forEachLimit(logs, ([pod, container, from]) => copy(pod, container, from));
      if (unread) throw unread;
    });
  }

  await put(QUERY_TIME_FILE, rows).catch(() => undefined);
  return rows;
}
