/**
 * Where the cluster snapshot goes in a results tarball, in Sonobuoy's layout and file names
 * (reference section e), shared by every backend that collects one and by the readers:
 *
 * - `resources/cluster/<group>_<version>_<resource>.json`, `resources/ns/<ns>/…` (the core group
 *   written `core`; a file only for a non-empty list), each a List object as client-go writes it
 * - `hosts/<node>/configz.json`, `hosts/<node>/healthz.json` (`{"status":200}`)
 * - `podlogs/<ns>/<pod>/logs/<container>.txt`
 * - `serverversion.json`, `servergroups.json`, `meta/query-time.json`, `meta/clusterhealth.json`
 *
 * Node, namespace, pod and container names come from the cluster: each must be a safe path
 * segment before it becomes part of a path.
 */
import { formatDuration } from '../core/duration.js';
import { safeSegment } from '../core/segment.js';

export const QUERY_TIME_FILE = 'meta/query-time.json';
export const CLUSTER_HEALTH_FILE = 'meta/clusterhealth.json';
export const SERVER_VERSION_FILE = 'serverversion.json';
export const SERVER_GROUPS_FILE = 'servergroups.json';
export const CORE_NODES_FILE = 'resources/cluster/core_v1_nodes.json';
export const CORE_PODS_FILE_NAME = 'core_v1_pods.json';

/** A listed resource: its group ('' for core), version and plural resource name. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

/** `resources/cluster/core_v1_nodes.json`, `resources/ns/<ns>/apps_v1_deployments.json`. */
export function resourceFile(r: ResourceRef, namespace?: string): string {
  // Group, version and resource come from the server's discovery: one segment, or refused.
  const name = safeSegment(
    'resource',
    `${r.group === '' ? 'core' : r.group}_${r.version}_${r.resource}.json`,
  );
  return namespace === undefined
    ? `resources/cluster/${name}`
    : `resources/ns/${safeSegment('namespace', namespace)}/${name}`;
}

/** `hosts/<node>/configz.json` or `hosts/<node>/healthz.json`. */
export function hostFile(node: string, endpoint: 'configz' | 'healthz'): string {
  return `hosts/${safeSegment('node', node)}/${endpoint}.json`;
}

/** `podlogs/<ns>/<pod>/logs/<container>.txt`. */
export function podLogFile(namespace: string, pod: string, container: string): string {
  return `podlogs/${safeSegment('namespace', namespace)}/${safeSegment('pod', pod)}/logs/${safeSegment('container', container)}.txt`;
}

/** `v1` for the core group, `apps/v1` otherwise. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

type Obj = Record<string, unknown>;

/**
 * A resources file's content: the List object client-go writes (`{"apiVersion","items","kind":
 * "<Kind>List","metadata"}`), each item with its apiVersion and kind (list answers leave them
 * off) and without managedFields, as Sonobuoy strips them.
 */
export function listDocument(
  r: ResourceRef & { readonly kind: string },
  items: readonly unknown[],
  resourceVersion?: string,
): Obj {
  const apiVersion = apiVersionOf(r.group, r.version);
  return {
    apiVersion,
    items: items.map((item) => {
      const { metadata, ...rest } = item as Obj;
      const meta = { ...((metadata as Obj | undefined) ?? {}) };
      delete meta.managedFields;
      return { apiVersion, kind: r.kind, ...rest, metadata: meta };
    }),
    kind: `${r.kind}List`,
    metadata: resourceVersion === undefined ? {} : { resourceVersion },
  };
}

/** A row of meta/query-time.json, in Sonobuoy's field order (empty fields left out). */
export interface QueryRecord {
  readonly queryobj: string;
  readonly namespace?: string;
  /** Go's duration text, e.g. `19ms`. */
  readonly time: string;
  readonly error?: string;
}

/**
 * A query-time.json row. Sonobuoy's `queryobj` is the plural resource (`pods`), `serverversion`,
 * `servergroups`, `Nodes` (the hosts' configz and healthz) or `PodLogs` (per namespace).
 */
export function queryRecord(
  queryobj: string,
  namespace: string | undefined,
  elapsedMs: number,
  error?: string,
): QueryRecord {
  return {
    queryobj,
    ...(namespace ? { namespace } : {}),
    time: formatDuration(Math.max(0, elapsedMs)),
    ...(error !== undefined ? { error } : {}),
  };
}
