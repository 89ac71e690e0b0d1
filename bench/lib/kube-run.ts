/**
 * One size of the Kubernetes bench (benches/kubernetes.ts) on a fresh test control plane:
 * `fathom run --backend kubernetes --wait` with one DaemonSet plugin, the aggregator pod's
 * process started by the bench (kwok runs no containers), every node's result uploaded at once,
 * `fathom retrieve`; the times, the aggregator's memory and fathom's API requests.
 */
import { gunzipSync } from 'node:zlib';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { list as tarList } from 'tar';
import { parseBuildOutput, type ClusterBinaries } from '../../test/cluster/binaries.js';
import { startCluster, type TestCluster } from '../../test/cluster/cluster.js';
import { readKubeconfig, type KubeObject } from '../../test/cluster/kube.js';
import { rssKib } from '../../test/cluster/processes.js';
import {
  hostAddress,
  resultTarball,
  startAggregatorPod,
  uploadAll,
  type AggregatorProcess,
  type UploadSummary,
} from './kube-pods.js';
import {
  countAudit,
  createCliIdentity,
  createFathomFlow,
  RUN_NAMESPACE,
  scrapeMetrics,
  writeAuditPolicy,
  type AuditCount,
} from './kube-requests.js';
import { createWatcher, type Watcher } from './kube-watch.js';
import { FATHOM_BIN, REPO_ROOT, runTimed, type ProcessRun } from './measure.js';
import { mib, ms } from './report.js';

const PLUGIN = 'node-checks';
/** The control plane's clients are raised from 20/30 (controller-manager) and 50/100 (scheduler). */
export const EXTRA_ARGS = {
  'kube-controller-manager': ['--kube-api-qps=500', '--kube-api-burst=1000'],
  'kube-scheduler': ['--kube-api-qps=500', '--kube-api-burst=1000'],
};
const WAIT_MS = 20 * 60_000;

const PLUGIN_YAML = [
  'sonobuoy-config:',
  '  driver: DaemonSet',
  `  plugin-name: ${PLUGIN}`,
  '  result-format: junit',
  'spec:',
  '  name: plugin',
  '  image: busybox:1.36',
  '  command: [/bin/sh, -c, "true"]',
  '',
].join('\n');

