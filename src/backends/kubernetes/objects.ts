/** Where each kind lives in the API, and how a run's objects are found and removed again. */
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { resourcePath, type ApiGroup, type KubeClient } from './api/client.js';
import { COMPONENT_SELECTOR, LABEL } from './names.js';
import type { KubeObject } from './api/types.js';

const kinds: Record<string, { group: ApiGroup; resource: string; namespaced: boolean }> = {
  Namespace: { group: '', resource: 'namespaces', namespaced: false },
  Pod: { group: '', resource: 'pods', namespaced: true },
  Lease: { group: 'coordination.k8s.io', resource: 'leases', namespaced: true },
  Deployment: { group: 'apps', resource: 'deployments', namespaced: true },
  Secret: { group: '', resource: 'secrets', namespaced: true },
  ConfigMap: { group: '', resource: 'configmaps', namespaced: true },
  Service: { group: '', resource: 'services', namespaced: true },
  ServiceAccount: { group: '', resource: 'serviceaccounts', namespaced: true },
  DaemonSet: { group: 'apps', resource: 'daemonsets', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespaced: true },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false },
  ClusterRoleBinding: {
    group: 'rbac.authorization.k8s.io',
    resource: 'clusterrolebindings',
    namespaced: false,
  },
  CustomResourceDefinition: {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    namespaced: false,
  },
  Event: { group: '', resource: 'events', namespaced: true },
  Session: { group: 'fathom.dev', resource: 'sessions', namespaced: true },
};

function kindOf(kind: string): (typeof kinds)[string] {
  const k = kinds[kind];
  if (!k) throw new FathomError('FATHOM_INTERNAL', `no API path known for kind ${kind}`);
  return k;
}

export interface Ref {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
}

/** The object's own path (`collection`: the path of its kind's collection instead). */
export function kindPath(ref: Ref, collection = false): string {
  const k = kindOf(ref.kind);
  return resourcePath(
    k.group,
    k.resource,
    k.namespaced ? ref.namespace : undefined,
    collection ? undefined : ref.name,
  );
}

/** The collection path of an object (`named`: the object's own path). */
export function objectPath(obj: KubeObject, named: boolean): string {
  const { kind, metadata } = obj;
  return kindPath({ kind, name: metadata.name ?? '', namespace: metadata.namespace }, !named);
}

/** Namespaced kinds a run leaves, the aggregator pod's kind first so its dependents go with it. */
const NAMESPACED = [
  'Pod',
  'DaemonSet',
  'Secret',
  'ConfigMap',
  'Service',
  'RoleBinding',
  'Role',
  'ServiceAccount',
];
const CLUSTER = ['ClusterRoleBinding', 'ClusterRole'];

/**
 * fathom's objects, less cluster checks' and the session controller's (`checks down` and
 * `kubectl delete` remove those) and the durable store's ConfigMaps: they may share the namespace.
 */
const RUN_SELECTOR = `${COMPONENT_SELECTOR},app.kubernetes.io/part-of notin (fathom-checks,fathom-sessions),!fathom.dev/store`;

/** What is left of the run in `namespace`: its own namespace, labelled objects, cluster RBAC. */
async function remaining(
  client: KubeClient,
  namespace: string,
): Promise<{ refs: Ref[]; ownsNamespace: boolean }> {
  const refs: Ref[] = [];
  const ns = await client.find<KubeObject>(
    resourcePath('', 'namespaces', undefined, namespace),
    `reading Namespace ${namespace}`,
  );
  const ownsNamespace = ns?.metadata.labels?.[LABEL.createdBy] === 'fathom';
  if (ns && ownsNamespace) refs.push({ kind: 'Namespace', name: namespace });
  for (const kind of CLUSTER) {
    const k = kindOf(kind);
    const list = await client.list<KubeObject>(
      resourcePath(k.group, k.resource),
      `listing ${kind}s of namespace ${namespace}`,
      {
        labelSelector: `${RUN_SELECTOR},${LABEL.namespace}=${namespace}`,
      },
    );
    refs.push(...list.items.map((o) => ({ kind, name: o.metadata.name })));
  }
  if (ns && !ownsNamespace) {
    for (const kind of NAMESPACED) {
      const k = kindOf(kind);
      const list = await client.list<KubeObject>(
        resourcePath(k.group, k.resource, namespace),
        `listing ${kind}s in ${namespace}`,
        {
          labelSelector: RUN_SELECTOR,
        },
      );
      refs.push(...list.items.map((o) => ({ kind, name: o.metadata.name, namespace })));
    }
  }
  return { refs, ownsNamespace };
}

export interface DeleteOptions {
  readonly wait: boolean;
  readonly clock: Clock;
  readonly pollMs: number;
  readonly timeoutMs: number;
}

/**
 * Deletes a run: the namespace when fathom created it (everything in it goes along), else
 * every object labelled `component=fathom` in it; and the run's cluster-wide RBAC. Works on
 * what a failed start left behind as well. With `wait`, returns once all of it is gone.
 */
export async function deleteRun(
  client: KubeClient,
  namespace: string,
  options: DeleteOptions,
): Promise<void> {
  const { refs } = await remaining(client, namespace);
  if (refs.length === 0)
    throw new FathomError('FATHOM_RUN_NOT_FOUND', `no run in namespace "${namespace}"`);
  for (const ref of refs) {
    await client.remove(
      kindPath(ref),
      `deleting ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`,
      { propagationPolicy: 'Background' },
    );
  }
  if (!options.wait) return;
  const deadline = options.clock.now() + options.timeoutMs;
  for (;;) {
    const left = (await remaining(client, namespace)).refs;
    if (left.length === 0) return;
    if (options.clock.now() >= deadline) {
      throw new FathomError(
        'FATHOM_TIMEOUT',
        `the run in namespace "${namespace}" is still being deleted (${left.map((r) => `${r.kind} ${r.name}`).join(', ')})`,
      );
    }
    await options.clock.sleep(options.pollMs);
  }
}
