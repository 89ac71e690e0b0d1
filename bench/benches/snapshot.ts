/**
 * Issue 12: the cluster snapshot on the test control plane with 100 and 1,000 kwok nodes
 * (`FATHOM_BENCH_SNAPSHOT_NODES=100,500` to choose). Per size, on a fresh cluster with a few
 * namespaces of pods, ConfigMaps, Secrets and Services: `collectClusterSnapshot` (what the
 * aggregator runs before packing the tarball) with every namespace, then `sonobuoy query`
 * (v0.57.5, default config: every namespace) on the same cluster; wall time, API requests counted
 * at the server, files and tarball bytes, query errors; beside one `GET /version` on the same
 * client (the floor). The bench measures whatever the function does now: it passes only the
 * client, root, clock, logger and namespaces.
 */
import { clusterBinaries } from '../lib/kube-run.js';
import type { AuditCount } from '../lib/kube-requests.js';
import { snapshotOnce, type SnapshotFigures, type ToolFigures } from '../lib/kube-snapshot.js';
import { sonobuoyPath } from '../lib/peers.js';
import { bytes, count, ms, type Bench, type BenchResult } from '../lib/report.js';

const DEFAULT_NODES = [100, 1000];

function nodeCounts(): number[] {
  const text = process.env.FATHOM_BENCH_SNAPSHOT_NODES?.trim();
  if (!text) return DEFAULT_NODES;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(
      `FATHOM_BENCH_SNAPSHOT_NODES: whole numbers ≥ 1, comma-separated, not "${text}"`,
    );
  return list;
}

/**
 * Requests grouped by what they are: lists (and over how many resource kinds), discovery
 * (`/api`, `/apis`, group versions), node proxy, pod logs, and any other `verb resource`.
 * The service account is left out: both tools run as the same one.
 */
function byKind(c: AuditCount): string {
  const groups = new Map<string, number>();
  const listed = new Set<string>();
  const bump = (k: string, n: number): void => void groups.set(k, (groups.get(k) ?? 0) + n);
  for (const [call, n] of Object.entries(c.byCall)) {
    const [verb = '', resource = ''] = call.split(' ').slice(1);
    if (verb === 'list') {
      listed.add(resource);
      bump('list', n);
    } else if (resource === '/api' || resource.startsWith('/api/') || resource.startsWith('/apis'))
      bump('discovery', n);
    else bump(`${verb} ${resource}`, n);
  }
  return [...groups]
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => (k === 'list' ? `list ${n} (${listed.size} kinds)` : `${k} ${n}`))
    .join(', ');
}

const codes = (c: AuditCount): string =>
  Object.entries(c.byCode)
    .map(([code, n]) => `${code}: ${n}`)
    .join(', ');

function toolRow(nodes: number, tool: string, t: ToolFigures, floorMs: number): string[] {
  return [
    count(nodes),
    tool,
    `${ms(t.wallMs)}${t.problem ? ` (${t.problem})` : ''}`,
    `${(t.wallMs / floorMs).toFixed(0)}×`,
    count(t.requests.total),
    `${count(t.queries)} / ${count(t.queryErrors)}`,
    `${count(t.files)}, ${bytes(t.bytesOnDisk)}`,
    bytes(t.tarballBytes),
  ];
}

