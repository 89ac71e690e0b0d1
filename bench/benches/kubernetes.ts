/**
 * Issue 4: the Kubernetes backend on the test control plane (test/cluster/: real etcd,
 * kube-apiserver, controller-manager and scheduler; kwok nodes) with 100, 500 and 1,000 nodes
 * (`FATHOM_BENCH_KUBE_NODES=100,500` to choose). Per size, on a fresh cluster:
 *
 * 1. `fathom run --backend kubernetes --wait` with one DaemonSet plugin, timed from its spawn
 *    until every node has its DaemonSet pod bound (spec.nodeName). kwok runs no containers, so
 *    the bench plays the kubelet of the aggregator pod: it starts `fathom aggregator` (the
 *    pod's command) as a process once kwok reports the pod Running, and that aggregator
 *    creates the DaemonSet.
 * 2. The API requests fathom made (CLI, aggregator, retrieve), counted at the server: fathom
 *    runs as service accounts of its own, recorded by an audit policy and by an APF FlowSchema
 *    (bench/lib/kube-requests.ts).
 * 3. Every node's worker uploads its result at once over mutual TLS (a few KiB tar.gz each):
 *    the aggregator's peak RSS (VmHWM) and the time until all are in; then `fathom retrieve`.
 */
import {
  clusterBinaries,
  EXTRA_ARGS,
  runKubernetesOnce,
  type KubeRunFigures,
} from '../lib/kube-run.js';
import type { AuditCount } from '../lib/kube-requests.js';
import { bytes, count, mib, ms, type Bench, type BenchResult } from '../lib/report.js';

const DEFAULT_NODES = [100, 500, 1000];

function nodeCounts(): number[] {
  const text = process.env.FATHOM_BENCH_KUBE_NODES?.trim();
  if (!text) return DEFAULT_NODES;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`FATHOM_BENCH_KUBE_NODES: whole numbers ≥ 1, comma-separated, not "${text}"`);
  return list;
}

const verbs = (c: AuditCount): string =>
  Object.entries(c.byVerb)
    .sort(([, a], [, b]) => b - a)
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');

const perNode = (n: number, nodes: number): string => (n / nodes).toFixed(n / nodes < 1 ? 2 : 1);

