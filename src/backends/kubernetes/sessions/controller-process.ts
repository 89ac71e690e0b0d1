/**
 * `fathom session-controller --backend kubernetes`: the controller daemon (sessions/daemon.ts)
 * in one namespace, over Session custom resources (the store), Pods bound to nodes (the
 * workload runtime) and the pools of the cluster's Nodes (watched), acting only while it holds
 * the Lease `fathom-session-controller`. Runs' pool claims (run-claims.ts) go through it too. Run as a Deployment of two replicas, one leads.
 */
import { hostname } from 'node:os';
import type { Clock } from '../../../core/clock.js';
import { messageOf } from '../../../core/errors.js';
import type { ControllerLog, ControllerSite } from '../../../sessions/index.js';
import { claimStoreOver, runControllerDaemon } from '../../../sessions/index.js';
import { resourcePath, type KubeClient } from '../api/client.js';
import { watchObjects, type WatchedObject } from '../api/informer.js';
import { createKubeStore, STORE_LABEL } from '../durable-store.js';
import { KubeLeaseStore } from '../lease.js';
import { createKubeWorkloadRuntime } from '../workloads.js';
import { WatchedPools } from './nodes.js';
import { SESSION_CONTROLLER_LEASE, SESSION_GROUP, SESSION_PLURAL } from './names.js';
import { openKubeSessionStore } from './open.js';
import { kubeRunEnded } from './run-claims.js';

export interface KubeControllerOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  readonly executors: number;
  readonly labelKey: string;
  readonly signal: AbortSignal;
  readonly log: ControllerLog;
  /** The lease holder and the Events' reporting instance; the host name and pid by default. */
  readonly identity?: string;
  readonly pollMs?: number;
  readonly leaseDurationMs?: number;
  readonly leaseRetryMs?: number;
}

/** Without a change a sync still runs this often (what a watch may have missed). */
const RESYNC_MS = 10_000;

/**
 * Watches on what others write into the store, the Session resources and runs' pool claims:
 * the store is read again (a LIST or four) only after one changed, or once per resync period,
 * not on every tick of the loop.
 */
function watchChanges(o: KubeControllerOptions, signal: AbortSignal): () => boolean {
  let dirty = true;
  let synced = o.clock.now();
  const watches = [
    { path: resourcePath(SESSION_GROUP, SESSION_PLURAL, o.namespace), what: 'sessions' },
    {
      path: resourcePath('', 'configmaps', o.namespace),
      labelSelector: `${STORE_LABEL}=pool-claims`,
      what: "runs' pool claims",
    },
  ];
  for (const { what, ...w } of watches) {
    void (async () => {
      for await (const e of watchObjects<WatchedObject>({
        ...w,
        client: o.client,
        clock: o.clock,
        signal,
        what: `watching the ${what} of namespace ${o.namespace}`,
      })) {
        if (e.type === 'error') o.log.error({ error: messageOf(e.error) }, 'watch failed');
        else dirty = true;
      }
    })();
  }
  return () => {
    const now = o.clock.now();
    if (!dirty && now - synced < RESYNC_MS) return false;
    dirty = false;
    synced = now;
    return true;
  };
}

async function openSite(o: KubeControllerOptions): Promise<ControllerSite> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const watched = await WatchedPools.start({
      client: o.client,
      clock: o.clock,
      labelKey: o.labelKey,
      signal: stop.signal,
      onError: (err) => o.log.error({ error: messageOf(err) }, 'node watch failed; retrying'),
    });
    const store = await openKubeSessionStore({
      ...o,
      log: (line) => o.log.error({}, line),
      ...(o.identity ? { instance: o.identity } : {}),
    });
    return {
      store,
      runtime: createKubeWorkloadRuntime(o),
      pools: watched.pools,
      // Runs on a pool (`fathom run --pool`) claim nodes beside the sessions, in this namespace.
      claims: claimStoreOver(createKubeStore(o)),
      runEnded: kubeRunEnded(o),
      changedPools: () => Promise.resolve(watched.changed()),
      storeChanged: watchChanges(o, stop.signal), // after the store: the CRD exists by then
      // A Session the parser refuses (applied with kubectl) ends Errored, InvalidSpec.
      beforeSync: async (now) => {
        const { ended, removed } = await store.endInvalid(now);
        if (ended.length || removed.length) o.log.info({ ended, removed }, 'invalid sessions');
      },
      close: () => {
        stop.abort();
        o.signal.removeEventListener('abort', onAbort);
        return Promise.resolve();
      },
    };
  } catch (err) {
    stop.abort();
    throw err;
  }
}

/** Runs until `signal` aborts; acts only while leading. */
export function runKubeSessionController(o: KubeControllerOptions): Promise<void> {
  return runControllerDaemon({
    clock: o.clock,
    signal: o.signal,
    log: o.log,
    identity: o.identity ?? `${hostname()}_${process.pid}`,
    executors: o.executors,
    labelKey: o.labelKey,
    lease: {
      store: new KubeLeaseStore(o.client, o.namespace),
      name: SESSION_CONTROLLER_LEASE,
      ...(o.leaseDurationMs ? { durationMs: o.leaseDurationMs } : {}),
      ...(o.leaseRetryMs ? { retryMs: o.leaseRetryMs } : {}),
    },
    ...(o.pollMs ? { pollMs: o.pollMs } : {}),
    open: () => openSite(o),
  });
}
