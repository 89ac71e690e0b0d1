import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SNAPSHOT_KINDS,
  listFileItems,
  listPath,
  planSnapshot,
  queryRecord,
  resourceFile,
  serverGroups,
  snapshotRules,
  type SnapshotKind,
} from './snapshot.js';

const byName = (name: string): SnapshotKind => DEFAULT_SNAPSHOT_KINDS.find((k) => k.name === name)!;
const secrets: SnapshotKind = {
  name: 'Secrets',
  group: '',
  version: 'v1',
  resource: 'secrets',
  kind: 'Secret',
  namespaced: true,
};

describe('snapshot file names and paths (Sonobuoy layout, reference e)', () => {
  it.each([
    ['Nodes', undefined, '/api/v1/nodes', 'resources/cluster/core_v1_nodes.json'],
    [
      'ClusterRoles',
      undefined,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      'resources/cluster/rbac.authorization.k8s.io_v1_clusterroles.json',
    ],
    [
      'CustomResourceDefinitions',
      undefined,
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      'resources/cluster/apiextensions.k8s.io_v1_customresourcedefinitions.json',
    ],
    ['Pods', 'fathom', '/api/v1/namespaces/fathom/pods', 'resources/ns/fathom/core_v1_pods.json'],
    [
      'Deployments',
      'kube-system',
      '/apis/apps/v1/namespaces/kube-system/deployments',
      'resources/ns/kube-system/apps_v1_deployments.json',
    ],
    [
      'Events',
      'kube-system',
      '/api/v1/namespaces/kube-system/events',
      'resources/ns/kube-system/core_v1_events.json',
    ],
  ])('%s in %s: GET %s → %s', (name, ns, path, file) => {
    expect(listPath(byName(name), ns)).toBe(path);
    expect(resourceFile(byName(name), ns)).toBe(file);
  });

  it('plans version, groups, the cluster kinds, then each namespace once, and never Secrets', () => {
    const plan = planSnapshot(
      [...DEFAULT_SNAPSHOT_KINDS, secrets],
      ['fathom', 'kube-system', 'fathom'],
    );
    const rows = plan.map((q) =>
      q.type === 'list'
        ? `${q.queryobj}@${q.namespace ?? '-'} ${q.file}`
        : `${q.queryobj} ${q.file}`,
    );
    expect(rows.slice(0, 4)).toEqual([
      'ServerVersion serverversion.json',
      'ServerGroups servergroups.json',
      'Nodes@- resources/cluster/core_v1_nodes.json',
      'Namespaces@- resources/cluster/core_v1_namespaces.json',
    ]);
    expect(rows).toContain(
      'StorageClasses@- resources/cluster/storage.k8s.io_v1_storageclasses.json',
    );
    expect(rows).toContain('Pods@fathom resources/ns/fathom/core_v1_pods.json');
    expect(rows).toContain(
      'DaemonSets@kube-system resources/ns/kube-system/apps_v1_daemonsets.json',
    );
    // 2 + 7 cluster kinds + 6 namespaced kinds × 2 namespaces.
    expect(plan).toHaveLength(2 + 7 + 12);
    expect(rows.filter((r) => /secret/i.test(r))).toEqual([]);
    expect(new Set(plan.map((q) => q.file)).size).toBe(plan.length);
  });
});

describe('snapshot contents', () => {
  it('gives each listed item its apiVersion and kind, as Sonobuoy files carry them', () => {
    expect(listFileItems(byName('Nodes'), [{ metadata: { name: 'n1' } }])).toEqual([
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } },
    ]);
    expect(listFileItems(byName('Deployments'), [{ metadata: { name: 'd' } }])).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } },
    ]);
  });

  it('writes the server groups as client-go ServerGroups: the core group first, named ""', () => {
    const apps = {
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    };
    expect(serverGroups({ versions: ['v1'] }, { groups: [apps] })).toEqual({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [
        {
          name: '',
          versions: [{ groupVersion: 'v1', version: 'v1' }],
          preferredVersion: { groupVersion: 'v1', version: 'v1' },
        },
        apps,
      ],
    });
    expect(serverGroups({}, {})).toEqual({ kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  });

  it('records a query with its namespace, Go-style time and error only when there are ones', () => {
    const [version, , nodes] = planSnapshot(DEFAULT_SNAPSHOT_KINDS, ['fathom']);
    const pods = planSnapshot(DEFAULT_SNAPSHOT_KINDS, ['fathom']).find(
      (q) => q.queryobj === 'Pods',
    )!;
    expect(queryRecord(version!, 19)).toEqual({ queryobj: 'ServerVersion', time: '19ms' });
    expect(queryRecord(nodes!, 1500)).toEqual({ queryobj: 'Nodes', time: '1.5s' });
    expect(queryRecord(pods, 3, 'listing Pods in namespace fathom: forbidden')).toEqual({
      queryobj: 'Pods',
      namespace: 'fathom',
      time: '3ms',
      error: 'listing Pods in namespace fathom: forbidden',
    });
    // Field order is Sonobuoy's.
    expect(Object.keys(queryRecord(pods, 3, 'x'))).toEqual([
      'queryobj',
      'namespace',
      'time',
      'error',
    ]);
  });

  it('grants list, and only list, on each kind once, never on Secrets', () => {
    const rules = snapshotRules([...DEFAULT_SNAPSHOT_KINDS, secrets, byName('Pods')]);
    expect(rules.every((r) => r.verbs.length === 1 && r.verbs[0] === 'list')).toBe(true);
    expect(rules.find((r) => r.apiGroups[0] === '')!.resources).toEqual([
      'nodes',
      'namespaces',
      'persistentvolumes',
      'pods',
      'services',
      'configmaps',
      'events',
    ]);
  });
});
