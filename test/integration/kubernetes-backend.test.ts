/**
 * KubernetesBackend against the real test control plane: `start` creates every object with
 * least-privilege RBAC (checked by SelfSubjectAccessReview as the aggregator's own service
 * account), a second run in a namespace is FATHOM_RUN_EXISTS, a start that RBAC stops half-way
 * cleans up or says what it left, status and watch read the annotation, retrieve streams the
 * tarball through the API server's pod proxy, and delete --wait leaves nothing behind.
 * kwok runs no containers, so the aggregator's part is played by the test itself.
 */
import { systemClock } from '../../src/core/clock.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { parse, stringify } from 'yaml';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';
import { KUBERNETES_VERSION } from '../cluster/binaries.js';
import type { RunStatus } from '../../src/aggregation/types.js';
import { KubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { startResultsServer } from '../../src/backends/kubernetes/results-server.js';
import { createStatusAnnotationWriter } from '../../src/backends/kubernetes/runtime.js';
import type { KubeObject, Pod } from '../../src/backends/kubernetes/api/types.js';
import { createRunCa } from '../../src/core/pki.js';
import { FathomError } from '../../src/core/errors.js';
import { parsePluginDocuments } from '../../src/plugin/loader.js';
import type { PluginDefinition } from '../../src/plugin/types.js';
import { freePort, hostAddress } from '../support/net.js';
import { skipOrFail } from '../support/required.js';
import { deleteWaiting } from './delete-wait.js';

const { cluster, skipReason } = providedCluster();

const plugins: PluginDefinition[] = parsePluginDocuments(
  `
sonobuoy-config: {driver: Job, plugin-name: smoke, result-format: junit}
spec: {name: plugin, image: busybox:1.36, command: [./run.sh]}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: inventory, result-format: manual}
spec: {name: plugin, image: busybox:1.36, command: [/bin/sh]}
config-map: {settings.yaml: 'level: 1'}
`,
  'plugins.yaml',
).plugins as PluginDefinition[];

const spec = (namespace: string) => ({
  namespace,
  plugins,
  timeoutMs: 600_000,
  maxResultBytes: 1 << 20,
});

/** A non-loopback address of this machine: the API server refuses to proxy to loopback. */
async function failure(p: Promise<unknown>): Promise<FathomError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FathomError);
    return err as FathomError;
  }
  throw new Error('expected a failure');
}

