/** The session store on Kubernetes, as the controller and the CLI open it. */
import type { Clock } from '../../../core/clock.js';
import type { SessionStore } from '../../../sessions/index.js';
import { sessionStoreOver } from '../../../sessions/index.js';
import type { KubeClient } from '../api/client.js';
import { createKubeStore } from '../durable-store.js';

/** The controller's Deployment, ServiceAccount and Lease. */
export const SESSION_CONTROLLER = 'fathom-session-controller';

export type KubeSessionsStore = SessionStore & {
  /** Before each sync of the controller. */
  beforeSync?(now: number): Promise<void>;
};

export function openKubeSessionStore(o: {
  client: KubeClient;
  namespace: string;
  clock: Clock;
}): Promise<KubeSessionsStore> {
  return Promise.resolve(sessionStoreOver(createKubeStore(o)));
}
