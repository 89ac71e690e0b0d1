/**
 * One size of the snapshot bench (benches/snapshot.ts) on a fresh test control plane: the
 * cluster snapshot fathom packs into a run's tarball (`collectClusterSnapshot`, in this process,
 * as the aggregator calls it) and `sonobuoy query` (the peer's same queries, as a process) on the
 * same cluster, one after the other, each with the same cluster-admin service account. Every
 * request either makes is counted at the API server (audit log, bench/lib/kube-requests.ts) in
 * its own time window; query errors are read back from each one's meta/query-time.json.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ClusterBinaries } from '../../test/cluster/binaries.js';
import { startCluster, type TestCluster } from '../../test/cluster/cluster.js';
import { readKubeconfig, type KubeHttp, type KubeObject } from '../../test/cluster/kube.js';
import { createKubeClient, type KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { collectClusterSnapshot } from '../../src/backends/kubernetes/snapshot-collect.js';
import { systemClock } from '../../src/core/clock.js';
import { writeResultsTarball } from '../../src/results/tarball.js';
import {
  countAudit,
  createCliIdentity,
  createFathomFlow,
  writeAuditPolicy,
  type AuditCount,
} from './kube-requests.js';
import { runTimed, stats } from './measure.js';
import { ms } from './report.js';

/** Namespaces of the bench's own objects, so that namespaced lists are not empty. */
export const FILL_NAMESPACES = ['bench-a', 'bench-b', 'bench-c'];
const PODS_PER_NAMESPACE = 10;
/** `sonobuoy query` is killed after this long (its node proxy calls wait up to 30 s each). */
const PEER_TIMEOUT_MS = 240_000;
const FLOOR_REPS = 5;

export interface ToolFigures {
  wallMs: number;
  /** Requests at the API server in the tool's window (audit: one per request). */
  requests: AuditCount;
  /** Rows of meta/query-time.json, and those with an error. */
  queries: number;
  queryErrors: number;
  /** The first few error texts, for the notes. */
  errorSamples: string[];
  files: number;
  bytesOnDisk: number;
  /** The directory packed as fathom packs a results tarball (gzip tar). */
  tarballBytes: number;
  /** Set when the tool did not finish (the figures are then what it did until then). */
  problem?: string;
}

export interface SnapshotFigures {
  nodes: number;
  clusterStartMs: number;
  namespaces: string[];
  /** GET /version on the snapshot's client: the first (new connection) and the warm median. */
  floor: { coldMs: number; warmMs: number };
  fathom: ToolFigures;
  sonobuoy?: ToolFigures;
  /** Why `sonobuoy query` was not run, when it was not. */
  sonobuoySkipped?: string;
}

