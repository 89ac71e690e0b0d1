/**
 * The cluster snapshot planned without I/O, as Sonobuoy's discovery does it (reference e): which
 * resources to list (the server's preferred versions, a resource name seen in an earlier group
 * winning as in kubectl, listable ones only, secrets only when named), which namespaces, and the
 * queries in Sonobuoy's order: the hosts data, the cluster resources, the server's version and
 * groups, each namespace's resources, then the pod logs per namespace. Each becomes one row of
 * meta/query-time.json.
 */
import { isSafeSegment } from '../core/segment.js';
import { apiVersionOf, resourceFile, type ResourceRef } from './layout.js';
import { wants, type SnapshotConfig } from './config.js';

/** A resource as one group-version's discovery document lists it. */
export interface DiscoveredResource {
  readonly name: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
}

/** A group of /apis (the core group named ''), its versions in the server's order. */
export interface DiscoveredGroup {
  readonly name: string;
  readonly versions: readonly string[];
  readonly preferredVersion: string;
}

/** A resource the snapshot lists. */
export interface SnapshotResource extends ResourceRef {
  readonly kind: string;
  readonly namespaced: boolean;
}

/** `group/version` (`v1` for core) → its resources; a version missing here failed discovery. */
export type DiscoveredLists = ReadonlyMap<string, readonly DiscoveredResource[]>;

/**
 * client-go's ServerPreferredResources: per group, each resource at the preferred version when
 * that version serves it, else at the first version that does; subresources left out. Then, as
 * kubectl and Sonobuoy do, a resource name already taken by an earlier group is skipped.
 */
export function preferredResources(
  groups: readonly DiscoveredGroup[],
  lists: DiscoveredLists,
): SnapshotResource[] {
  const out: SnapshotResource[] = [];
  const names = new Set<string>();
  for (const g of groups) {
    const chosen = new Map<string, SnapshotResource>();
    for (const version of g.versions) {
      for (const r of lists.get(apiVersionOf(g.name, version)) ?? []) {
        // Subresources (`pods/log`) are not listed; a name that cannot be a file is skipped.
        if (r.name.includes('/') || !isSafeSegment(`${g.name}_${version}_${r.name}.json`)) continue;
        if (chosen.has(r.name) && version !== g.preferredVersion) continue;
        chosen.set(r.name, {
          group: g.name,
          version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
        });
      }
    }
    for (const [name, r] of chosen) {
      if (names.has(name)) continue;
      names.add(name);
      if (listable(lists, r)) out.push(r);
    }
  }
  return out;
}

function listable(lists: DiscoveredLists, r: SnapshotResource): boolean {
  const found = lists.get(apiVersionOf(r.group, r.version))?.find((d) => d.name === r.resource);
  return found?.verbs.includes('list') ?? false;
}

/** Sonobuoy's filter: everything but secrets when Resources is null, else exactly the names. */
export function selectResources(
  resources: readonly SnapshotResource[],
  config: SnapshotConfig,
): { cluster: SnapshotResource[]; namespaced: SnapshotResource[] } {
  const picked = resources.filter((r) =>
    config.Resources === null ? r.resource !== 'secrets' : config.Resources.includes(r.resource),
  );
  return {
    cluster: picked.filter((r) => !r.namespaced),
    namespaced: picked.filter((r) => r.namespaced),
  };
}

/** Go's regexp.MatchString: a match anywhere in the name. An empty pattern selects none (as Sonobuoy's pod logs). */
export function matchNamespaces(all: readonly string[], pattern: string): string[] {
  if (pattern === '') return [];
  const re = new RegExp(pattern);
  return all.filter((ns) => re.test(ns));
}

/** The pod-log namespaces' pattern: Limits.PodLogs.Namespaces, or'ed with the run's namespace. */
export function podLogNamespacePattern(config: SnapshotConfig, runNamespace?: string): string {
  const { Namespaces, SonobuoyNamespace } = config.Limits.PodLogs;
  if (!SonobuoyNamespace || runNamespace === undefined) return Namespaces;
  return Namespaces === '' ? runNamespace : `${Namespaces}|${runNamespace}`;
}

