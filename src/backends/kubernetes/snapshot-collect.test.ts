/**
 * The snapshot's I/O against a small API stand-in on a real socket (the real API server is in
 * test/integration/kubernetes-snapshot.test.ts): discovery, paged lists written as List objects,
 * the node proxy, pod logs, and failures (forbidden, unreachable node, 429, no answer) recorded in
 * meta/query-time.json while everything else is still written.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { DEFAULT_SNAPSHOT_CONFIG, type SnapshotConfig } from '../../snapshot/config.js';
import { createKubeClient, type KubeClient } from './api/client.js';
import { resolveKubeconfig } from './api/kubeconfig.js';
import { collectClusterSnapshot } from './snapshot-collect.js';

let server: http.Server;
let dir: string;
let client: KubeClient;
let inFlight = 0;
let maxInFlight = 0;
let seen: URL[] = [];
/** Per path: a handler that answers (or holds) the request itself. */
let special: Record<string, (res: http.ServerResponse, url: URL) => void> = {};

type Answer = [number, unknown];
const status = (code: number, reason: string, message: string): Answer => [
  code,
  { kind: 'Status', code, reason, message },
];
const res = (name: string, namespaced: boolean, kind: string, verbs = ['get', 'list']) => ({
  name,
  namespaced,
  kind,
  verbs,
});
const pod = (ns: string, name: string, containers: string[], extra: object = {}) => ({
  metadata: { name, namespace: ns, uid: `${ns}-${name}`, managedFields: [{ manager: 'x' }] },
  spec: { containers: containers.map((c) => ({ name: c })) },
  status: { phase: 'Running' },
  ...extra,
});

const lists: Record<string, unknown[]> = {
  '/api/v1/namespaces': ['fathom', 'kube-system', 'other'].map((name) => ({ metadata: { name } })),
  '/api/v1/nodes': ['n1', 'n2', 'n3'].map((name) => ({ metadata: { name } })),
  '/api/v1/namespaces/fathom/pods': [
    pod('fathom', 'agg', ['aggregator', 'sidecar']),
    pod('fathom', 'gone', ['c'], { status: { phase: 'Failed', reason: 'Evicted' } }),
  ],
  '/api/v1/namespaces/fathom/configmaps': [{ metadata: { name: 'cm' }, data: { k: 'v' } }],
  '/api/v1/namespaces/fathom/secrets': [
    { metadata: { name: 's' }, type: 'Opaque', data: { password: 'c2VjcmV0' } },
  ],
};

const routes: Record<string, () => Answer> = {
  '/version': () => [200, { major: '1', minor: '36', gitVersion: 'v1.36.3' }],
  '/api': () => [200, { kind: 'APIVersions', versions: ['v1'] }],
  '/apis': () => [
    200,
    {
      kind: 'APIGroupList',
      groups: ['apps', 'broken.dev'].map((name) => ({
        name,
        versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
        preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
      })),
    },
  ],
  '/api/v1': () => [
    200,
    {
      resources: [
        res('nodes', false, 'Node'),
        res('nodes/proxy', false, 'NodeProxyOptions', ['get']),
        res('namespaces', false, 'Namespace'),
        res('pods', true, 'Pod'),
        res('pods/log', true, 'Pod', ['get']),
        res('secrets', true, 'Secret'),
        res('configmaps', true, 'ConfigMap'),
        res('bindings', true, 'Binding', ['create']),
      ],
    },
  ],
  '/apis/apps/v1': () => [200, { resources: [res('deployments', true, 'Deployment')] }],
  '/apis/broken.dev/v1': () => status(503, 'ServiceUnavailable', 'the backend is down'),
  '/apis/apps/v1/namespaces/other/deployments': () =>
    status(403, 'Forbidden', 'deployments.apps is forbidden: no list for you'),
  '/api/v1/nodes/n1/proxy/configz': () => [200, { kubeletconfig: { b: 1, a: { d: 2, c: 3 } } }],
  '/api/v1/nodes/n3/proxy/configz': () => [200, { kubeletconfig: {} }],
};

