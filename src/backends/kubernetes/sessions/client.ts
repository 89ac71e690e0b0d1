/**
 * Sessions on Kubernetes, for the CLI: the sessions client over Session resources, the
 * components' Pods and the pools of the cluster's Nodes. The controller is a Deployment (or any
 * `fathom session-controller --backend kubernetes` holding the Lease): this side only says when
 * none holds it, since sessions then wait in the queue.
 */
import type { Clock } from '../../../core/clock.js';
import { SessionsClient } from '../../../sessions/index.js';
import type { ControllerStart, SessionsBackend } from '../../sessions.js';
import type { KubeClient } from '../api/client.js';
import { KubeLeaseStore } from '../lease.js';
import { createKubeWorkloadRuntime } from '../workloads.js';
import { listPools } from './nodes.js';
import type { KubeSessionsStore } from './open.js';
import { openKubeSessionStore, SESSION_CONTROLLER } from './open.js';

export interface KubeSessionsOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  readonly labelKey: string;
}

class KubeSessions extends SessionsClient implements SessionsBackend {
  readonly #o: KubeSessionsOptions;

  constructor(o: KubeSessionsOptions, store: KubeSessionsStore) {
    super({
      store,
      runtime: createKubeWorkloadRuntime(o),
      pools: () => listPools(o.client, o.labelKey),
      clock: o.clock,
      labelKey: o.labelKey,
    });
    this.#o = o;
  }

  /** Whether a controller holds the Lease now (its renewal not yet past its duration). */
  async ensureController(): Promise<ControllerStart> {
    const lease = await new KubeLeaseStore(this.#o.client, this.#o.namespace).get(
      SESSION_CONTROLLER,
    );
    const r = lease?.record;
    const held = r && r.holder !== '' && r.renewedAt + r.durationMs > this.#o.clock.now();
    return held ? 'running' : 'absent';
  }

  close(): Promise<void> {
    this.#o.client.close();
    return Promise.resolve();
  }
}

export async function openKubeSessions(o: KubeSessionsOptions): Promise<SessionsBackend> {
  return new KubeSessions(o, await openKubeSessionStore(o));
}
