/**
 * The Kubernetes ClusterReader's discovery and paging against a small API stand-in on a real
 * socket (the real API server is in test/integration/health-watch.test.ts): what is asked, how
 * often, and how a kind that appears later is found again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, ManualClock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { createKubeClient, type KubeClient } from './api/client.js';
import { resolveKubeconfig } from './api/kubeconfig.js';
import { createKubeClusterReader } from './reader.js';

type Routes = Record<string, (url: URL) => unknown>;

let server: http.Server;
let routes: Routes;
let requests: string[];
let dir: string;
let client: KubeClient;

beforeEach(async () => {
  routes = {};
  requests = [];
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    const route = routes[url.pathname];
    const body = route?.(url);
    const status = body === undefined ? 404 : typeof body === 'number' ? body : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        status === 200 ? body : { kind: 'Status', code: status, reason: 'NotFound', message: 'no' },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  dir = await mkdtemp(join(tmpdir(), 'fathom-kreader-'));
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

const group = (name: string, versions: string[], preferred = versions[0]!) => ({
  name,
  versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
  preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
});

describe('the Kubernetes ClusterReader', () => {
  it('asks discovery once per group version, and again for a missing kind only after a while', async () => {
    const groups = [group('apps', ['v1'])];
    routes['/apis'] = () => ({ groups });
    routes['/apis/apps/v1'] = () => ({
      resources: [
        { name: 'deployments', kind: 'Deployment', namespaced: true },
        { name: 'deployments/status', kind: 'Deployment', namespaced: true },
      ],
    });
    routes['/apis/example.com/v1'] = () => ({
      resources: [{ name: 'widgets', kind: 'Widget', namespaced: false }],
    });
    const clock = new ManualClock();
    const reader = createKubeClusterReader(client, { clock });
    const widget = { group: 'example.com', kind: 'Widget' };

    expect(await reader.scopeOf({ group: 'apps', kind: 'Deployment' })).toBe('Namespaced');
    expect(await reader.scopeOf({ group: 'apps', kind: 'Deployment' })).toBe('Namespaced');
    expect(await reader.scopeOf(widget)).toBeUndefined();
    expect(requests).toEqual(['/apis', '/apis/apps/v1']);

    groups.push(group('example.com', ['v1'])); // its CRD is applied
    await clock.advance(9_999);
    const err = await reader.resourceFor(widget).catch((e: unknown) => e);
    expect((err as FathomError).message).toBe(
      'the API server does not serve kind Widget.example.com (is its CustomResourceDefinition installed?)',
    );
    expect(requests).toHaveLength(2);
    await clock.advance(1);
    expect(await reader.resourceFor(widget)).toEqual({
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
      resource: 'widgets',
      namespaced: false,
    });
    expect(requests.slice(2)).toEqual(['/apis', '/apis/example.com/v1']);
  });

  it('falls back from the preferred version to one that serves the kind; core kinds use /api/v1', async () => {
    routes['/apis'] = () => ({ groups: [group('example.com', ['v2', 'v1'])] });
    routes['/apis/example.com/v2'] = () => ({ resources: [] });
    routes['/apis/example.com/v1'] = () => ({
      resources: [{ name: 'gadgets', kind: 'Gadget', namespaced: true }],
    });
    routes['/api/v1'] = () => ({
      resources: [{ name: 'namespaces', kind: 'Namespace', namespaced: false }],
    });
    const reader = createKubeClusterReader(client, { clock: systemClock });
    expect(await reader.resourceFor({ group: 'example.com', kind: 'Gadget' })).toMatchObject({
      version: 'v1',
      resource: 'gadgets',
    });
    expect(await reader.scopeOf({ group: '', kind: 'Namespace' })).toBe('Cluster');
  });

  it('LISTs page by page with the selector, giving every item its apiVersion and kind', async () => {
    routes['/api/v1'] = () => ({
      resources: [{ name: 'pods', kind: 'Pod', namespaced: true }],
    });
    routes['/api/v1/namespaces/shop/pods'] = (url) =>
      url.searchParams.get('continue') === 'p2'
        ? { items: [{ metadata: { name: 'c' } }], metadata: {} }
        : {
            items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
            metadata: { continue: 'p2' },
          };
    const reader = createKubeClusterReader(client, { clock: systemClock });
    const pods = await reader.list({ group: '', kind: 'Pod' }, 'shop', {
      matchLabels: { app: 'web' },
    });
    expect(pods).toEqual(
      ['a', 'b', 'c'].map((name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name } })),
    );
    expect(requests.slice(1)).toEqual([
      '/api/v1/namespaces/shop/pods?limit=500&labelSelector=app%3Dweb',
      '/api/v1/namespaces/shop/pods?limit=500&labelSelector=app%3Dweb&continue=p2',
    ]);
    // GET: 404 is "not there", a namespaced kind needs a namespace.
    expect(await reader.get({ group: '', kind: 'Pod', namespace: 'shop', name: 'x' })).toBe(
      undefined,
    );
    const err = await reader
      .get({ group: '', kind: 'Pod', namespace: '', name: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FathomError);
    expect((err as FathomError).message).toBe(
      'resource Pod x is namespace scoped, but namespace is not set',
    );
  });

  it('does not remember a failed discovery', async () => {
    let fail = true;
    routes['/api/v1'] = () =>
      fail ? 500 : { resources: [{ name: 'pods', kind: 'Pod', namespaced: true }] };
    const reader = createKubeClusterReader(client, { clock: systemClock });
    const err = await reader.scopeOf({ group: '', kind: 'Pod' }).catch((e: unknown) => e);
    expect((err as FathomError).code).toBe('FATHOM_KUBE_API_ERROR');
    fail = false;
    expect(await reader.scopeOf({ group: '', kind: 'Pod' })).toBe('Namespaced');
  });
});
