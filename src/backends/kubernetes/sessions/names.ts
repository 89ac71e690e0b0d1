/** Names, labels and annotations of sessions on Kubernetes. Pure. */
import { COMPONENT, LABEL } from '../names.js';

/**
 * Not `fathom`, the runs' default: deleting a run may delete the namespace it created, and
 * the sessions' store lives in this one.
 */
export const DEFAULT_SESSIONS_NAMESPACE = 'fathom-sessions';

export const SESSION_GROUP = 'fathom.dev';
export const SESSION_VERSION = 'v1alpha1';
export const SESSION_PLURAL = 'sessions';
/** The CustomResourceDefinition's name: `<plural>.<group>`. */
export const SESSION_CRD = `${SESSION_PLURAL}.${SESSION_GROUP}`;

/** The controller's Deployment, ServiceAccount, Role and the Lease its replicas elect with. */
export const SESSION_CONTROLLER = 'fathom-session-controller';
export const SESSION_CONTROLLER_LEASE = SESSION_CONTROLLER;
/** Who owns the CRD's fields when the controller installs it (server-side apply). */
export const SESSION_FIELD_MANAGER = SESSION_CONTROLLER;

/** Milliseconds since the epoch: the session's place in the queue (kubectl's CRs have none). */
export const SUBMITTED_AT_ANNOTATION = 'fathom.dev/submitted-at';

export const PART_OF = 'app.kubernetes.io/part-of';
export const PART_OF_SESSIONS = 'fathom-sessions';

export function sessionsLabels(): Record<string, string> {
  return {
    [LABEL.component]: COMPONENT,
    [PART_OF]: PART_OF_SESSIONS,
    [LABEL.role]: 'session-controller',
  };
}

/** What selects the controller's pods. */
export function controllerSelector(): Record<string, string> {
  return { [LABEL.component]: COMPONENT, [LABEL.role]: 'session-controller' };
}

/** Cluster-scoped names carry the namespace: two namespaces may each run a controller. */
export function clusterScopedName(namespace: string): string {
  return `${SESSION_CONTROLLER}-${namespace}`;
}
