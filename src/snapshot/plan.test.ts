import { describe, expect, it } from 'vitest';
import { DEFAULT_SNAPSHOT_CONFIG, type SnapshotConfig } from './config.js';
import {
  discoveredGroups,
  failureSummary,
  listPath,
  matchNamespaces,
  planSnapshot,
  podLogNamespacePattern,
  preferredResources,
  selectResources,
  serverGroups,
  snapshotRules,
  type DiscoveredResource,
  type SnapshotQuery,
} from './plan.js';

const res = (name: string, namespaced: boolean, kind: string, verbs = ['list', 'get']) =>
  ({ name, namespaced, kind, verbs }) satisfies DiscoveredResource;

/** A small discovery: core v1, apps (v1 preferred, v1beta1 older), events.k8s.io, a group with only a beta. */
const groups = discoveredGroups(
  { versions: ['v1'] },
  {
    groups: [
      {
        name: 'apps',
        versions: [
          { groupVersion: 'apps/v1', version: 'v1' },
          { groupVersion: 'apps/v1beta1', version: 'v1beta1' },
        ],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
      {
        name: 'events.k8s.io',
        versions: [{ groupVersion: 'events.k8s.io/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'events.k8s.io/v1', version: 'v1' },
      },
      {
        name: 'example.dev',
        versions: [
          { groupVersion: 'example.dev/v2', version: 'v2' },
          { groupVersion: 'example.dev/v1alpha1', version: 'v1alpha1' },
        ],
        preferredVersion: { groupVersion: 'example.dev/v2', version: 'v2' },
      },
    ],
  },
);
const lists = new Map<string, DiscoveredResource[]>([
  [
    'v1',
    [
      res('nodes', false, 'Node'),
      res('nodes/proxy', false, 'NodeProxyOptions', ['get']),
      res('namespaces', false, 'Namespace'),
      res('pods', true, 'Pod'),
      res('pods/log', true, 'Pod', ['get']),
      res('secrets', true, 'Secret'),
      res('events', true, 'Event'),
      res('bindings', true, 'Binding', ['create']),
    ],
  ],
  ['apps/v1beta1', [res('deployments', true, 'Deployment'), res('legacysets', true, 'LegacySet')]],
  ['apps/v1', [res('deployments', true, 'Deployment'), res('daemonsets', true, 'DaemonSet')]],
  ['events.k8s.io/v1', [res('events', true, 'Event')]],
  // example.dev/v2 failed discovery: only its v1alpha1 is known.
  ['example.dev/v1alpha1', [res('widgets', false, 'Widget')]],
]);
const found = preferredResources(groups, lists);
const gvr = (r: { group: string; version: string; resource: string }) =>
  `${r.group || 'core'}/${r.version}/${r.resource}`;

const config = (over: Partial<SnapshotConfig> = {}): SnapshotConfig => ({
  ...DEFAULT_SNAPSHOT_CONFIG,
  ...over,
});

describe('choosing resources as Sonobuoy (ServerPreferredResources, kubectl, its filter)', () => {
  it('takes the preferred version, a non-preferred one only where the preferred lacks it, no subresources, an earlier group first, listable only', () => {
    expect(found.map(gvr)).toEqual([
      'core/v1/nodes',
      'core/v1/namespaces',
      'core/v1/pods',
      'core/v1/secrets',
      'core/v1/events',
      'apps/v1/deployments',
      'apps/v1/daemonsets',
      'apps/v1beta1/legacysets',
      'example.dev/v1alpha1/widgets',
    ]);
    expect(found.find((r) => r.resource === 'widgets')).toMatchObject({
      kind: 'Widget',
      namespaced: false,
    });
  });

  it('skips a discovered name that cannot be a file name, as from a hostile aggregated API', () => {
    const evil = discoveredGroups(
      { versions: [] },
      {
        groups: [
          {
            name: 'evil.dev',
            versions: [{ groupVersion: 'evil.dev/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'evil.dev/v1', version: 'v1' },
          },
        ],
      },
    );
    const served = new Map([
      [
        'evil.dev/v1',
        [res('..\\x', false, 'X'), res('a\u0000b', false, 'Y'), res('ok', false, 'Z')],
      ],
    ]);
    expect(preferredResources(evil, served).map(gvr)).toEqual(['evil.dev/v1/ok']);
  });

  it.each([
    [
      'null: everything but secrets',
      null,
      ['core/v1/nodes', 'core/v1/namespaces', 'example.dev/v1alpha1/widgets'],
      [
        'core/v1/pods',
        'core/v1/events',
        'apps/v1/deployments',
        'apps/v1/daemonsets',
        'apps/v1beta1/legacysets',
      ],
    ],
    [
      'a list: exactly those, secrets too when named',
      ['pods', 'secrets', 'nodes', 'podlogs', 'nosuchthing'],
      ['core/v1/nodes'],
      ['core/v1/pods', 'core/v1/secrets'],
    ],
  ])('%s', (_what, resources, cluster, namespaced) => {
    const picked = selectResources(found, config({ Resources: resources }));
    expect(picked.cluster.map(gvr)).toEqual(cluster);
    expect(picked.namespaced.map(gvr)).toEqual(namespaced);
  });
});

describe('namespaces', () => {
  const all = ['default', 'fathom', 'fathom-sessions', 'kube-system', 'my-kube-system-copy'];
  it.each([
    ['.*', all],
    ['^fathom$', ['fathom']],
    // Go's MatchString: anywhere in the name, as Sonobuoy matches.
    ['kube-system|fathom', ['fathom', 'fathom-sessions', 'kube-system', 'my-kube-system-copy']],
    ['', []],
  ])('%s selects %j', (pattern, want) => {
    expect(matchNamespaces(all, pattern)).toEqual(want);
  });

  it.each([
    [true, 'fathom', 'kube-system|fathom'],
    [false, 'fathom', 'kube-system'],
    [true, undefined, 'kube-system'],
  ] as const)('pod logs with SonobuoyNamespace=%s in %s: %s', (own, ns, want) => {
    const c = config({
      Limits: { PodLogs: { ...DEFAULT_SNAPSHOT_CONFIG.Limits.PodLogs, SonobuoyNamespace: own } },
    });
    expect(podLogNamespacePattern(c, ns)).toBe(want);
  });
});

describe('the plan: Sonobuoy order of queries and their rows', () => {
  const row = (q: SnapshotQuery): string =>
    `${q.queryobj}@${'namespace' in q && q.namespace !== undefined ? q.namespace : ''}${q.type === 'list' ? ` ${q.file}` : ''}`;
  const plan = (c: SnapshotConfig, namespaces = ['fathom', 'kube-system']): string[] => {
    const { cluster, namespaced } = selectResources(found, c);
    return planSnapshot({
      config: c,
      cluster,
      namespaced,
      namespaces,
      podLogNamespaces: ['kube-system', 'fathom'],
    }).map(row);
  };

  it('hosts, cluster resources, version and groups, each namespace, pod logs per namespace then the field-selector pass', () => {
    expect(plan(config(), ['fathom', 'kube-system', 'fathom'])).toEqual([
      'Nodes@',
      'nodes@ resources/cluster/core_v1_nodes.json',
      'namespaces@ resources/cluster/core_v1_namespaces.json',
      'widgets@ resources/cluster/example.dev_v1alpha1_widgets.json',
      'serverversion@',
      'servergroups@',
      ...['fathom', 'kube-system'].flatMap((ns) => [
        `pods@${ns} resources/ns/${ns}/core_v1_pods.json`,
        `events@${ns} resources/ns/${ns}/core_v1_events.json`,
        `deployments@${ns} resources/ns/${ns}/apps_v1_deployments.json`,
        `daemonsets@${ns} resources/ns/${ns}/apps_v1_daemonsets.json`,
        `legacysets@${ns} resources/ns/${ns}/apps_v1beta1_legacysets.json`,
      ]),
      'PodLogs@kube-system',
      'PodLogs@fathom',
      'PodLogs@',
    ]);
  });

  it.each([
    [['pods'], ['pods@fathom resources/ns/fathom/core_v1_pods.json']],
    [
      ['serverversion', 'podlogs'],
      ['serverversion@', 'PodLogs@kube-system', 'PodLogs@fathom', 'PodLogs@'],
    ],
    [
      ['nodes', 'servergroups'],
      ['Nodes@', 'nodes@ resources/cluster/core_v1_nodes.json', 'servergroups@'],
    ],
  ])('Resources %j: only what is named (nodes also gates the hosts)', (resources, want) => {
    expect(plan(config({ Resources: resources }), ['fathom'])).toEqual(want);
  });

  it('GETs each list at its group-version path', () => {
    expect(listPath({ group: '', version: 'v1', resource: 'pods' }, 'a b')).toBe(
      '/api/v1/namespaces/a%20b/pods',
    );
    expect(listPath({ group: 'apps', version: 'v1', resource: 'deployments' })).toBe(
      '/apis/apps/v1/deployments',
    );
  });
});

describe("the aggregator's read-only rules", () => {
  it.each([
    [
      'all (the default): list on everything, get on the node proxy and pod logs',
      null,
      [
        { apiGroups: ['*'], resources: ['*'], verbs: ['list'] },
        { apiGroups: [''], resources: ['nodes/proxy', 'pods/log'], verbs: ['get'] },
      ],
    ],
    [
      'a list: those names and namespaces; no proxy or logs unless named',
      ['configmaps', 'serverversion'],
      [{ apiGroups: ['*'], resources: ['namespaces', 'configmaps'], verbs: ['list'] }],
    ],
    [
      'podlogs lists pods; nodes gets the proxy',
      ['nodes', 'podlogs', 'secrets'],
      [
        { apiGroups: ['*'], resources: ['namespaces', 'nodes', 'secrets'], verbs: ['list'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        { apiGroups: [''], resources: ['nodes/proxy', 'pods/log'], verbs: ['get'] },
      ],
    ],
  ])('%s', (_what, resources, rules) => {
    expect(snapshotRules(config({ Resources: resources }))).toEqual(rules);
  });
});

describe('servergroups.json and failure summaries', () => {
  it('puts the legacy core group first, as client-go ServerGroups', () => {
    const doc = serverGroups(
      { versions: ['v1'] },
      { groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }] }] },
    ) as { kind: string; groups: { name: string; preferredVersion?: unknown }[] };
    expect(doc.kind).toBe('APIGroupList');
    expect(doc.groups.map((g) => g.name)).toEqual(['', 'apps']);
    expect(doc.groups[0]!.preferredVersion).toEqual({ groupVersion: 'v1', version: 'v1' });
  });

  it.each([
    [[], undefined],
    [[{ name: 'a', error: 'refused' }], '1 of 5 nodes failed: a: refused'],
    [
      ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, error: 'x' })),
      '5 of 5 nodes failed: a: x; b: x; c: x; and 2 more',
    ],
  ])('%j → %s', (failures, text) => {
    expect(failureSummary('nodes', 5, failures)).toBe(text);
  });
});