export const kubernetesBench: Bench = {
  name: 'kubernetes',
  description: 'fathom run on the test control plane with 100/500/1,000 kwok nodes',
  async run(log): Promise<BenchResult> {
    const sizes = nodeCounts();
    const binaries = await clusterBinaries().catch((err: unknown) => err as Error);
    if (binaries instanceof Error)
      return { data: {}, tables: [], skipped: `no control-plane binaries: ${binaries.message}` };
    const runs: KubeRunFigures[] = [];
    const failures: { nodes: number; error: string }[] = [];
    for (const nodes of sizes) {
      try {
        runs.push(await runKubernetesOnce(nodes, binaries, log));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        failures.push({ nodes, error: message });
        log(`FAILED: ${message}`);
      }
    }
    if (runs.length === 0)
      throw new Error(failures.map((f) => f.error).join('\n') || 'no node counts');
    const notes = [
      'Each size on a fresh control plane (v1.36.3, etcd without fsync, kwok v0.8.0 nodes), with controller-manager and scheduler at ' +
        '`--kube-api-qps=500 --kube-api-burst=1000` (defaults 20/30 and 50/100). *To scheduled*: from spawning `fathom run --backend kubernetes --wait` ' +
        'until every node has its DaemonSet pod bound; it includes the aggregator pod being scheduled and marked Running, and `fathom aggregator` starting ' +
        '(the bench plays the kubelet: it starts the pod’s command as a process on this machine).',
      '*Requests*: every API request fathom made — `fathom run`, the aggregator, `fathom retrieve` — counted at the API server in an audit log that ' +
        'records only fathom’s service accounts (`fathom run`/`retrieve` use a cluster-admin service account, not system:masters); ' +
        'the APF column is `apiserver_flowcontrol_dispatched_requests_total` of a FlowSchema for the same accounts, which does not see the pod-proxy download.',
      '*Uploads*: all nodes’ workers upload at once, each with the worker’s own mTLS client and retry policy, a new connection each; ' +
        '*peak RSS* is the aggregator process’s VmHWM (`fathom aggregator`, the pod’s command) read right after the last upload was answered.',
      ...failures.map((f) => `**${f.nodes} nodes failed**: ${f.error.split('\n')[0]}`),
    ];
    return {
      data: { runs, failures, extraArgs: EXTRA_ARGS },
      tables: [
        {
          title: 'Kubernetes backend on the test control plane (kwok nodes, one DaemonSet plugin)',
          columns: [
            'nodes',
            'to scheduled',
            'requests/node',
            'aggregator peak RSS',
            'uploads wall time',
            'cluster start',
          ],
          rows: runs.map((r) => [
            count(r.nodes),
            ms(r.scheduledMs),
            `${perNode(r.requests.audit.total, r.nodes)} (${count(r.requests.audit.total)} in all)`,
            mib(r.aggregator.hwmAfterUploadsKiB),
            ms(r.uploads.wallMs),
            ms(r.clusterStartMs),
          ]),
          notes,
        },
        {
          title: 'Phases (from spawning `fathom run`) and uploads',
          columns: [
            'nodes',
            'aggregator pod Running',
            'aggregator spawned',
            'DaemonSet created',
            'first / all DaemonSet pods',
            'run complete',
            'retrieve',
            'uploads p50 / p99 / max, retried',
            'aggregator RSS before uploads → after → end',
            'CPU in uploads: aggregator / workers',
          ],
          rows: runs.map((r) => [
            count(r.nodes),
            ms(r.aggregatorPodRunningMs),
            ms(r.aggregatorStartedMs),
            ms(r.daemonSetCreatedMs),
            `${ms(r.firstPluginPodMs)} / ${ms(r.scheduledMs)}`,
            ms(r.runExitMs),
            `${ms(r.retrieveMs)} (${bytes(r.tarballBytes)})`,
            `${ms(r.uploads.p50Ms)} / ${ms(r.uploads.p99Ms)} / ${ms(r.uploads.maxMs)}, ${r.uploads.retried}`,
            `${mib(r.aggregator.hwmBeforeUploadsKiB)} → ${mib(r.aggregator.hwmAfterUploadsKiB)} → ${mib(r.aggregator.hwmEndKiB)}`,
            `${ms(r.aggregator.cpuUploadsMs)} / ${ms(r.uploads.workersCpuMs)}`,
          ]),
          notes: [
            `Each upload is a ${bytes(runs[0]!.uploads.tarballBytesEach)} tar.gz (a 20-test JUnit file and a log). ` +
              '*Run complete*: `fathom run --wait` exited, having seen the status annotation say complete.',
          ],
        },
        {
          title: 'API requests by fathom, counted at the API server',
          columns: [
            'nodes',
            'fathom (audit)',
            'to scheduled / uploads / rest',
            'by verb',
            'APF flow',
            'all clients (`apiserver_request_total`)',
            'status annotation',
            'watchers the server closed',
          ],
          rows: runs.map((r) => [
            count(r.nodes),
            count(r.requests.audit.total),
            `${r.requests.toScheduled} / ${r.requests.duringUploads} / ${r.requests.afterUploads}`,
            verbs(r.requests.audit),
            count(r.requests.apfDispatched),
            `${count(r.requests.allClients)} (${perNode(r.requests.allClients, r.nodes)}/node)`,
            bytes(r.statusAnnotationBytes),
            count(r.requests.terminatedWatchers),
          ]),
          notes: [
            '*All clients* is the `apiserver_request_total` increase over the same window: scheduler, controller-manager and kwok (node leases, pod status) included. ' +
              'The status annotation is the run status on the aggregator pod at the end (the API caps all annotations of an object at 256 KiB). ' +
              '*Watchers the server closed*: `apiserver_terminated_watchers_total` (any client) — watches that fell behind a burst of pod events and were ended; fathom’s informer resumes them, each resumption is one more `watch`.',
          ],
        },
      ],
    };
  },
};
