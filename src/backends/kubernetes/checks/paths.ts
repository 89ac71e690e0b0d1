/** Where each kind cluster checks use lives in the API. */
import { FathomError } from '../../../core/errors.js';
import { resourcePath } from '../api/client.js';

type Group = '' | 'apps' | 'rbac.authorization.k8s.io' | 'coordination.k8s.io';

const kinds: Readonly<Record<string, { group: Group; resource: string; namespaced: boolean }>> = {
  Namespace: { group: '', resource: 'namespaces', namespaced: false },
  ServiceAccount: { group: '', resource: 'serviceaccounts', namespaced: true },
  Secret: { group: '', resource: 'secrets', namespaced: true },
  ConfigMap: { group: '', resource: 'configmaps', namespaced: true },
  Service: { group: '', resource: 'services', namespaced: true },
  Pod: { group: '', resource: 'pods', namespaced: true },
  Deployment: { group: 'apps', resource: 'deployments', namespaced: true },
  DaemonSet: { group: 'apps', resource: 'daemonsets', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespaced: true },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false },
  ClusterRoleBinding: {
    group: 'rbac.authorization.k8s.io',
    resource: 'clusterrolebindings',
    namespaced: false,
  },
  Lease: { group: 'coordination.k8s.io', resource: 'leases', namespaced: true },
};

export interface Ref {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
}

/** The object's own path (`collection`: the path of its kind's collection instead). */
export function kindPath(ref: Ref, collection = false): string {
  const k = kinds[ref.kind];
  if (!k) throw new FathomError('FATHOM_INTERNAL', `no API path known for kind ${ref.kind}`);
  return resourcePath(
    k.group,
    k.resource,
    k.namespaced ? ref.namespace : undefined,
    collection ? undefined : ref.name,
  );
}