type Pod = KubeObject & {
  metadata: { annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
};

export interface KubeRunFigures {
  nodes: number;
  clusterStartMs: number;
  /** From spawning `fathom run` to ... */
  aggregatorPodRunningMs: number;
  aggregatorStartedMs: number;
  /** When the aggregator logged "plugin launched" (its DaemonSet created). */
  daemonSetCreatedMs: number;
  firstPluginPodMs: number;
  scheduledMs: number;
  runExitMs: number;
  retrieveMs: number;
  /** workersCpuMs: the bench process's CPU while it played every worker. */
  uploads: UploadSummary & { tarballBytesEach: number; workersCpuMs: number };
  aggregator: {
    hwmBeforeUploadsKiB: number;
    hwmAfterUploadsKiB: number;
    hwmEndKiB: number;
    cpuUploadsMs: number;
    exitCode: number | null;
  };
  requests: {
    audit: AuditCount;
    toScheduled: number;
    duringUploads: number;
    afterUploads: number;
    apfDispatched: number;
    /** Watchers of any client the server closed for falling behind. */
    terminatedWatchers: number;
    allClients: number;
    dispatchedByFlow: Record<string, number>;
  };
  statusAnnotationBytes: number;
  tarballBytes: number;
  /** Watch requests the bench's own observer needed (more than 1: the server closed it). */
  observerWatches: number;
  controlPlaneRssKiB: Record<string, number | undefined>;
}

export async function clusterBinaries(): Promise<ClusterBinaries> {
  // build.sh by its repo path: the compiled test/cluster/binaries.js is not beside it.
  const { stdout } = await promisify(execFile)(
    'bash',
    [join(REPO_ROOT, 'test', 'cluster', 'build.sh')],
    { maxBuffer: 64 << 20, timeout: 60 * 60_000 },
  );
  return parseBuildOutput(stdout);
}

const ready = (p: Pod | undefined): boolean =>
  Boolean(p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

function failed(what: string, r: ProcessRun): Error {
  return new Error(`${what} exited ${r.code ?? r.signal}:\n${r.stderr.slice(-3000)}`);
}

/** `fathom ...` in the background: its exit (with output), and a kill for teardown. */
function startFathom(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { exited: Promise<ProcessRun>; kill(): void } {
  const started = performance.now();
  const child = spawn(process.execPath, [FATHOM_BIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<ProcessRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({
        wallMs: performance.now() - started,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
  return {
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** One size on a fresh cluster; the cluster and the aggregator are gone when it returns. */
export async function runKubernetesOnce(
  nodes: number,
  binaries: ClusterBinaries,
  log: (line: string) => void,
): Promise<KubeRunFigures> {
  const dir = await mkdtemp(join(tmpdir(), `fathom-bench-kube-${nodes}-`));
  let cluster: TestCluster | undefined;
  let aggregator: AggregatorProcess | undefined;
  let watcher: Watcher | undefined;
  let run: ReturnType<typeof startFathom> | undefined;
  try {
    const audit = await writeAuditPolicy(dir);
    cluster = await startCluster({
      nodes,
      binaries,
      extraArgs: { ...EXTRA_ARGS, 'kube-apiserver': audit.args },
      timeoutMs: WAIT_MS,
      log,
    });
    const { api, server } = cluster;
    const adminCreds = (await readKubeconfig(cluster.kubeconfig)).creds;
    const { caPem } = adminCreds;
    watcher = createWatcher(server, adminCreds);
    const ip = hostAddress();
    const cliKubeconfig = await createCliIdentity(api, {
      server,
      caPem,
      file: join(dir, 'cli.kubeconfig'),
    });
    await createFathomFlow(api);

    // Every node's result, made before the clock starts.
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);
    const results = new Map<string, Buffer>();
    for (const node of cluster.nodeNames) results.set(node, await resultTarball(scratch, node));
    const pluginFile = join(dir, 'plugin.yaml');
    await writeFile(pluginFile, PLUGIN_YAML);
    const home = join(dir, 'home');
    await mkdir(home);
    const cliEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
    const cli = ['--backend', 'kubernetes', '--kubeconfig', cliKubeconfig, '-n', RUN_NAMESPACE];

    const before = await scrapeMetrics(api);
    log(`${nodes} nodes: fathom run`);
    const t0 = performance.now();
    const t0Epoch = Date.now();
    const since = (): number => performance.now() - t0;
    run = startFathom(
      ['run', ...cli, '-p', pluginFile, '--timeout', '30m', '--wait', '30m'],
      cliEnv,
    );
    const runExit = run.exited.then((r) => ({ r, at: since() }));
    /** `p`, unless `fathom run` exits first (then nothing more will happen). */
    const unlessRunExits = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, runExit.then(({ r }) => Promise.reject(failed('fathom run', r)))]);
    const pods = `/api/v1/namespaces/${RUN_NAMESPACE}/pods`;
    await unlessRunExits(
      watcher.waitFor<Pod, true>(
        `${pods}?fieldSelector=metadata.name%3Dfathom-aggregator`,
        (all) => (ready(all.values().next().value) ? true : undefined),
        WAIT_MS,
      ),
    );
    const aggregatorPodRunningMs = since();
    aggregator = await startAggregatorPod({
      api,
      server,
      caPem,
      namespace: RUN_NAMESPACE,
      dir: join(dir, 'aggregator'),
      ip,
    });
    const aggregatorStartedMs = since();
    let firstPluginPodMs = NaN;
    const { result: scheduledPods, watches: observerWatches } = await unlessRunExits(
      watcher.waitFor<Pod, Pod[]>(
        `${pods}?labelSelector=fathom-component%3Dplugin`,
        (all) => {
          if (all.size > 0 && Number.isNaN(firstPluginPodMs)) firstPluginPodMs = since();
          const bound = [...all.values()].filter((p) => p.spec?.nodeName);
          return bound.length >= nodes ? bound : undefined;
        },
        WAIT_MS,
      ),
    );
    const scheduledMs = since();
    const scheduledAt = Date.now();
    log(
      `${nodes} nodes: ${scheduledPods.length} DaemonSet pods scheduled after ${ms(scheduledMs)}` +
        (observerWatches > 1
          ? ` (the server ended the bench's watch ${observerWatches - 1}×)`
          : ''),
    );

    const hwmBeforeUploadsKiB = aggregator.hwmKiB() ?? NaN;
    const cpuBefore = (await aggregator.cpuMs()) ?? NaN;
    const workersCpu = process.cpuUsage();
    const uploads = await uploadAll(api, { namespace: RUN_NAMESPACE, plugin: PLUGIN, results });
    const { user, system } = process.cpuUsage(workersCpu);
    const uploadedAt = Date.now();
    const hwmAfterUploadsKiB = aggregator.hwmKiB() ?? NaN;
    const cpuUploadsMs = ((await aggregator.cpuMs()) ?? NaN) - cpuBefore;
    log(
      `${nodes} nodes: ${nodes} uploads in ${ms(uploads.wallMs)}, aggregator peak RSS ${mib(hwmAfterUploadsKiB)}`,
    );

    const exit = await runExit;
    if (exit.r.code !== 0) throw failed('fathom run --wait', exit.r);
    const tarDir = join(dir, 'results');
    const tRetrieve = performance.now();
    const retrieved = await runTimed(process.execPath, [FATHOM_BIN, 'retrieve', ...cli, tarDir], {
      env: cliEnv,
      timeoutMs: WAIT_MS,
      captureStdout: true,
    });
    const retrieveMs = performance.now() - tRetrieve;
    if (retrieved.code !== 0) throw failed('fathom retrieve', retrieved);
    const tarball = retrieved.stdout.trim().split('\n').at(-1)!;
    const tarballBytes = (await stat(tarball)).size;
    const stored = new Set<string>();
    const prefix = `plugins/${PLUGIN}/results/`;
    await tarList({
      file: tarball,
      onReadEntry: (e) => {
        if (e.path.startsWith(prefix) && e.path.endsWith('/junit_01.xml'))
          stored.add(e.path.slice(prefix.length).split('/')[0]!);
      },
    });
    if (stored.size !== nodes)
      throw new Error(`the tarball holds results of ${stored.size} of ${nodes} nodes`);

    const pod = await api.get<Pod>(`${pods}/fathom-aggregator`);
    const annotation = pod.metadata.annotations?.['sonobuoy.hept.io/status'] ?? '';
    // Past 64 KiB the aggregator stores it gzipped (`gzip:` + base64).
    const json = annotation.startsWith('gzip:')
      ? gunzipSync(Buffer.from(annotation.slice(5), 'base64')).toString('utf8')
      : annotation;
    const status = JSON.parse(json) as {
      status: string;
      plugins: { status: string; 'result-status': string }[];
    };
    const passed = status.plugins.filter(
      (p) => p.status === 'complete' && p['result-status'] === 'passed',
    ).length;
    if (status.status !== 'complete' || passed !== nodes)
      throw new Error(`run ${status.status}: ${passed} of ${nodes} nodes complete and passed`);

    const hwmEndKiB = aggregator.hwmKiB() ?? NaN;
    const launched = (await readFile(aggregator.log, 'utf8'))
      .split('\n')
      .map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg?: string; time?: number }) : {}))
      .find((l) => l.msg === 'plugin launched');
    const controlPlaneRssKiB: Record<string, number | undefined> = {};
    for (const [c, pid] of Object.entries(cluster.pids)) controlPlaneRssKiB[c] = await rssKib(pid);
    const exitCode = await aggregator.stop();
    aggregator = undefined;
    const after = await scrapeMetrics(api);
    const window = (from: number, to: number): Promise<number> =>
      countAudit(audit.log, from, to).then((c) => c.total);

    return {
      nodes,
      clusterStartMs: cluster.stats.startMs,
      aggregatorPodRunningMs,
      aggregatorStartedMs,
      daemonSetCreatedMs: (launched?.time ?? NaN) - t0Epoch,
      firstPluginPodMs,
      scheduledMs,
      runExitMs: exit.at,
      retrieveMs,
      uploads: {
        ...uploads,
        tarballBytesEach: Math.round(uploads.bytes / nodes),
        workersCpuMs: (user + system) / 1000,
      },
      aggregator: { hwmBeforeUploadsKiB, hwmAfterUploadsKiB, hwmEndKiB, cpuUploadsMs, exitCode },
      requests: {
        audit: await countAudit(audit.log),
        toScheduled: await window(0, scheduledAt),
        duringUploads: await window(scheduledAt, uploadedAt),
        afterUploads: await window(uploadedAt, Infinity),
        apfDispatched: after.fathomDispatched - before.fathomDispatched,
        terminatedWatchers: after.terminatedWatchers - before.terminatedWatchers,
        allClients: after.requestTotal - before.requestTotal,
        dispatchedByFlow: Object.fromEntries(
          Object.entries(after.dispatchedByFlow).map(([k, v]) => [
            k,
            v - (before.dispatchedByFlow[k] ?? 0),
          ]),
        ),
      },
      statusAnnotationBytes: Buffer.byteLength(annotation),
      tarballBytes,
      observerWatches,
      controlPlaneRssKiB,
    };
  } catch (err) {
    const tail = aggregator
      ? (await readFile(aggregator.log, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n')
      : '';
    throw new Error(
      `${nodes} nodes: ${(err as Error).message}${tail ? `\n--- aggregator log:\n${tail}` : ''}`,
      { cause: err },
    );
  } finally {
    run?.kill();
    aggregator?.kill();
    watcher?.close();
    await cluster?.stop().catch((e: unknown) => log(`stopping the cluster: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}
