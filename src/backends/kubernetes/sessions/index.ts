/**
 * Sessions on Kubernetes: the Session CRD and its install, the store of sessions over Session
 * custom resources, `fathom gen sessions`, the CLI's client and the controller process.
 */
export { openKubeSessions, type KubeSessionsOptions } from './client.js';
export { runKubeSessionController, type KubeControllerOptions } from './controller-process.js';
export { ensureCrd, ensureSessionCrd, sessionCrd, type EnsureCrdOptions } from './crd.js';
export { generateSessionsYaml } from './gen.js';
export { kubeEventFor, type InvolvedSession } from './kube-events.js';
export { controllerCommand, controllerRules, sessionsManifests } from './manifests.js';
export {
  SESSION_CONTROLLER,
  SESSION_CONTROLLER_LEASE,
  SESSION_CRD,
  SESSION_FIELD_MANAGER,
  SESSION_GROUP,
  SESSION_PLURAL,
  SESSION_VERSION,
  SUBMITTED_AT_ANNOTATION,
} from './names.js';
export {
  DEFAULT_SESSIONS_NAMESPACE,
  sessionsSpec,
  type KubeSessionsSpec,
  type RawSessionsOptions,
} from './options.js';
export {
  createKubeSessionStore,
  type EndedInvalid,
  type InvalidSession,
  type KubeSessionStore,
  type KubeSessionStoreOptions,
} from './store.js';
