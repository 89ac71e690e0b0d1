/** Sessions on Kubernetes: the CLI's client and the controller process. */
export { openKubeSessions, type KubeSessionsOptions } from './client.js';
export { runKubeSessionController, type KubeControllerOptions } from './controller-process.js';
export { SESSION_CONTROLLER } from './open.js';
