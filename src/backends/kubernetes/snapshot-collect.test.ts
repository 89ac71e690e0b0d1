/**
 * The snapshot's I/O against a small API stand-in on a real socket (the real API server is in
 * test/integration/kubernetes-run.test.ts): files for non-empty lists only, and a forbidden or
 * unknown kind recorded in meta/query-time.json while everything else is still written.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { createKubeClient, type KubeClient } from './api/client.js';
import { resolveKubeconfig } from './api/kubeconfig.js';
import type { QueryRecord } from './snapshot.js';
import { collectClusterSnapshot } from './snapshot-collect.js';

let server: http.Server;
let dir: string;
let client: KubeClient;
let hang: { path: string; reached: () => void } | undefined;
let inFlight = 0;
let maxInFlight = 0;

const list = (items: unknown[]) => ({ kind: 'List', metadata: {}, items });
const routes: Record<string, () => [number, unknown]> = {
  '/version': () => [200, { major: '1', minor: '33', gitVersion: 'v1.33.1' }],
  '/api': () => [200, { kind: 'APIVersions', versions: ['v1'] }],
  '/apis': () => [200, { kind: 'APIGroupList', groups: [] }],
  '/api/v1/nodes': () => [200, list([{ metadata: { name: 'n1' } }, { metadata: { name: 'n2' } }])],
  '/api/v1/namespaces/fathom/pods': () => [200, list([{ metadata: { name: 'p' } }])],
  '/apis/rbac.authorization.k8s.io/v1/clusterroles': () => [
    403,
    {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'clusterroles.rbac.authorization.k8s.io is forbidden',
    },
  ],
  '/apis/storage.k8s.io/v1/storageclasses': () => [
    404,
    {
      kind: 'Status',
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    },
  ],
};

beforeEach(async () => {
  inFlight = 0;
  maxInFlight = 0;
  hang = undefined;
  server = http.createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === hang?.path) return hang.reached(); // never answered
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const [status, body] = routes[path]?.() ?? [200, list([])];
    setImmediate(() => {
      inFlight--;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
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

describe('collectClusterSnapshot', () => {
  it('writes non-empty lists, version and groups, and records failing queries instead of failing', async () => {
    const root = join(dir, 'root');
    const records = await collectClusterSnapshot({
      client,
      root,
      namespaces: ['fathom', 'kube-system'],
      clock: new ManualClock(),
      concurrency: 2,
    });
    expect(await files(root)).toEqual([
      'meta/query-time.json',
      'resources/cluster/core_v1_nodes.json',
      'resources/ns/fathom/core_v1_pods.json',
      'servergroups.json',
      'serverversion.json',
    ]);
    expect(
      JSON.parse(await readFile(join(root, 'resources/cluster/core_v1_nodes.json'), 'utf8')),
    ).toEqual([
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } },
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } },
    ]);
    expect(JSON.parse(await readFile(join(root, 'serverversion.json'), 'utf8'))).toMatchObject({
      gitVersion: 'v1.33.1',
    });
    const written = JSON.parse(
      await readFile(join(root, 'meta/query-time.json'), 'utf8'),
    ) as QueryRecord[];
    expect(written).toEqual(records);
    expect(records).toHaveLength(2 + 7 + 12);
    const failed = records.filter((r) => r.error !== undefined);
    expect(failed.map((r) => r.queryobj)).toEqual(['ClusterRoles', 'StorageClasses']);
    expect(failed[0]!.error).toMatch(/listing ClusterRoles.*forbidden/);
    expect(failed[1]!.error).toMatch(/listing StorageClasses.*could not find/);
    expect(records.find((r) => r.queryobj === 'Pods' && r.namespace === 'kube-system')).toEqual({
      queryobj: 'Pods',
      namespace: 'kube-system',
      time: '0ms',
    });
    // Two queries at a time; the groups query alone asks /api and /apis together.
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });

  it('records a query the API server never answers as timed out, on the injected clock', async () => {
    const root = join(dir, 'root');
    const reached = new Promise<void>((resolve) => {
      hang = { path: '/apis/apps/v1/namespaces/fathom/deployments', reached: resolve };
    });
    const clock = new ManualClock();
    const collecting = collectClusterSnapshot({
      client,
      root,
      namespaces: ['fathom'],
      clock,
      queryTimeoutMs: 30_000,
    });
    await reached;
    await clock.advance(30_000);
    const records = await collecting;
    expect(records.filter((r) => r.error !== undefined).map((r) => r.queryobj)).toEqual([
      'ClusterRoles',
      'StorageClasses',
      'Deployments',
    ]);
    expect(records.find((r) => r.queryobj === 'Deployments')).toEqual({
      queryobj: 'Deployments',
      namespace: 'fathom',
      time: '30s',
      error: 'listing Deployments in namespace fathom: no answer within 30s',
    });
    expect(await files(root)).toContain('resources/ns/fathom/core_v1_pods.json');
  });
});