describe.skipIf(!cluster)(`KubernetesBackend${cluster ? '' : ` (skipped: ${skipReason})`}`, () => {
  const suffix = randomBytes(3).toString('hex');
  const ns = `fathom-kb-${suffix}`;
  let dir: string;
  let admin: KubeClient;
  let http: KubeHttp;
  let backend: KubernetesBackend;
  let uuid: string;
  let caData: string;
  const resultsPortP = freePort();

  async function tokenClient(namespace: string, sa: string): Promise<KubeClient> {
    const req = await admin.create<{ status: { token: string } }>(
      `${resourcePath('', 'serviceaccounts', namespace, sa)}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
      `requesting a token for ${sa}`,
    );
    const path = join(dir, `${namespace}-${sa}.kubeconfig`);
    await writeFile(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'c', cluster: { server: cluster!.server, 'certificate-authority-data': caData } },
        ],
        users: [{ name: sa, user: { token: req.status.token } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: sa } }],
        'current-context': 'x',
      }),
    );
    return createKubeClient(resolveKubeconfig({ kubeconfig: path }));
  }

  async function can(client: KubeClient, attrs: Record<string, string>): Promise<boolean> {
    const review = await client.create<{ status: { allowed: boolean } }>(
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: attrs },
      },
      'reviewing access',
    );
    return review.status.allowed;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-kb-'));
    const doc = parse(await readFile(cluster!.kubeconfig, 'utf8')) as {
      clusters: { cluster: Record<string, string> }[];
    };
    caData = doc.clusters[0]!.cluster['certificate-authority-data']!;
    admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
    http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
    backend = new KubernetesBackend({
      clock: systemClock,
      client: admin,
      resultsPort: await resultsPortP,
    });
  });

  afterAll(async () => {
    for (const n of [ns, `${ns}-own`, `${ns}-half`, `${ns}-left`, `${ns}-ops`, `${ns}-quota`]) {
      await admin
        ?.remove(resourcePath('', 'namespaces', undefined, n), `deleting Namespace ${n}`)
        .catch(() => false);
    }
    admin?.close();
    http?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('start creates every object of the run and the run reads as running', async () => {
    const info = await backend.start(spec(ns));
    uuid = info.uuid;
    expect(info).toMatchObject({ namespace: ns, backend: 'kubernetes' });
    const names = async (path: string): Promise<string[]> =>
      (await admin.list<KubeObject>(path, 'listing', { labelSelector: `fathom-run=${uuid}` })).items
        .map((o) => o.metadata.name)
        .sort();
    expect(await names(resourcePath('', 'serviceaccounts', ns))).toEqual([
      'fathom-aggregator',
      'fathom-plugin',
    ]);
    expect(await names(resourcePath('rbac.authorization.k8s.io', 'roles', ns))).toEqual([
      'fathom-aggregator',
      'fathom-plugin',
    ]);
    expect(await names(resourcePath('rbac.authorization.k8s.io', 'rolebindings', ns))).toEqual([
      'fathom-aggregator',
      'fathom-plugin',
    ]);
    expect(await names(resourcePath('rbac.authorization.k8s.io', 'clusterroles'))).toEqual([
      `fathom-aggregator-${ns}`,
    ]);
    expect(await names(resourcePath('rbac.authorization.k8s.io', 'clusterrolebindings'))).toEqual([
      `fathom-aggregator-${ns}`,
    ]);
    expect(await names(resourcePath('', 'configmaps', ns))).toEqual([
      'fathom-config',
      'fathom-plugin-inventory-cm',
      'fathom-plugins',
    ]);
    expect(await names(resourcePath('', 'secrets', ns))).toEqual(['fathom-retrieve']);
    expect(await names(resourcePath('', 'services', ns))).toEqual(['fathom-aggregator']);
    expect(await names(resourcePath('', 'pods', ns))).toEqual(['fathom-aggregator']);
    const namespace = await admin.get<KubeObject>(
      resourcePath('', 'namespaces', undefined, ns),
      'reading',
    );
    expect(namespace.metadata.labels).toMatchObject({
      'fathom-run': uuid,
      'fathom-created-by': 'fathom',
    });
    expect(await backend.status(ns)).toEqual({
      plugins: [],
      status: 'running',
      'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
    });
    expect(await backend.list()).toContain(ns);
  });

  it("tells the API server's version as e2e's image tag, and gives it to the plugins", async () => {
    expect(await backend.kubernetesVersion()).toBe(KUBERNETES_VERSION);
    const cm = await admin.get<KubeObject & { data: Record<string, string> }>(
      resourcePath('', 'configmaps', ns, 'fathom-config'),
      'reading',
    );
    const config = JSON.parse(cm.data['config.json']!) as { kubernetesVersion: string };
    expect(config.kubernetesVersion).toBe(KUBERNETES_VERSION);
  });

  it("the aggregator's service account may do exactly its job", async () => {
    const sa = await tokenClient(ns, 'fathom-aggregator');
    const session = uuid.replace(/-/g, '').slice(0, 16);
    const allowed: Record<string, string>[] = [
      { verb: 'list', resource: 'nodes' },
      { verb: 'watch', resource: 'nodes' },
      { verb: 'create', resource: 'pods', namespace: ns },
      { verb: 'watch', resource: 'pods', namespace: ns },
      { verb: 'patch', resource: 'pods', namespace: ns, name: 'fathom-aggregator' },
      { verb: 'delete', resource: 'pods', namespace: ns, name: `fathom-smoke-job-${session}` },
      { verb: 'create', resource: 'daemonsets', group: 'apps', namespace: ns },
      {
        verb: 'delete',
        resource: 'daemonsets',
        group: 'apps',
        namespace: ns,
        name: `fathom-inventory-daemon-set-${session}`,
      },
      { verb: 'create', resource: 'secrets', namespace: ns },
      {
        verb: 'delete',
        resource: 'secrets',
        namespace: ns,
        name: `fathom-plugin-smoke-${session}`,
      },
      // The cluster snapshot by default: list on everything (fathom still skips secrets unless
      // --resources names them), kubelets' configz/healthz through the node proxy, pod logs.
      { verb: 'list', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
      { verb: 'list', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io' },
      { verb: 'list', resource: 'configmaps', namespace: 'kube-system' },
      { verb: 'list', resource: 'deployments', group: 'apps', namespace: 'kube-system' },
      { verb: 'list', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: ns },
      { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'any-node' },
      { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'kube-system', name: 'p' },
    ];
    const denied: Record<string, string>[] = [
      { verb: 'patch', resource: 'pods', namespace: ns, name: 'someone-else' },
      { verb: 'delete', resource: 'pods', namespace: ns, name: 'someone-else' },
      { verb: 'delete', resource: 'pods', namespace: ns, name: 'fathom-aggregator' },
      { verb: 'delete', resource: 'daemonsets', group: 'apps', namespace: ns, name: 'other' },
      { verb: 'get', resource: 'secrets', namespace: ns, name: 'fathom-retrieve' },
      { verb: 'delete', resource: 'secrets', namespace: ns, name: 'fathom-retrieve' },
      { verb: 'create', resource: 'pods', namespace: 'default' },
      { verb: 'delete', resource: 'nodes' },
      { verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
      { verb: 'create', resource: 'pods', namespace: ns, subresource: 'exec' },
      { verb: 'update', resource: 'configmaps', namespace: ns, name: 'fathom-config' },
      { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'kube-root-ca.crt' },
      { verb: 'watch', resource: 'configmaps', namespace: 'kube-system' },
      { verb: 'get', resource: 'secrets', namespace: 'kube-system', name: 'any' },
      { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'any-node' },
    ];
    for (const a of allowed) expect(await can(sa, a), `allowed: ${JSON.stringify(a)}`).toBe(true);
    for (const a of denied) expect(await can(sa, a), `denied: ${JSON.stringify(a)}`).toBe(false);
    sa.close();
    const plugin = await tokenClient(ns, 'fathom-plugin');
    expect(await can(plugin, { verb: 'get', resource: 'pods', namespace: ns })).toBe(true);
    expect(await can(plugin, { verb: 'list', resource: 'pods', namespace: ns })).toBe(false);
    expect(await can(plugin, { verb: 'create', resource: 'pods', namespace: ns })).toBe(false);
    plugin.close();
  });

  it('a second run in the namespace is FATHOM_RUN_EXISTS and changes nothing', async () => {
    const before = await admin.get<Pod>(
      resourcePath('', 'pods', ns, 'fathom-aggregator'),
      'reading',
    );
    const err = await failure(backend.start(spec(ns)));
    expect([err.code, err.message]).toEqual([
      'FATHOM_RUN_EXISTS',
      `a run already exists in namespace "${ns}": run \`fathom delete -n ${ns}\` first`,
    ]);
    const after = await admin.get<Pod>(
      resourcePath('', 'pods', ns, 'fathom-aggregator'),
      'reading',
    );
    expect(after.metadata.uid).toBe(before.metadata.uid);
  });

  it('status and watch follow the annotation the aggregator writes on its own pod', async () => {
    const sa = await tokenClient(ns, 'fathom-aggregator');
    const publish = createStatusAnnotationWriter({
      clock: systemClock,
      client: sa,
      namespace: ns,
      pod: 'fathom-aggregator',
    });
    const running: RunStatus = {
      plugins: [
        {
          plugin: 'smoke',
          node: 'global',
          status: 'running',
          'result-status': '',
          'result-counts': null,
        },
      ],
      status: 'running',
      'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
    };
    await publish(running);
    expect(await backend.status(ns)).toEqual(running);
    const stop = new AbortController();
    const seen: RunStatus[] = [];
    const watching = (async () => {
      for await (const s of backend.watch(ns, stop.signal)) {
        seen.push(s);
        if (seen.length === 1) await publish({ ...running, status: 'post-processing' });
        if (seen.length === 2) break;
      }
    })();
    await watching;
    expect(seen.map((s) => s.status)).toEqual(['running', 'post-processing']);
    sa.close();
  }, 30_000);

  it('retrieve streams the tarball from the aggregator through the pod proxy and checks it', async (ctx) => {
    const ip = hostAddress();
    if (!ip)
      return skipOrFail(
        ctx,
        'this machine has no non-loopback IPv4 address for the pod proxy to reach',
      );
    // Stand in for the aggregator: its results listener on this machine, the pod's IP pointing here.
    const secret = await admin.get<{ data: Record<string, string> }>(
      resourcePath('', 'secrets', ns, 'fathom-retrieve'),
      'reading',
    );
    const token = Buffer.from(secret.data.token!, 'base64').toString();
    const ca = await createRunCa({ now: Date.now() });
    const tarPath = join(dir, 'results.tar.gz');
    const bytes = randomBytes(300_000);
    await writeFile(tarPath, bytes);
    const name = `202601010000_sonobuoy_${uuid}.tar.gz`;
    let ready = false;
    const server = await startResultsServer({
      host: '0.0.0.0',
      port: await resultsPortP,
      token,
      tls: await ca.serverCert([ip]),
      tarball: () => (ready ? { name, path: tarPath } : undefined),
    });
    try {
      await admin.mergePatch(
        `${resourcePath('', 'pods', ns, 'fathom-aggregator')}/status`,
        { status: { podIP: ip, podIPs: [{ ip }] } },
        'pointing the pod at this machine',
      );
      const early = await failure(backend.retrieve(ns, join(dir, 'out')));
      expect(early.code).toBe('FATHOM_RUN_NOT_DONE');

      const publish = createStatusAnnotationWriter({
        clock: systemClock,
        client: admin,
        namespace: ns,
        pod: 'fathom-aggregator',
      });
      const tarInfo = {
        name,
        created: '2026-01-01T00:00:00Z',
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
      };
      ready = true;
      await publish({
        plugins: [],
        status: 'complete',
        'tar-info': { ...tarInfo, sha256: '0'.repeat(64) },
      });
      const corrupt = await failure(backend.retrieve(ns, join(dir, 'out')));
      expect(corrupt.code).toBe('FATHOM_RESULTS_INVALID');
      expect(await readdir(join(dir, 'out'))).toEqual([]);

      await publish({ plugins: [], status: 'complete', 'tar-info': tarInfo });
      const path = await backend.retrieve(ns, join(dir, 'out'));
      expect(path).toBe(join(dir, 'out', name));
      expect((await readFile(path)).equals(bytes)).toBe(true);

      // A pod on a loopback IP (a kubelet stand-in on this machine): the API server will not
      // proxy there, so retrieve connects directly.
      await admin.mergePatch(
        `${resourcePath('', 'pods', ns, 'fathom-aggregator')}/status`,
        { status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } },
        'moving the pod to loopback',
      );
      const direct = await backend.retrieve(ns, join(dir, 'direct'));
      expect((await readFile(direct)).equals(bytes)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('delete --wait removes the namespace it made and the cluster-wide RBAC', async () => {
    await deleteWaiting(admin, http, ns);
    expect(
      await admin.find(resourcePath('', 'namespaces', undefined, ns), 'reading'),
    ).toBeUndefined();
    const roles = await admin.list(
      resourcePath('rbac.authorization.k8s.io', 'clusterroles'),
      'listing',
      {
        labelSelector: `fathom-namespace=${ns}`,
      },
    );
    expect(roles.items).toEqual([]);
    expect((await failure(backend.status(ns))).code).toBe('FATHOM_RUN_NOT_FOUND');
    expect((await failure(backend.delete(ns, { wait: true }))).code).toBe('FATHOM_RUN_NOT_FOUND');
    expect(await backend.list()).not.toContain(ns);
  });

  it("in a namespace it did not make, delete --wait removes only fathom's objects", async () => {
    const own = `${ns}-own`;
    await admin.create('/api/v1/namespaces', { metadata: { name: own } }, 'creating');
    await admin.create(
      resourcePath('', 'configmaps', own),
      { metadata: { name: 'theirs' } },
      'creating',
    );
    await backend.start(spec(own));
    await deleteWaiting(admin, http, own, { keepsNamespace: true });
    expect(
      await admin.find(resourcePath('', 'namespaces', undefined, own), 'reading'),
    ).toBeDefined();
    const left = await admin.list<KubeObject>(resourcePath('', 'configmaps', own), 'listing');
    expect(left.items.map((c) => c.metadata.name).sort()).toEqual(['kube-root-ca.crt', 'theirs']);
    expect((await admin.list(resourcePath('', 'pods', own), 'listing')).items).toEqual([]);
    expect(
      (
        await admin.list(resourcePath('', 'serviceaccounts', own), 'listing', {
          labelSelector: 'component=fathom',
        })
      ).items,
    ).toEqual([]);
  });

  it('a namespace out of pod quota refuses the aggregator pod: FATHOM_KUBE_QUOTA, rolled back', async () => {
    const q = `${ns}-quota`;
    await admin.create('/api/v1/namespaces', { metadata: { name: q } }, 'creating');
    await admin.create(
      resourcePath('', 'resourcequotas', q),
      { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } },
      'creating',
    );
    // Quota admission judges only once the quota controller has computed the quota's status.
    const http = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
    await http.waitForList<KubeObject & { status?: { hard?: Record<string, string> } }, true>(
      resourcePath('', 'resourcequotas', q),
      (qs) => ([...qs.values()][0]?.status?.hard?.pods === '0' ? true : undefined),
    );
    http.close();
    const err = await failure(backend.start(spec(q)));
    expect(err.code).toBe('FATHOM_KUBE_QUOTA');
    expect(err.message).toBe(
      `creating Pod ${q}/fathom-aggregator: Forbidden: pods "fathom-aggregator" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0 (what was created is removed again)`,
    );
    const leftovers = await admin.list(resourcePath('', 'configmaps', q), 'listing', {
      labelSelector: 'component=fathom',
    });
    expect(leftovers.items).toEqual([]);
    const roles = await admin.list(
      resourcePath('rbac.authorization.k8s.io', 'clusterroles'),
      'listing',
      {
        labelSelector: `fathom-namespace=${q}`,
      },
    );
    expect(roles.items).toEqual([]);
    expect(await admin.find(resourcePath('', 'namespaces', undefined, q), 'reading')).toBeDefined();
  });

  it('a start that RBAC stops half-way cleans up, or names what it left for delete', async () => {
    // An operator who may make namespaces and service accounts, but not cluster roles.
    const ops = `${ns}-ops`;
    await admin.create('/api/v1/namespaces', { metadata: { name: ops } }, 'creating');
    await admin.create(
      resourcePath('', 'serviceaccounts', ops),
      { metadata: { name: 'op' } },
      'creating',
    );
    const role = (name: string, nsVerbs: string[]) => ({
      metadata: { name },
      rules: [
        { apiGroups: [''], resources: ['namespaces'], verbs: nsVerbs },
        {
          apiGroups: [''],
          resources: ['pods', 'serviceaccounts'],
          verbs: ['get', 'create', 'delete'],
        },
      ],
    });
    for (const [name, verbs] of [
      [`${ops}-cleans`, ['get', 'create', 'delete']],
      [`${ops}-leaves`, ['get', 'create']],
    ] as const) {
      await admin.create(
        resourcePath('rbac.authorization.k8s.io', 'clusterroles'),
        role(name, [...verbs]),
        'creating',
      );
    }
    const bind = async (name: string) =>
      admin.create(
        resourcePath('rbac.authorization.k8s.io', 'clusterrolebindings'),
        {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: ops }],
        },
        'binding',
      );
    await bind(`${ops}-cleans`);
    const op = await tokenClient(ops, 'op');
    const opBackend = new KubernetesBackend({ clock: systemClock, client: op });
    try {
      const half = `${ns}-half`;
      const err = await failure(opBackend.start(spec(half)));
      expect(err.code).toBe('FATHOM_KUBE_FORBIDDEN');
      expect(err.message).toMatch(
        new RegExp(
          `^creating ClusterRole fathom-aggregator-${half}: Forbidden: clusterroles.rbac.authorization.k8s.io is forbidden: User "system:serviceaccount:${ops}:op" cannot create .* \\(what was created is removed again\\)$`,
        ),
      );
      const gone = await admin.find<KubeObject>(
        resourcePath('', 'namespaces', undefined, half),
        'reading',
      );
      expect(gone === undefined || gone.metadata.deletionTimestamp !== undefined).toBe(true);

      // Without the right to delete namespaces the rollback cannot finish: the error says so,
      // and `fathom delete` (by someone who may) removes the rest.
      await admin.remove(
        resourcePath(
          'rbac.authorization.k8s.io',
          'clusterrolebindings',
          undefined,
          `${ops}-cleans`,
        ),
        'unbinding',
      );
      await bind(`${ops}-leaves`);
      const left = `${ns}-left`;
      let stuck: FathomError | undefined;
      // The authorizer learns of the new binding by its own watch; until then the refusal is earlier.
      for (let i = 0; i < 50 && !stuck?.message.includes('left behind'); i++) {
        stuck = await failure(opBackend.start(spec(left)));
      }
      expect(stuck!.message).toMatch(
        new RegExp(
          `left behind: Namespace ${left}; remove them with \`fathom delete -n ${left}\`\\)$`,
        ),
      );
      expect(await backend.list()).toContain(left);
      await deleteWaiting(admin, http, left);
      expect(
        await admin.find(resourcePath('', 'namespaces', undefined, left), 'reading'),
      ).toBeUndefined();
    } finally {
      op.close();
      for (const name of [`${ops}-cleans`, `${ops}-leaves`]) {
        await admin.remove(
          resourcePath('rbac.authorization.k8s.io', 'clusterrolebindings', undefined, name),
          'x',
        );
        await admin.remove(
          resourcePath('rbac.authorization.k8s.io', 'clusterroles', undefined, name),
          'x',
        );
      }
    }
  }, 60_000);
});