/** `/api/v1/nodes`, `/apis/apps/v1/namespaces/<ns>/deployments`. */
export function listPath(r: ResourceRef, namespace?: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${r.resource}`;
}

/** One query of the snapshot: one row of meta/query-time.json. */
export type SnapshotQuery =
  | { readonly type: 'hosts'; readonly queryobj: 'Nodes' }
  | {
      readonly type: 'list';
      readonly queryobj: string;
      readonly resource: SnapshotResource;
      readonly namespace?: string;
      readonly path: string;
      readonly file: string;
    }
  | { readonly type: 'serverversion'; readonly queryobj: 'serverversion' }
  | { readonly type: 'servergroups'; readonly queryobj: 'servergroups' }
  /** Without a namespace: the pods of the field selectors, across namespaces (Sonobuoy's last row). */
  | { readonly type: 'podlogs'; readonly queryobj: 'PodLogs'; readonly namespace?: string };

export interface PlanInput {
  readonly config: SnapshotConfig;
  /** From `selectResources`. */
  readonly cluster: readonly SnapshotResource[];
  readonly namespaced: readonly SnapshotResource[];
  /** Namespaces matching Filters.Namespaces, in the server's order. */
  readonly namespaces: readonly string[];
  /** Namespaces matching the pod-log pattern. */
  readonly podLogNamespaces: readonly string[];
}

const listQuery = (r: SnapshotResource, namespace?: string): SnapshotQuery => ({
  type: 'list',
  queryobj: r.resource,
  resource: r,
  ...(namespace !== undefined ? { namespace } : {}),
  path: listPath(r, namespace),
  file: resourceFile(r, namespace),
});

/** Every query, in Sonobuoy's order. */
export function planSnapshot(input: PlanInput): SnapshotQuery[] {
  const { config } = input;
  const plan: SnapshotQuery[] = [];
  if (wants(config, 'nodes')) plan.push({ type: 'hosts', queryobj: 'Nodes' });
  for (const r of input.cluster) plan.push(listQuery(r));
  if (wants(config, 'serverversion'))
    plan.push({ type: 'serverversion', queryobj: 'serverversion' });
  if (wants(config, 'servergroups')) plan.push({ type: 'servergroups', queryobj: 'servergroups' });
  for (const ns of new Set(input.namespaces)) {
    for (const r of input.namespaced) plan.push(listQuery(r, ns));
  }
  if (wants(config, 'podlogs')) {
    for (const ns of new Set(input.podLogNamespaces)) {
      plan.push({ type: 'podlogs', queryobj: 'PodLogs', namespace: ns });
    }
    plan.push({ type: 'podlogs', queryobj: 'PodLogs' });
  }
  return plan;
}

/** A PolicyRule of the aggregator's ClusterRole. */
export interface SnapshotRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * What the aggregator needs for the configured snapshot, read-only. All resources (the default):
 * `list` on everything. Secrets are still never listed unless named: the rule is only wide
 * because the resources are not known before discovery. A list: `list` on exactly those names
 * in any group (discovery picks the group), plus namespaces, which choose where to look.
 */
export function snapshotRules(config: SnapshotConfig): SnapshotRule[] {
  const gets: string[] = [];
  if (wants(config, 'nodes')) gets.push('nodes/proxy');
  if (wants(config, 'podlogs')) gets.push('pods/log');
  const proxyAndLogs: SnapshotRule[] =
    gets.length > 0 ? [{ apiGroups: [''], resources: gets, verbs: ['get'] }] : [];
  if (config.Resources === null) {
    return [{ apiGroups: ['*'], resources: ['*'], verbs: ['list'] }, ...proxyAndLogs];
  }
  const special: readonly string[] = ['podlogs', 'servergroups', 'serverversion'];
  const named = config.Resources.filter((r) => !special.includes(r));
  const listed = [...new Set(['namespaces', ...named])];
  const rules: SnapshotRule[] = [{ apiGroups: ['*'], resources: listed, verbs: ['list'] }];
  // Pod logs start from a list of the namespace's pods.
  if (wants(config, 'podlogs') && !listed.includes('pods')) {
    rules.push({ apiGroups: [''], resources: ['pods'], verbs: ['list'] });
  }
  return [...rules, ...proxyAndLogs];
}

interface ApiGroupJson {
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
  apis: { readonly groups?: readonly ApiGroupJson[] },
): unknown {
  const versions = (api.versions ?? []).map((v) => ({ groupVersion: v, version: v }));
  const core =
    versions.length > 0
      ? [{ name: '', versions, preferredVersion: versions[0] }]
      : ([] as ApiGroupJson[]);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...core, ...(apis.groups ?? [])] };
}

/** The groups of servergroups.json as discovery input. */
export function discoveredGroups(
  api: { readonly versions?: readonly string[] },
  apis: {
    readonly groups?: readonly ApiGroupJson[];
  },
): DiscoveredGroup[] {
  const core =
    (api.versions ?? []).length > 0
      ? [{ name: '', versions: api.versions!, preferredVersion: api.versions![0]! }]
      : [];
  return [
    ...core,
    ...(apis.groups ?? []).map((g) => ({
      name: g.name,
      versions: g.versions.map((v) => v.version),
      preferredVersion: g.preferredVersion?.version ?? g.versions[0]?.version ?? '',
    })),
  ];
}

/** How many of a fan-out failed, naming the first few: `2 of 5 nodes failed: a: …; b: …`. */
export function failureSummary(
  noun: string,
  total: number,
  failures: readonly { readonly name: string; readonly error: string }[],
  show = 3,
): string | undefined {
  if (failures.length === 0) return undefined;
  const named = failures
    .slice(0, show)
    .map((f) => `${f.name}: ${f.error}`)
    .join('; ');
  const more = failures.length > show ? `; and ${failures.length - show} more` : '';
  return `${failures.length} of ${total} ${noun} failed: ${named}${more}`;
}
