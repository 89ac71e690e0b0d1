/**
 * Everything sessions need on Kubernetes, as `fathom gen sessions` prints it: the Session CRD,
 * the namespace, the controller's service account with least-privilege RBAC, and the
 * controller Deployment (replicas elect a leader). Pure: a spec in, objects out, in the order
 * they can be applied.
 */
import type { KubeObject } from '../api/types.js';
import { CONTAINER_SECURITY, POD_SECURITY, spreadOverNodes } from '../pod-security.js';
import type { Rule } from '../checks/rbac.js';
import { sessionCrd } from './crd.js';
import {
  SESSION_CONTROLLER,
  SESSION_CONTROLLER_LEASE,
  SESSION_GROUP,
  SESSION_PLURAL,
  clusterScopedName,
  controllerSelector,
  sessionsLabels,
} from './names.js';
import { LABEL } from '../names.js';
import type { KubeSessionsSpec } from './options.js';

const READ = ['get', 'list', 'watch'];

/**
 * What the controller does in its namespace: reads sessions and writes their status (it never
 * creates one: clients do) and deletes them after their ttl; keeps events, holdings and logs in
 * ConfigMaps; writes Events; runs each component instance as a pod and reads its log; elects a
 * leader with its Lease (create cannot name the object, get and update can).
 */
export function controllerRules(): { namespaced: Rule[]; cluster: Rule[] } {
  return {
    namespaced: [
      { apiGroups: [SESSION_GROUP], resources: [SESSION_PLURAL], verbs: [...READ, 'delete'] },
      {
        apiGroups: [SESSION_GROUP],
        resources: [`${SESSION_PLURAL}/status`],
        verbs: ['get', 'update', 'patch'],
      },
      {
        apiGroups: [''],
        resources: ['configmaps'],
        // watch: runs' pool claims are written by `fathom run --pool`, not by the controller.
        verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
      },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['create', ...READ, 'delete'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: [SESSION_CONTROLLER_LEASE],
      },
    ],
    // Pools are node labels; a node that goes away ends the sessions on it. A run on a pool is
    // over once its namespace or aggregator pod is (run-claims.ts): read one by name, no list.
    cluster: [
      { apiGroups: [''], resources: ['nodes'], verbs: READ },
      { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get'] },
    ],
  };
}

const RBAC_API = 'rbac.authorization.k8s.io/v1';

/** The controller's command line (the lead process mode of the CLI). */
export function controllerCommand(spec: KubeSessionsSpec): string[] {
  return [
    'fathom',
    'session-controller',
    '--backend',
    'kubernetes',
    '-n',
    spec.namespace,
    '--executors',
    String(spec.executors),
    '--pool-label',
    spec.poolLabel,
  ];
}

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

function rbac(spec: KubeSessionsSpec): KubeObject[] {
  const ns = spec.namespace;
  const meta = { name: SESSION_CONTROLLER, namespace: ns, labels: sessionsLabels() };
  const clusterMeta = {
    name: clusterScopedName(ns),
    labels: { ...sessionsLabels(), [LABEL.namespace]: ns },
  };
  const subjects = [{ kind: 'ServiceAccount', name: SESSION_CONTROLLER, namespace: ns }];
  const roleRef = (kind: string, name: string) => ({
    apiGroup: 'rbac.authorization.k8s.io',
    kind,
    name,
  });
  const rules = controllerRules();
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    { apiVersion: RBAC_API, kind: 'Role', metadata: meta, rules: rules.namespaced },
    {
      apiVersion: RBAC_API,
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: roleRef('Role', SESSION_CONTROLLER),
      subjects,
    },
    { apiVersion: RBAC_API, kind: 'ClusterRole', metadata: clusterMeta, rules: rules.cluster },
    {
      apiVersion: RBAC_API,
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta,
      roleRef: roleRef('ClusterRole', clusterScopedName(ns)),
      subjects,
    },
  ];
}

function controllerDeployment(spec: KubeSessionsSpec): KubeObject {
  const selector = controllerSelector();
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: SESSION_CONTROLLER, namespace: spec.namespace, labels: sessionsLabels() },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector },
      // One replica at a time, so a leader is always there to hand over to.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
      template: {
        metadata: { labels: sessionsLabels() },
        spec: {
          serviceAccountName: SESSION_CONTROLLER,
          securityContext: POD_SECURITY,
          ...(Object.keys(spec.nodeSelector).length > 0
            ? { nodeSelector: { ...spec.nodeSelector } }
            : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations.map((t) => ({ ...t })) } : {}),
          affinity: spreadOverNodes(selector),
          containers: [
            {
              name: 'controller',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              command: controllerCommand(spec),
              env: [
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
              ],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

/** Every object, in the order they can be applied (the CRD and RBAC before the controller). */
export function sessionsManifests(spec: KubeSessionsSpec): KubeObject[] {
  return [
    sessionCrd(),
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: spec.namespace, labels: sessionsLabels() },
    },
    ...rbac(spec),
    controllerDeployment(spec),
  ];
}
