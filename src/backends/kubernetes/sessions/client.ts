/**
 * Sessions on Kubernetes, for the CLI: the sessions client over Session resources, the
 * components' Pods and the pools of the cluster's Nodes. The controller is a Deployment (or any
 * `fathom session-controller --backend kubernetes` holding the Lease): this side only says when
 * none holds it, since sessions then wait in the queue.
 */
import type { Clock } from '../../../core/clock.js';
import { FathomError, isFathomError } from '../../../core/errors.js';
import { claimStoreOver, SessionsClient, type StoredSession } from '../../../sessions/index.js';
import type { ControllerStart, SessionsBackend } from '../../sessions.js';
import type { KubeClient } from '../api/client.js';
import { createKubeStore } from '../durable-store.js';
import { KubeLeaseStore } from '../lease.js';
import { createKubeWorkloadRuntime } from '../workloads.js';
import { listPools } from './nodes.js';
import { SESSION_CONTROLLER_LEASE } from './names.js';
import { openKubeSessionStore } from './open.js';
import type { KubeSessionStore } from './store.js';

export interface KubeSessionsOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  readonly labelKey: string;
}

class KubeSessions extends SessionsClient implements SessionsBackend {
  readonly #o: KubeSessionsOptions;
  readonly #store: KubeSessionStore;

  constructor(o: KubeSessionsOptions, store: KubeSessionStore) {
    super({
      store,
      runtime: createKubeWorkloadRuntime(o),
      pools: () => listPools(o.client, o.labelKey),
      clock: o.clock,
      labelKey: o.labelKey,
      // Runs' pool claims (run-claims.ts): `fathom pools` shows them as holders `run/<name>`.
      claims: claimStoreOver(createKubeStore(o)),
    });
    this.#o = o;
    this.#store = store;
  }

  /** A Session the parser refuses is not a session: said with the parser's message. */
  override async get(name: string): Promise<StoredSession> {
    try {
      return await super.get(name);
    } catch (err) {
      const bad = (await this.#store.invalid()).find((i) => i.name === name);
      if (!bad || !isFathomError(err, 'FATHOM_SESSION_NOT_FOUND')) throw err;
      throw new FathomError('FATHOM_SESSION_INVALID', `session ${name}: ${bad.message}`);
    }
  }

  async problems(): Promise<readonly string[]> {
    return (await this.#store.invalid()).map((i) => `session ${i.name}: ${i.message}`);
  }

  /** Whether a controller holds the Lease now (its renewal not yet past its duration). */
  ensureController(): Promise<ControllerStart> {
    return controllerHeld(this.#o);
  }

  close(): Promise<void> {
    this.#o.client.close();
    return Promise.resolve();
  }
}

/** `running` when a controller holds the Lease in `namespace` now (renewed within its duration). */
export async function controllerHeld(o: {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
}): Promise<'running' | 'absent'> {
  const lease = await new KubeLeaseStore(o.client, o.namespace).get(SESSION_CONTROLLER_LEASE);
  const r = lease?.record;
  const held = r && r.holder !== '' && r.renewedAt + r.durationMs > o.clock.now();
  return held ? 'running' : 'absent';
}

export async function openKubeSessions(o: KubeSessionsOptions): Promise<SessionsBackend> {
  return new KubeSessions(o, await openKubeSessionStore(o));
}
