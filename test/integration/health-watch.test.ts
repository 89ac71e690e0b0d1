/**
 * `fathom health --watch` against the real test control plane: the Kubernetes ClusterReader
 * (discovery, GET, LIST by label selector, cluster-scoped kinds, unknown kinds), then the CLI
 * itself waiting for a Deployment that kwok makes ready, for its deletion, and timing out on
 * one that can never be scheduled.
 */
import { systemClock } from '../../src/core/clock.js';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { stringify } from 'yaml';
import { createKubeClient, type KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import {
  createKubeClusterReader,
  type KubeClusterReader,
} from '../../src/backends/kubernetes/reader.js';
import { FathomError } from '../../src/core/errors.js';
import { fathom, tempDir } from '../support/cli.js';

const { cluster, skipReason } = providedCluster();

const APPS = { group: 'apps', kind: 'Deployment' };

function deploymentOf(ns: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name, suite: 'health-watch' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'main', image: 'registry.invalid/health:1' }],
          ...extra,
        },
      },
    },
  };
}

interface Line {
  kind: string;
  namespace: string;
  name: string;
  status: string;
  message: string;
}

const lines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describe.skipIf(!cluster)(
  `fathom health --watch on the kubernetes backend${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `fathom-hw-${randomBytes(3).toString('hex')}`;
    let admin: KubeClient;
    let reader: KubeClusterReader;
    let dir: string;

    const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
    const watchArgs = (file: string, ...more: string[]) => [
      'health',
      '--watch',
      '-f',
      file,
      '--backend',
      'kubernetes',
      '--kubeconfig',
      cluster!.kubeconfig,
      '--poll-interval',
      '250ms',
      '-o',
      'json',
      ...more,
    ];

    beforeAll(async () => {
      dir = await tempDir('health-watch');
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      reader = createKubeClusterReader(
        createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig })),
        { clock: systemClock },
      );
      await admin.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating ${ns}`);
    });

    afterAll(async () => {
      await admin?.remove(`/api/v1/namespaces/${ns}`, `deleting Namespace ${ns}`);
      admin?.close();
      reader?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('the reader maps kinds by discovery, GETs, LISTs by selector and names unknown kinds', async () => {
      expect(await reader.resourceFor(APPS)).toEqual({
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        resource: 'deployments',
        namespaced: true,
      });
      expect(await reader.scopeOf({ group: '', kind: 'Namespace' })).toBe('Cluster');
      expect(await reader.scopeOf({ group: '', kind: 'ConfigMap' })).toBe('Namespaced');
      expect(await reader.scopeOf({ group: 'example.com', kind: 'Widget' })).toBeUndefined();

      for (const [name, team] of [
        ['a', 'red'],
        ['b', 'blue'],
        ['c', 'red'],
      ] as const) {
        await admin.create(
          `/api/v1/namespaces/${ns}/configmaps`,
          { metadata: { name, labels: { team } }, data: { k: 'v' } },
          `creating ConfigMap ${name}`,
        );
      }
      const red = await reader.list({ group: '', kind: 'ConfigMap' }, ns, {
        matchExpressions: [{ key: 'team', operator: 'In', values: ['red'] }],
      });
      expect(red.map((o) => [o.apiVersion, o.kind, (o.metadata as { name: string }).name])).toEqual(
        [
          ['v1', 'ConfigMap', 'a'],
          ['v1', 'ConfigMap', 'c'],
        ],
      );
      const got = await reader.get({ group: '', kind: 'ConfigMap', namespace: ns, name: 'b' });
      expect(got).toMatchObject({ kind: 'ConfigMap', metadata: { labels: { team: 'blue' } } });
      expect(
        await reader.get({ group: '', kind: 'ConfigMap', namespace: ns, name: 'none' }),
      ).toBeUndefined();
      // A cluster-scoped kind ignores the namespace asked for.
      const namespaces = await reader.list({ group: '', kind: 'Namespace' }, ns);
      expect(namespaces.map((o) => (o.metadata as { name: string }).name)).toContain(ns);
      expect(
        await reader.get({ group: '', kind: 'Namespace', namespace: 'whatever', name: ns }),
      ).toMatchObject({ kind: 'Namespace', metadata: { name: ns } });

      const err = await reader
        .list({ group: 'example.com', kind: 'Widget' }, ns)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FathomError);
      expect([(err as FathomError).code, (err as FathomError).message]).toEqual([
        'FATHOM_KUBE_NOT_FOUND',
        'the API server does not serve kind Widget.example.com (is its CustomResourceDefinition installed?)',
      ]);
    });

    it('--until current exits 0 once kwok has made the Deployment ready; --until deleted once it is gone', async () => {
      const file = join(dir, 'deploy.yaml');
      await writeFile(file, stringify(deploymentOf(ns, 'web')));
      await admin.create(deployments, deploymentOf(ns, 'web'), `creating Deployment ${ns}/web`);

      const ready = await fathom(watchArgs(file, '--until', 'current', '--timeout', '90s'));
      expect(ready.stderr).toBe('');
      expect(ready.code).toBe(0);
      const seen = lines(ready.stdout);
      expect(
        seen.every((l) => l.kind === 'Deployment' && l.namespace === ns && l.name === 'web'),
      ).toBe(true);
      expect(seen.at(-1)).toMatchObject({
        status: 'Current',
        message: 'Deployment is available. Replicas: 2',
      });

      await admin.remove(`${deployments}/web`, `deleting Deployment ${ns}/web`);
      const gone = await fathom(watchArgs(file, '--until', 'deleted', '--timeout', '90s'));
      expect(gone.stderr).toBe('');
      expect(gone.code).toBe(0);
      expect(lines(gone.stdout).at(-1)).toMatchObject({
        status: 'NotFound',
        message: 'Resource not found',
      });
    });

    it('--timeout on a Deployment that can never be scheduled exits 1 with one line', async () => {
      const stuck = deploymentOf(ns, 'stuck', { nodeSelector: { 'fathom.test/none': 'nowhere' } });
      const file = join(dir, 'stuck.yaml');
      // No namespace in the file: -n supplies it, as kubectl does.
      const { namespace: _ns, ...metadata } = stuck.metadata;
      await writeFile(file, stringify({ ...stuck, metadata }));
      await admin.create(deployments, stuck, `creating Deployment ${ns}/stuck`);

      const r = await fathom(watchArgs(file, '-n', ns, '--timeout', '2s'));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: timed out after 2s: 1 of 1 object(s) not yet Current\n');
      const last = lines(r.stdout).at(-1)!;
      expect([last.namespace, last.name, last.status]).toEqual([ns, 'stuck', 'InProgress']);
    });

    it('a kind the API server does not serve is Unknown, with an event naming it', async () => {
      const file = join(dir, 'widget.yaml');
      await writeFile(
        file,
        stringify({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      );
      const r = await fathom(watchArgs(file, '-n', ns, '--timeout', '1s'));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: timed out after 1s: 1 of 1 object(s) not yet Current\n');
      expect(lines(r.stdout)).toEqual([
        expect.objectContaining({
          kind: 'Widget',
          namespace: ns,
          status: 'Unknown',
          error:
            'the API server does not serve kind Widget.example.com (is its CustomResourceDefinition installed?)',
        }),
      ]);
    });
  },
);
