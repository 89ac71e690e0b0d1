/**
 * The query part of Sonobuoy's cluster snapshot, planned without I/O: which lists to ask the
 * API server for, and the file each answer goes to in the tarball (reference section e):
 * `resources/cluster/<group>_<version>_<resource>.json`, `resources/ns/<ns>/…` with the core
 * group written `core`, `serverversion.json`, `servergroups.json`, and `meta/query-time.json`
 * recording every query with its duration and, instead of failing the run, its error.
 */
import { formatDuration } from '../../core/duration.js';

/** A kind the snapshot lists. */
export interface SnapshotKind {
  /** Sonobuoy's name for it (its config's `Resources`, and `queryobj` in query-time.json). */
  readonly name: string;
  /** The API group; '' is the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource (plural, lower case) as in the API path. */
  readonly resource: string;
  /** The objects' kind: list answers leave it off the items, Sonobuoy's files carry it. */
  readonly kind: string;
  readonly namespaced: boolean;
}

const kind = (
  name: string,
  group: string,
  version: string,
  resource: string,
  objectKind: string,
  namespaced: boolean,
): SnapshotKind => ({ name, group, version, resource, kind: objectKind, namespaced });

/**
 * The kinds of Sonobuoy's default list that matter most to a reviewer. Secrets are never among
 * them; `planSnapshot` drops them even when asked.
 */
export const DEFAULT_SNAPSHOT_KINDS: readonly SnapshotKind[] = [
  kind('Nodes', '', 'v1', 'nodes', 'Node', false),
  kind('Namespaces', '', 'v1', 'namespaces', 'Namespace', false),
  kind('ClusterRoles', 'rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  kind(
    'ClusterRoleBindings',
    'rbac.authorization.k8s.io',
    'v1',
    'clusterrolebindings',
    'ClusterRoleBinding',
    false,
  ),
  kind('PersistentVolumes', '', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  kind('StorageClasses', 'storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  kind(
    'CustomResourceDefinitions',
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
  ),
  kind('Pods', '', 'v1', 'pods', 'Pod', true),
  kind('Services', '', 'v1', 'services', 'Service', true),
  kind('Deployments', 'apps', 'v1', 'deployments', 'Deployment', true),
  kind('DaemonSets', 'apps', 'v1', 'daemonsets', 'DaemonSet', true),
  kind('ConfigMaps', '', 'v1', 'configmaps', 'ConfigMap', true),
  kind('Events', '', 'v1', 'events', 'Event', true),
];

/** Namespaces listed besides the run's own, as Sonobuoy's pod-log default. */
export const SNAPSHOT_SYSTEM_NAMESPACE = 'kube-system';

/** One request of the snapshot and where its answer goes (relative to the tarball root). */
export type SnapshotQuery =
  | { readonly type: 'serverversion'; readonly queryobj: 'ServerVersion'; readonly file: string }
  | { readonly type: 'servergroups'; readonly queryobj: 'ServerGroups'; readonly file: string }
  | {
      readonly type: 'list';
      readonly queryobj: string;
      readonly kind: SnapshotKind;
      readonly path: string;
      readonly file: string;
      readonly namespace?: string;
    };

/** A row of meta/query-time.json, in Sonobuoy's field order. */
export interface QueryRecord {
  readonly queryobj: string;
  readonly namespace?: string;
  /** Go's duration text, e.g. `19ms`. */
  readonly time: string;
  readonly error?: string;
}

export const QUERY_TIME_FILE = 'meta/query-time.json';

function isSecret(k: SnapshotKind): boolean {
  return k.group === '' && k.resource === 'secrets';
}

/** `/api/v1/nodes`, `/apis/apps/v1/namespaces/<ns>/deployments`. */
export function listPath(k: SnapshotKind, namespace?: string): string {
  const base = k.group === '' ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${k.resource}`;
}

/** `resources/cluster/core_v1_nodes.json`, `resources/ns/<ns>/apps_v1_deployments.json`. */
export function resourceFile(k: SnapshotKind, namespace?: string): string {
  const name = `${k.group === '' ? 'core' : k.group}_${k.version}_${k.resource}.json`;
  return namespace === undefined
    ? `resources/cluster/${name}`
    : `resources/ns/${namespace}/${name}`;
}

/**
 * Every query, in the order query-time.json lists them: the server's version and groups, the
 * cluster-wide kinds, then each namespace's kinds. Namespaces are listed once each.
 */
export function planSnapshot(
  kinds: readonly SnapshotKind[],
  namespaces: readonly string[],
): SnapshotQuery[] {
  const wanted = kinds.filter((k) => !isSecret(k));
  const plan: SnapshotQuery[] = [
    { type: 'serverversion', queryobj: 'ServerVersion', file: 'serverversion.json' },
    { type: 'servergroups', queryobj: 'ServerGroups', file: 'servergroups.json' },
  ];
  for (const k of wanted.filter((w) => !w.namespaced)) {
    plan.push({
      type: 'list',
      queryobj: k.name,
      kind: k,
      path: listPath(k),
      file: resourceFile(k),
    });
  }
  for (const ns of [...new Set(namespaces)]) {
    for (const k of wanted.filter((w) => w.namespaced)) {
      plan.push({
        type: 'list',
        queryobj: k.name,
        kind: k,
        path: listPath(k, ns),
        file: resourceFile(k, ns),
        namespace: ns,
      });
    }
  }
  return plan;
}

/** The file's content for a list answer: its items, each with apiVersion and kind as Sonobuoy writes them. */
export function listFileItems(k: SnapshotKind, items: readonly unknown[]): unknown[] {
  const apiVersion = k.group === '' ? k.version : `${k.group}/${k.version}`;
  return items.map((item) => ({ apiVersion, kind: k.kind, ...(item as object) }));
}

interface ApiGroup {
  readonly name: string;
  readonly versions: readonly { groupVersion: string; version: string }[];
  readonly preferredVersion?: { groupVersion: string; version: string };
}

/**
 * servergroups.json as Sonobuoy writes it (client-go's ServerGroups): the APIGroupList of
 * /apis with the legacy core group, named '', first, made from /api's versions.
 */
export function serverGroups(
  api: { readonly versions?: readonly string[] },
  apis: { readonly groups?: readonly ApiGroup[] },
): unknown {
  const versions = (api.versions ?? []).map((v) => ({ groupVersion: v, version: v }));
  const core =
    versions.length > 0
      ? [{ name: '', versions, preferredVersion: versions[0] }]
      : ([] as ApiGroup[]);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...core, ...(apis.groups ?? [])] };
}

/** A query-time.json row. */
export function queryRecord(query: SnapshotQuery, elapsedMs: number, error?: string): QueryRecord {
  return {
    queryobj: query.queryobj,
    ...(query.type === 'list' && query.namespace !== undefined
      ? { namespace: query.namespace }
      : {}),
    time: formatDuration(Math.max(0, elapsedMs)),
    ...(error !== undefined ? { error } : {}),
  };
}

/**
 * The aggregator's read-only rules for the kinds (a `list` on each, cluster-wide: the namespaced
 * kinds are read in kube-system too). Sonobuoy's aggregator is cluster-admin by default.
 */
export function snapshotRules(
  kinds: readonly SnapshotKind[],
): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  const byGroup = new Map<string, string[]>();
  for (const k of kinds.filter((w) => !isSecret(w))) {
    const list = byGroup.get(k.group) ?? [];
    if (!list.includes(k.resource)) list.push(k.resource);
    byGroup.set(k.group, list);
  }
  return [...byGroup].map(([group, resources]) => ({
    apiGroups: [group],
    resources,
    verbs: ['list'],
  }));
}