export const snapshotBench: Bench = {
  name: 'snapshot',
  description: 'the cluster snapshot on 100 and 1,000 kwok nodes, beside `sonobuoy query`',
  async run(log): Promise<BenchResult> {
    const sizes = nodeCounts();
    const binaries = await clusterBinaries().catch((err: unknown) => err as Error);
    if (binaries instanceof Error)
      return { data: {}, tables: [], skipped: `no control-plane binaries: ${binaries.message}` };
    const sonobuoy = await sonobuoyPath();
    const runs: SnapshotFigures[] = [];
    const failures: { nodes: number; error: string }[] = [];
    for (const nodes of sizes) {
      try {
        runs.push(await snapshotOnce(nodes, binaries, sonobuoy, log));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        failures.push({ nodes, error: message });
        log(`FAILED: ${nodes} nodes: ${message}`);
      }
    }
    if (runs.length === 0)
      throw new Error(failures.map((f) => f.error).join('\n') || 'no node counts');
    const peerRows = runs.filter((r) => r.sonobuoy);
    const ratio = peerRows.map(
      (r) =>
        `${count(r.nodes)} nodes: sonobuoy query / fathom = ${(r.sonobuoy!.wallMs / r.fathom.wallMs).toFixed(1)}× in time, ` +
        `${(r.sonobuoy!.requests.total / Math.max(1, r.fathom.requests.total)).toFixed(1)}× in requests`,
    );
    const errorNotes = runs.flatMap((r) =>
      [
        ['fathom', r.fathom],
        ['sonobuoy', r.sonobuoy],
      ].flatMap(([tool, t]) =>
        t && typeof t === 'object' && t.errorSamples.length > 0
          ? [
              `${count(r.nodes)} nodes, ${tool as string} errors (first ${t.errorSamples.length}): ${t.errorSamples.join('; ')}`,
            ]
          : [],
      ),
    );
    return {
      data: { runs, failures, sonobuoy: sonobuoy.path ?? sonobuoy.problem },
      tables: [
        {
          title:
            'Cluster snapshot on the test control plane (kwok nodes): fathom beside `sonobuoy query`',
          columns: [
            'nodes',
            'tool',
            'wall time',
            'of the floor',
            'API requests',
            'queries / errored',
            'files, bytes',
            'tar.gz',
          ],
          rows: runs.flatMap((r) => [
            [
              count(r.nodes),
              'floor: `GET /version`',
              `${ms(r.floor.warmMs)} (first ${ms(r.floor.coldMs)})`,
              '1×',
              '1',
              '–',
              '–',
              '–',
            ],
            toolRow(r.nodes, '`collectClusterSnapshot`', r.fathom, r.floor.warmMs),
            ...(r.sonobuoy
              ? [toolRow(r.nodes, '`sonobuoy query`', r.sonobuoy, r.floor.warmMs)]
              : []),
          ]),
          notes: [
            'Each size on a fresh control plane (v1.36.3, kwok v0.8.0 nodes) with 3 namespaces of 10 Running pods, a ConfigMap, a Secret and a Service each, ' +
              `queried in every namespace (${runs[0]!.namespaces.length}: the bench's, default, kube-system, kube-public, kube-node-lease and the bench's service-account namespace), ` +
              "as Sonobuoy's default filter (`.*`) does. Both tools run as the same cluster-admin service account (not system:masters), one after the other; " +
              'fathom in the bench process (the function the aggregator runs before packing), Sonobuoy as `sonobuoy query -o DIR` with its default config (every listable resource but secrets, ' +
              'pod logs of kube-system, host configz/healthz through the node proxy, QPS 30 / burst 50) — its wall time includes its process start-up.',
            '*Floor*: the median of 5 `GET /version` on the snapshot client after one that opened the connection (in brackets). *API requests*: every request in the tool’s window, ' +
              'counted at the API server by an audit policy for that service account. *Queries / errored*: rows of `meta/query-time.json` and those with an error. ' +
              '*tar.gz*: the directory packed as fathom packs a results tarball.',
            'On kwok nodes no kubelet answers the node proxy (kwok runs none), so host and pod-log queries can only fail there; ' +
              '`sonobuoy query` stops collecting host data at the first node whose configz fails (one `Nodes` error, one proxy request), ' +
              'where on a real cluster it asks configz and healthz of every node one after the other, at most 30 requests a second.',
            ...ratio,
            ...(sonobuoy.path ? [] : [`\`sonobuoy query\` not run: ${sonobuoy.problem}`]),
            ...failures.map((f) => `**${f.nodes} nodes failed**: ${f.error.split('\n')[0]}`),
          ],
        },
        {
          title: 'Snapshot API requests by kind, counted at the API server',
          columns: ['nodes', 'tool', 'by verb and resource', 'by status'],
          rows: runs.flatMap((r) => [
            [count(r.nodes), 'fathom', byKind(r.fathom.requests), codes(r.fathom.requests)],
            ...(r.sonobuoy
              ? [
                  [
                    count(r.nodes),
                    'sonobuoy',
                    byKind(r.sonobuoy.requests),
                    codes(r.sonobuoy.requests),
                  ],
                ]
              : []),
          ]),
          notes: errorNotes,
        },
      ],
    };
  },
};