beforeEach(async () => {
  inFlight = 0;
  maxInFlight = 0;
  seen = [];
  special = {};
  server = http.createServer((req, response) => {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname;
    seen.push(url);
    if (special[path]) return special[path](response, url);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let answer: Answer | string;
    if (lists[path]) {
      // Pages of two, whatever the limit: the client must follow `continue`.
      const from = Number(url.searchParams.get('continue') ?? 0);
      const items = lists[path].slice(from, from + 2);
      const more = from + 2 < lists[path].length;
      answer = [
        200,
        {
          kind: 'List',
          metadata: { resourceVersion: '42', ...(more ? { continue: String(from + 2) } : {}) },
          items,
        },
      ];
    } else if (/^\/api\/v1\/nodes\/n2\/proxy\//.test(path)) {
      answer = status(503, 'ServiceUnavailable', 'dial tcp 127.1.0.2:10250: connection refused');
    } else if (/\/proxy\/healthz$/.test(path)) {
      answer = 'ok';
    } else if (path.endsWith('/log')) {
      // The stand-in ignores limitBytes: the collector must cut the log itself.
      answer = `log of ${url.searchParams.get('container')}\n${'x'.repeat(64)}\n`;
    } else {
      answer = routes[path]?.() ?? [200, { kind: 'List', metadata: {}, items: [] }];
    }
    setImmediate(() => {
      inFlight--;
      if (typeof answer === 'string') {
        response.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      } else {
        response.writeHead(answer[0], { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer[1]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  dir = await mkdtemp(join(tmpdir(), 'fathom-snapshot-'));
  const kubeconfig = join(dir, 'config');
  const port = (server.address() as AddressInfo).port;
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true },
        },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  client = createKubeClient(resolveKubeconfig({ kubeconfig, env: {} }));
});

afterEach(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function files(root: string): Promise<string[]> {
  const out = await readdir(root, { recursive: true, withFileTypes: true });
  return out
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

const json = async (root: string, rel: string): Promise<unknown> =>
  JSON.parse(await readFile(join(root, rel), 'utf8')) as unknown;

const withConfig = (over: Partial<SnapshotConfig>, limits: object = {}): SnapshotConfig => ({
  ...DEFAULT_SNAPSHOT_CONFIG,
  ...over,
  Limits: { PodLogs: { ...DEFAULT_SNAPSHOT_CONFIG.Limits.PodLogs, ...limits } },
});

const rows = (records: { queryobj: string; namespace?: string; error?: string }[]) =>
  records.map((r) => `${r.queryobj}@${r.namespace ?? ''}${r.error ? ' !' : ''}`);

describe('collectClusterSnapshot', () => {
  it("collects Sonobuoy's default snapshot, several requests at a time, recording failures in its order", async () => {
    const root = join(dir, 'root');
    const records = await collectClusterSnapshot({
      client,
      root,
      clock: new ManualClock(),
      namespace: 'fathom',
      config: withConfig({}, { LimitBytes: 20 }),
      concurrency: 3,
      nodeConcurrency: 2,
    });
    expect(rows(records)).toEqual([
      'Nodes@ !',
      'nodes@',
      'namespaces@',
      'serverversion@',
      'servergroups@',
      ...['fathom', 'kube-system'].flatMap((ns) => [
        `pods@${ns}`,
        `configmaps@${ns}`,
        `deployments@${ns}`,
      ]),
      'pods@other',
      'configmaps@other',
      'deployments@other !',
      'PodLogs@fathom',
      'PodLogs@kube-system',
      'PodLogs@',
    ]);
    expect(records.find((r) => r.queryobj === 'Nodes')!.error).toBe(
      '1 of 3 nodes failed: n2: reading configz of node n2: ServiceUnavailable: dial tcp 127.1.0.2:10250: connection refused; ' +
        'reading healthz of node n2: ServiceUnavailable: dial tcp 127.1.0.2:10250: connection refused',
    );
    expect(records.find((r) => r.namespace === 'other' && r.error)!.error).toBe(
      'listing deployments in namespace other: Forbidden: deployments.apps is forbidden: no list for you',
    );
    expect(records.every((r) => /^\d+(\.\d+)?(ns|µs|ms|s)$|^0s$/.test(r.time))).toBe(true);
    expect(await json(root, 'meta/query-time.json')).toEqual(records);

    expect(await files(root)).toEqual([
      'hosts/n1/configz.json',
      'hosts/n1/healthz.json',
      'hosts/n3/configz.json',
      'hosts/n3/healthz.json',
      'meta/query-time.json',
      'podlogs/fathom/agg/logs/aggregator.txt',
      'podlogs/fathom/agg/logs/sidecar.txt',
      'resources/cluster/core_v1_namespaces.json',
      'resources/cluster/core_v1_nodes.json',
      'resources/ns/fathom/core_v1_configmaps.json',
      'resources/ns/fathom/core_v1_pods.json',
      'servergroups.json',
      'serverversion.json',
    ]);
    // configz re-encoded with sorted keys, as Go marshals a map; healthz is the status code.
    expect(await readFile(join(root, 'hosts/n1/configz.json'), 'utf8')).toBe(
      '{"kubeletconfig":{"a":{"c":3,"d":2},"b":1}}',
    );
    expect(await json(root, 'hosts/n1/healthz.json')).toEqual({ status: 200 });
    // Three nodes over two pages, written as one List object; items typed, managedFields gone.
    expect(await json(root, 'resources/cluster/core_v1_nodes.json')).toEqual({
      apiVersion: 'v1',
      items: ['n1', 'n2', 'n3'].map((name) => ({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name },
      })),
      kind: 'NodeList',
      metadata: { resourceVersion: '42' },
    });
    const pods = (await json(root, 'resources/ns/fathom/core_v1_pods.json')) as {
      kind: string;
      items: { metadata: object }[];
    };
    expect(pods.kind).toBe('PodList');
    expect(pods.items[0]!.metadata).not.toHaveProperty('managedFields');
    expect(await json(root, 'servergroups.json')).toMatchObject({
      groups: [{ name: '' }, { name: 'apps' }, { name: 'broken.dev' }],
    });
    // Each log cut at LimitBytes, which is also asked of the server; the evicted pod is skipped.
    expect(await readFile(join(root, 'podlogs/fathom/agg/logs/aggregator.txt'), 'utf8')).toBe(
      'log of aggregator\nxx',
    );
    const logQueries = seen.filter((u) => u.pathname.endsWith('/log'));
    expect(logQueries.map((u) => u.searchParams.get('limitBytes'))).toEqual(['20', '20']);
    // Secrets are not listed by default; the failed group is left out, not fatal.
    expect(seen.some((u) => u.pathname.endsWith('/secrets'))).toBe(false);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(5);
  });

  it('collects exactly the named resources, filtered, and never writes secrets’ values', async () => {
    const root = join(dir, 'root');
    const records = await collectClusterSnapshot({
      client,
      root,
      clock: new ManualClock(),
      namespace: 'fathom',
      config: withConfig(
        {
          Resources: ['secrets', 'configmaps', 'podlogs'],
          Filters: { Namespaces: '^fath', LabelSelector: 'app=web' },
        },
        { SonobuoyNamespace: false, Namespaces: '^fathom$', TailLines: 5, LimitBytes: null },
      ),
    });
    expect(rows(records)).toEqual([
      'secrets@fathom',
      'configmaps@fathom',
      'PodLogs@fathom',
      'PodLogs@',
    ]);
    expect(await json(root, 'resources/ns/fathom/core_v1_secrets.json')).toEqual({
      apiVersion: 'v1',
      items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque' }],
      kind: 'SecretList',
      metadata: { resourceVersion: '42' },
    });
    const listed = seen.filter((u) => /\/(secrets|configmaps)$/.test(u.pathname));
    expect(listed.map((u) => u.searchParams.get('labelSelector'))).toEqual(['app=web', 'app=web']);
    const log = seen.find((u) => u.pathname.endsWith('/log'))!;
    expect(Object.fromEntries(log.searchParams)).toEqual({
      container: 'aggregator',
      tailLines: '5',
    });
    expect(await files(root)).not.toContain('serverversion.json');
    expect(seen.some((u) => u.pathname.includes('/proxy/'))).toBe(false);
  });

  it('waits out the Retry-After of a 429 and then succeeds', async () => {
    const clock = new ManualClock();
    let refused = 0;
    let retriedAt: number | undefined;
    let sent429!: () => void;
    const was429 = new Promise<void>((r) => (sent429 = r));
    special['/api/v1/namespaces/fathom/configmaps'] = (response) => {
      if (refused++ === 0) {
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        response.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests' }));
        sent429();
        return;
      }
      retriedAt = clock.now();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ metadata: {}, items: [{ metadata: { name: 'cm' } }] }));
    };
    const start = clock.now();
    const collecting = collectClusterSnapshot({
      client,
      root: join(dir, 'root'),
      clock,
      namespace: 'fathom',
      config: withConfig({
        Resources: ['configmaps'],
        Filters: { Namespaces: '^fathom$', LabelSelector: '' },
      }),
    });
    await was429;
    await clock.advance(6_999);
    expect(retriedAt).toBeUndefined();
    await clock.advance(1);
    const records = await collecting;
    expect(retriedAt! - start).toBe(7_000);
    expect(rows(records)).toEqual(['configmaps@fathom']);
  });

  it('gives up on a request with no answer after the timeout and records it', async () => {
    const clock = new ManualClock();
    let reached!: () => void;
    const hung = new Promise<void>((r) => (reached = r));
    let held = 0;
    // Never answered; both containers' requests must be waiting before time moves.
    special['/api/v1/namespaces/fathom/pods/agg/log'] = () => void (++held === 2 && reached());
    const collecting = collectClusterSnapshot({
      client,
      root: join(dir, 'root'),
      clock,
      namespace: 'fathom',
      queryTimeoutMs: 30_000,
      config: withConfig(
        { Resources: ['podlogs'] },
        { SonobuoyNamespace: false, Namespaces: '^fathom$' },
      ),
    });
    await hung;
    await clock.advance(30_000);
    const records = await collecting;
    expect(records[0]).toMatchObject({ queryobj: 'PodLogs', namespace: 'fathom' });
    expect(records[0]!.error).toMatch(
      /^2 of 2 container logs failed: agg\/aggregator: reading the log of container aggregator of pod fathom\/agg: no answer within 30s; agg\/sidecar: .*no answer within 30s$/,
    );
  });
});
