/**
 * The Kubernetes backend's client layer against the real test control plane: kubeconfig
 * resolution and context selection, API errors mapped to fathom codes (RBAC, credentials,
 * unreachable, timeouts), and the watch wrapper surviving a forbidden watch and a dropped
 * connection, with its backoff read from a ManualClock instead of waited for.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProxy } from './api-proxy.js';
import { providedCluster } from './provided.js';
import { parse, stringify } from 'yaml';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { watchObjects, type WatchEvent } from '../../src/backends/kubernetes/api/informer.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { Pod } from '../../src/backends/kubernetes/api/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { FathomError } from '../../src/core/errors.js';

const { cluster, skipReason } = providedCluster();

interface KubeconfigDoc {
  'current-context': string;
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: Record<string, unknown> }[];
}

async function failure(p: Promise<unknown>): Promise<FathomError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FathomError);
    return err as FathomError;
  }
  throw new Error('expected a failure');
}

describe.skipIf(!cluster)(
  `Kubernetes client layer${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `fathom-kc-${randomBytes(3).toString('hex')}`;
    let dir: string;
    let admin: KubeClient;
    let doc: KubeconfigDoc;

    /** A kubeconfig for `server` as the bearer of `token` (or the admin's certificate). */
    async function kubeconfigFor(
      name: string,
      opts: { server?: string; token?: string },
    ): Promise<string> {
      const path = join(dir, name);
      const user = opts.token ? { token: opts.token } : doc.users[0]!.user;
      await writeFile(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'c',
              cluster: { ...doc.clusters[0]!.cluster, server: opts.server ?? cluster!.server },
            },
          ],
          users: [{ name: 'u', user }],
          contexts: [{ name, context: { cluster: 'c', user: 'u' } }],
          'current-context': name,
        }),
      );
      return path;
    }

    function clientFor(path: string, requestTimeout?: string): KubeClient {
      return createKubeClient(
        resolveKubeconfig({ kubeconfig: path, ...(requestTimeout ? { requestTimeout } : {}) }),
      );
    }

    async function serviceAccountToken(name: string): Promise<string> {
      await admin.create(
        resourcePath('', 'serviceaccounts', ns),
        { metadata: { name } },
        `creating ServiceAccount ${name}`,
      );
      const req = await admin.create<{ status: { token: string } }>(
        `${resourcePath('', 'serviceaccounts', ns, name)}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
        `requesting a token for ${name}`,
      );
      return req.status.token;
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fathom-kc-'));
      doc = parse(await readFile(cluster!.kubeconfig, 'utf8')) as KubeconfigDoc;
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      await admin.create(
        '/api/v1/namespaces',
        { metadata: { name: ns } },
        `creating Namespace ${ns}`,
      );
    });

    afterAll(async () => {
      await admin?.remove(
        resourcePath('', 'namespaces', undefined, ns),
        `deleting Namespace ${ns}`,
      );
      admin?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('merges $KUBECONFIG (first current-context wins) and --context picks another', async () => {
      const dead = await kubeconfigFor('dead', { server: 'https://127.0.0.1:1' });
      const env = { KUBECONFIG: [dead, cluster!.kubeconfig].join(delimiter) };
      const first = resolveKubeconfig({ env });
      expect([first.source, first.context, first.server]).toEqual([
        'env',
        'dead',
        'https://127.0.0.1:1',
      ]);
      const down = createKubeClient(first);
      const err = await failure(down.get('/version', 'reading the server version'));
      expect(err.code).toBe('FATHOM_KUBE_UNREACHABLE');
      expect(err.message).toMatch(
        /^reading the server version: cannot reach the API server: .*ECONNREFUSED/,
      );
      down.close();

      const picked = resolveKubeconfig({ env, context: doc['current-context'] });
      expect(picked.server).toBe(cluster!.server);
      const up = createKubeClient(picked);
      expect(
        await up.get<{ gitVersion: string }>('/version', 'reading the server version'),
      ).toMatchObject({
        gitVersion: 'v1.36.3',
      });
      up.close();
    });

    it('maps RBAC refusals, rejected and revoked credentials to one-line errors naming the object', async () => {
      const token = await serviceAccountToken('nobody');
      const nobody = clientFor(await kubeconfigFor('nobody', { token }));
      const forbidden = await failure(
        nobody.create(
          resourcePath('', 'pods', ns),
          { metadata: { name: 'x' } },
          `creating Pod ${ns}/x`,
        ),
      );
      expect(forbidden.code).toBe('FATHOM_KUBE_FORBIDDEN');
      expect(forbidden.message).toBe(
        `creating Pod ${ns}/x: Forbidden: pods is forbidden: User "system:serviceaccount:${ns}:nobody" cannot create resource "pods" in API group "" in the namespace "${ns}"`,
      );
      expect(forbidden.details).toMatchObject({ status: 403, reason: 'Forbidden' });

      nobody.close();

      // A token of a deleted service account is dead: what revoked credentials look like.
      const revokedToken = await serviceAccountToken('gone');
      await admin.remove(
        resourcePath('', 'serviceaccounts', ns, 'gone'),
        'deleting ServiceAccount gone',
      );
      for (const bad of [revokedToken, 'not-a-token']) {
        const client = clientFor(await kubeconfigFor('bad', { token: bad }));
        const refused = await failure(
          client.get(resourcePath('', 'pods', ns), `listing pods in ${ns}`),
        );
        expect([refused.code, refused.message]).toEqual([
          'FATHOM_KUBE_UNAUTHORIZED',
          `listing pods in ${ns}: Unauthorized: Unauthorized`,
        ]);
        client.close();
      }

      const missing = await failure(
        admin.get(resourcePath('', 'pods', ns, 'none'), `reading Pod ${ns}/none`),
      );
      expect([missing.code, missing.message]).toEqual([
        'FATHOM_KUBE_NOT_FOUND',
        `reading Pod ${ns}/none: NotFound: pods "none" not found`,
      ]);
      const invalid = await failure(
        admin.create(
          resourcePath('', 'pods', ns),
          { metadata: { name: 'bad' }, spec: { containers: [] } },
          `creating Pod ${ns}/bad`,
        ),
      );
      expect(invalid.code).toBe('FATHOM_KUBE_INVALID');
      expect(invalid.message).toMatch(
        /^creating Pod .*\/bad: Invalid: Pod "bad" is invalid: spec.containers: Required value/,
      );
      const taken = await failure(
        admin.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating Namespace ${ns}`),
      );
      expect([taken.code, taken.message]).toEqual([
        'FATHOM_KUBE_CONFLICT',
        `creating Namespace ${ns}: AlreadyExists: namespaces "${ns}" already exists`,
      ]);
    });

    it('gives up on a server that accepts but never answers after --request-timeout', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((s) => void sockets.add(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as net.AddressInfo).port;
      const client = clientFor(
        await kubeconfigFor('silent', { server: `https://127.0.0.1:${port}` }),
        '300ms',
      );
      try {
        const err = await failure(client.get('/version', 'reading the server version'));
        expect([err.code, err.message]).toEqual([
          'FATHOM_KUBE_UNREACHABLE',
          'reading the server version: the API server did not answer within --request-timeout',
        ]);
      } finally {
        client.close();
        for (const s of sockets) s.destroy();
        silent.close();
      }
    });

    it('a forbidden watch backs off 1 s, 2 s ... and recovers once RBAC allows it', async () => {
      const token = await serviceAccountToken('watcher');
      const watcher = clientFor(await kubeconfigFor('watcher', { token }));
      const clock = new ManualClock(Date.now());
      const stop = new AbortController();
      const events = watchObjects<Pod>({
        client: watcher,
        path: resourcePath('', 'pods', ns),
        clock,
        signal: stop.signal,
        what: `watching pods in ${ns}`,
      })[Symbol.asyncIterator]();
      const next = async (): Promise<WatchEvent<Pod>> =>
        (await events.next()).value as WatchEvent<Pod>;
      try {
        const first = await next();
        expect(first.type).toBe('error');
        if (first.type !== 'error') return;
        expect([first.error.code, first.retryInMs]).toEqual(['FATHOM_KUBE_FORBIDDEN', 1000]);
        expect(first.error.message).toMatch(
          new RegExp(
            `^watching pods in ${ns}: Forbidden: pods is forbidden: User "system:serviceaccount:${ns}:watcher" cannot list`,
          ),
        );
        expect(clock.pendingDelays()).toEqual([1000]);
        await clock.advance(1000);
        const second = await next();
        expect(second.type === 'error' && second.retryInMs).toBe(2000);
        expect(clock.pendingDelays()).toEqual([2000]);

        await admin.create(
          resourcePath('rbac.authorization.k8s.io', 'roles', ns),
          {
            metadata: { name: 'watch-pods' },
            rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
          },
          'creating Role watch-pods',
        );
        await admin.create(
          resourcePath('rbac.authorization.k8s.io', 'rolebindings', ns),
          {
            metadata: { name: 'watch-pods' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'watch-pods' },
            subjects: [{ kind: 'ServiceAccount', name: 'watcher', namespace: ns }],
          },
          'creating RoleBinding watch-pods',
        );
        // The authorizer learns of the binding by its own watch: a retry may still be refused,
        // but the delays keep doubling until the list succeeds.
        let delay = 2000;
        let ev: WatchEvent<Pod>;
        for (;;) {
          await clock.advance(delay);
          ev = await next();
          if (ev.type !== 'error') break;
          expect(ev.retryInMs).toBe(delay * 2);
          delay *= 2;
        }
        expect(ev).toMatchObject({ type: 'synced', objects: [] });
        await admin.create(
          resourcePath('', 'pods', ns),
          { metadata: { name: 'seen' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
          'creating Pod seen',
        );
        const added = await next();
        expect(added.type === 'added' && added.object.metadata.name).toBe('seen');
      } finally {
        stop.abort();
        expect(await events.next()).toEqual({ done: true, value: undefined });
        expect(clock.pending).toBe(0);
        watcher.close();
      }
    });

    it('a dropped connection (the API server going away) is retried with backoff and the watch resumes', async () => {
      const proxy = await startApiProxy(cluster!.server);
      const client = clientFor(await kubeconfigFor('proxied', { server: proxy.server }));
      const clock = new ManualClock(Date.now());
      const stop = new AbortController();
      const events = watchObjects<Pod>({
        client,
        path: resourcePath('', 'pods', ns),
        labelSelector: 'app=resume',
        clock,
        signal: stop.signal,
        what: `watching pods in ${ns}`,
      })[Symbol.asyncIterator]();
      const next = async (): Promise<WatchEvent<Pod>> =>
        (await events.next()).value as WatchEvent<Pod>;
      const pod = (name: string) => ({
        metadata: { name, labels: { app: 'resume' } },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      });
      try {
        expect(await next()).toMatchObject({ type: 'synced', objects: [] });
        await admin.create(resourcePath('', 'pods', ns), pod('before'), 'creating Pod before');
        const before = await next();
        expect(before.type === 'added' && before.object.metadata.name).toBe('before');

        // The server goes away: open connections break and new ones are refused.
        await proxy.down();
        let down = await next();
        while (down.type === 'updated') down = await next(); // the scheduler and kwok at work
        expect(down.type).toBe('error');
        if (down.type !== 'error') return;
        expect([down.error.code, down.retryInMs]).toEqual(['FATHOM_KUBE_UNREACHABLE', 1000]);
        await clock.advance(1000);
        const still = await next();
        expect(still.type === 'error' && [still.error.code, still.retryInMs]).toEqual([
          'FATHOM_KUBE_UNREACHABLE',
          2000,
        ]);
        expect(clock.pendingDelays()).toEqual([2000]);

        // Meanwhile the world moves on; once the server is back the watch catches up.
        await admin.create(resourcePath('', 'pods', ns), pod('during'), 'creating Pod during');
        await proxy.up();
        await clock.advance(2000);
        let ev = await next();
        while (ev.type === 'updated' && ev.object.metadata.name === 'before') ev = await next();
        expect(ev.type === 'added' && ev.object.metadata.name).toBe('during');
      } finally {
        stop.abort();
        await events.return?.(undefined);
        client.close();
        await proxy.close();
      }
    });
  },
);