async function fill(api: KubeHttp, nodeNames: readonly string[]): Promise<void> {
  type Pod = KubeObject & { status?: { phase?: string } };
  for (const [n, ns] of FILL_NAMESPACES.entries()) {
    await api.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    const base = `/api/v1/namespaces/${ns}`;
    await api.create(`${base}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { 'app.yaml': 'replicas: 3\n' },
    });
    await api.create(`${base}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'token' },
      stringData: { token: 'not-to-be-written' },
    });
    await api.create(`${base}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    for (let i = 0; i < PODS_PER_NAMESPACE; i++) {
      // Bound directly (no scheduler wait); kwok marks them Running.
      await api.create(`${base}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${i}`, labels: { app: 'web' } },
        spec: {
          nodeName: nodeNames[(n * PODS_PER_NAMESPACE + i) % nodeNames.length],
          containers: [{ name: 'web', image: 'registry.example/web:1' }],
        },
      });
    }
    await api.waitForList<Pod, true>(
      `${base}/pods`,
      (all) =>
        all.size === PODS_PER_NAMESPACE &&
        [...all.values()].every((p) => p.status?.phase === 'Running')
          ? true
          : undefined,
      120_000,
    );
  }
}

async function tree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

/** Rows and errors of `<root>/meta/query-time.json` (Sonobuoy's format, fathom writes it too). */
async function queryRecords(
  root: string,
): Promise<{ queries: number; queryErrors: number; errorSamples: string[] }> {
  const text = await readFile(join(root, 'meta', 'query-time.json'), 'utf8').catch(() => '[]');
  const rows = JSON.parse(text) as { queryobj: string; namespace?: string; error?: unknown }[];
  const errors = rows.filter((r) => r.error !== undefined && r.error !== null && r.error !== '');
  return {
    queries: rows.length,
    queryErrors: errors.length,
    errorSamples: errors
      .slice(0, 3)
      .map(
        (r) =>
          `${r.queryobj}${r.namespace ? ` (${r.namespace})` : ''}: ${(typeof r.error === 'string' ? r.error : JSON.stringify(r.error)).slice(0, 160)}`,
      ),
  };
}

async function figuresOf(
  root: string,
  scratch: string,
  wallMs: number,
  requests: AuditCount,
): Promise<ToolFigures> {
  const { files, bytes } = await tree(root);
  const { size } = await writeResultsTarball(root, join(scratch, `${Date.now()}.tar.gz`));
  return {
    wallMs,
    requests,
    ...(await queryRecords(root)),
    files,
    bytesOnDisk: bytes,
    tarballBytes: size,
  };
}

async function floorOf(client: KubeClient): Promise<{ coldMs: number; warmMs: number }> {
  const once = async (): Promise<number> => {
    const t = performance.now();
    await client.request('GET', '/version', 'reading the API server version');
    return performance.now() - t;
  };
  const coldMs = await once();
  const warm: number[] = [];
  for (let i = 0; i < FLOOR_REPS; i++) warm.push(await once());
  return { coldMs, warmMs: stats(warm).median };
}

/** One size on a fresh cluster; the cluster is gone when it returns. */
export async function snapshotOnce(
  nodes: number,
  binaries: ClusterBinaries,
  sonobuoy: { path?: string; problem?: string },
  log: (line: string) => void,
): Promise<SnapshotFigures> {
  const dir = await mkdtemp(join(tmpdir(), `fathom-bench-snapshot-${nodes}-`));
  let cluster: TestCluster | undefined;
  let client: KubeClient | undefined;
  try {
    const audit = await writeAuditPolicy(dir);
    cluster = await startCluster({
      nodes,
      binaries,
      extraArgs: { 'kube-apiserver': audit.args },
      timeoutMs: 10 * 60_000,
      log,
    });
    const { api, server } = cluster;
    const { caPem } = (await readKubeconfig(cluster.kubeconfig)).creds;
    const kubeconfig = await createCliIdentity(api, {
      server,
      caPem,
      file: join(dir, 'cli.kubeconfig'),
    });
    // A priority level of its own: neither tool is queued behind the control plane's clients.
    await createFathomFlow(api);
    await fill(api, cluster.nodeNames);
    const namespaces = (await api.get<{ items: KubeObject[] }>('/api/v1/namespaces')).items.map(
      (n) => n.metadata.name,
    );
    const scratch = join(dir, 'scratch');
    await mkdir(scratch);

    client = createKubeClient(resolveKubeconfig({ kubeconfig, env: {} }));
    const floor = await floorOf(client);

    // fathom: every namespace, as Sonobuoy's default filter (".*") queries.
    const fathomRoot = join(dir, 'fathom');
    await mkdir(fathomRoot);
    log(`${nodes} nodes: collectClusterSnapshot`);
    const from = Date.now();
    const t0 = performance.now();
    // Not a literal: the function's options are changing (issue 12), and a version that takes
    // no `namespaces` (every namespace by default) type-checks against this call too.
    const options = {
      client,
      root: fathomRoot,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      namespaces,
    };
    await collectClusterSnapshot(options);
    const fathomMs = performance.now() - t0;
    const to = Date.now() + 1;
    const fathom = await figuresOf(
      fathomRoot,
      scratch,
      fathomMs,
      await countAudit(audit.log, from, to),
    );
    log(`${nodes} nodes: fathom ${ms(fathomMs)}, ${fathom.requests.total} requests`);

    let peer: ToolFigures | undefined;
    if (sonobuoy.path) {
      const peerRoot = join(dir, 'sonobuoy');
      log(`${nodes} nodes: sonobuoy query`);
      const pFrom = Date.now();
      const run = await runTimed(sonobuoy.path, ['query', '-o', peerRoot, '--level', 'warn'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: kubeconfig },
        timeoutMs: PEER_TIMEOUT_MS,
        captureStdout: true,
      });
      const pTo = Date.now() + 1;
      await mkdir(peerRoot, { recursive: true });
      peer = await figuresOf(
        peerRoot,
        scratch,
        run.wallMs,
        await countAudit(audit.log, pFrom, pTo),
      );
      if (run.code !== 0)
        peer.problem =
          run.signal === 'SIGKILL'
            ? `killed after ${ms(PEER_TIMEOUT_MS)}`
            : `exit ${run.code}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`;
      log(`${nodes} nodes: sonobuoy ${ms(run.wallMs)}, ${peer.requests.total} requests`);
    }
    return {
      nodes,
      clusterStartMs: cluster.stats.startMs,
      namespaces,
      floor,
      fathom,
      ...(peer ? { sonobuoy: peer } : { sonobuoySkipped: sonobuoy.problem ?? 'not built' }),
    };
  } finally {
    client?.close();
    await cluster?.stop().catch((e: unknown) => log(`stopping the cluster: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}
