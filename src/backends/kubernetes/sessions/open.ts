/** The session store on Kubernetes as the controller and the CLI open it: the CRD first. */
import type { Clock } from '../../../core/clock.js';
import type { KubeClient } from '../api/client.js';
import { ensureSessionCrd } from './crd.js';
import { createKubeSessionStore, type KubeSessionStore } from './store.js';

/** How long a first use waits for the CRD it installed to be Established. */
const CRD_WAIT_MS = 60_000;

export async function openKubeSessionStore(o: {
  client: KubeClient;
  namespace: string;
  clock: Clock;
  log?: (line: string) => void;
  instance?: string;
}): Promise<KubeSessionStore> {
  await ensureSessionCrd({ client: o.client, clock: o.clock, timeoutMs: CRD_WAIT_MS });
  return createKubeSessionStore(o);
}
