/**
 * The least-privilege RBAC of cluster checks: what the dispatcher and the agents may read and
 * write, as ClusterRoles, a Role and their bindings. Pure.
 */
import type { KubeObject } from '../api/types.js';
import { LABEL } from '../names.js';
import {
  AGENT,
  CHECKS_LEASE,
  DISPATCHER,
  checksLabels,
  clusterScopedName,
  type ChecksRole,
} from './names.js';
import type { KubeChecksSpec } from './options.js';

/** A policy rule; an absent resourceNames means every object of the resource. */
export interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

const READ = ['get', 'list', 'watch'];

/**
 * The dispatcher reads check sources in every namespace (ConfigMaps labelled
 * `fathom.dev/checks`, annotated Services and their endpoints; RBAC cannot narrow by label) and
 * keeps its Lease in its own namespace: create cannot name the object, get and update can.
 */
export function dispatcherRules(): { cluster: Rule[]; namespaced: Rule[] } {
  return {
    cluster: [
      { apiGroups: [''], resources: ['configmaps', 'services', 'endpoints'], verbs: READ },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
    ],
    namespaced: [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: [CHECKS_LEASE],
      },
    ],
  };
}

/**
 * The agent reads Nodes (its own labels, for node selectors) and, for `kubernetes-status`
 * checks, the kinds kstatus has rules for and the pods and ReplicaSets it follows from them:
 * get and list only, since a check reads each object once per run and never watches. Not
 * Secrets nor ConfigMaps. A check on another kind needs a grant to `fathom-checks-agent`.
 */
export function agentRules(): Rule[] {
  const readOnly = ['get', 'list'];
  return [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
    {
      apiGroups: [''],
      resources: ['pods', 'services', 'persistentvolumeclaims'],
      verbs: readOnly,
    },
    {
      apiGroups: ['apps'],
      resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
      verbs: readOnly,
    },
    { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: readOnly },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: readOnly },
    {
      apiGroups: ['apiextensions.k8s.io'],
      resources: ['customresourcedefinitions'],
      verbs: readOnly,
    },
  ];
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';

export function meta(name: string, spec: KubeChecksSpec, role: ChecksRole) {
  return { name, namespace: spec.namespace, labels: checksLabels(role) };
}

export function rbacObjects(spec: KubeChecksSpec): KubeObject[] {
  const ns = spec.namespace;
  const subject = (sa: string) => [{ kind: 'ServiceAccount', name: sa, namespace: ns }];
  const roleRef = (kind: string, name: string) => ({
    apiGroup: 'rbac.authorization.k8s.io',
    kind,
    name,
  });
  const clusterMeta = (base: typeof DISPATCHER | typeof AGENT, role: ChecksRole) => ({
    name: clusterScopedName(base, ns),
    labels: { ...checksLabels(role), [LABEL.namespace]: ns },
  });
  const rules = dispatcherRules();
  const out: KubeObject[] = [];
  for (const [base, role, clusterRules] of [
    [DISPATCHER, 'checks-dispatcher', rules.cluster],
    [AGENT, 'checks-agent', agentRules()],
  ] as const) {
    out.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(base, spec, role) },
      {
        apiVersion: RBAC_API,
        kind: 'ClusterRole',
        metadata: clusterMeta(base, role),
        rules: clusterRules,
      },
      {
        apiVersion: RBAC_API,
        kind: 'ClusterRoleBinding',
        metadata: clusterMeta(base, role),
        roleRef: roleRef('ClusterRole', clusterScopedName(base, ns)),
        subjects: subject(base),
      },
    );
  }
  out.push(
    {
      apiVersion: RBAC_API,
      kind: 'Role',
      metadata: meta(DISPATCHER, spec, 'checks-dispatcher'),
      rules: rules.namespaced,
    },
    {
      apiVersion: RBAC_API,
      kind: 'RoleBinding',
      metadata: meta(DISPATCHER, spec, 'checks-dispatcher'),
      roleRef: roleRef('Role', DISPATCHER),
      subjects: subject(DISPATCHER),
    },
  );
  return out;
}
