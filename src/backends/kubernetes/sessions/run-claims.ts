/**
 * A Kubernetes run on a pool (`fathom run --pool NAME --backend kubernetes`): its claim lives in
 * the sessions namespace's store (ConfigMaps, as the session controller's holdings do), the run
 * waits there until the controller grants the pool's nodes (sessions/claim-wait.ts), and only
 * then creates its namespace and aggregator. `fathom delete` removes the claim; the controller's
 * probe (`kubeRunEnded`) frees the nodes of a run that ended any other way.
 *
 * Before its aggregator pod exists the run has nothing in the cluster to say it is alive, so
 * the waiting CLI keeps a heartbeat (`pool-claim-waiters/<run>`) until the pod is created: a
 * fresh heartbeat means "not ended", a stale one (the CLI died) no longer protects the claim.
 */
import type { Clock } from '../../../core/clock.js';
import { FathomError, isFathomError } from '../../../core/errors.js';
import { Type } from '../../../core/schema.js';
import type { Collection, DurableStore } from '../../../core/store.js';
import { typedCollection } from '../../../core/store.js';
import type { PluginDefinition } from '../../../plugin/types.js';
import { onNodesLabelled, onNodesNamed } from '../../../plugin/pool.js';
import {
  claimStoreOver,
  runPoolNodes,
  sessionStoreOver,
  SessionsClient,
  waitForClaim,
} from '../../../sessions/index.js';
import type { PoolRequest } from '../../backend.js';
import { resourcePath, type KubeClient } from '../api/client.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import { createKubeStore } from '../durable-store.js';
import { AGGREGATOR_POD, STATUS_ANNOTATION } from '../names.js';
import { decodeStatusAnnotation } from '../status-annotation.js';
import { createKubeWorkloadRuntime } from '../workloads.js';
import { controllerHeld } from './client.js';
import { listPools } from './nodes.js';

/** The heartbeat: written every `beatMs` while waiting, trusted for `graceMs` (clock skew included). */
export const waiterTiming = { beatMs: 5_000, graceMs: 30_000 } as const;

const WAITERS = 'pool-claim-waiters';
const waiterSchema = Type.Object({ renewedAt: Type.Number() });
type Waiter = { renewedAt: number };

const waiters = (store: DurableStore): Collection<Waiter> =>
  typedCollection(store.collection(WAITERS), waiterSchema, WAITERS);

/** What the probe read about one run. */
export interface KubeRunSeen {
  /** Its namespace: gone, being deleted, or there. */
  readonly namespace: 'absent' | 'deleting' | 'present';
  /** Its aggregator pod, when there. */
  readonly pod?: Pod;
  /** The waiting CLI's last heartbeat (milliseconds since the epoch), when there. */
  readonly waiterAt?: number;
}

/**
 * Whether the run is over, from what was read (pure): not while its waiting CLI's heartbeat is
 * fresh; otherwise when its namespace or aggregator pod is gone or going, the pod has stopped,
 * or its status annotation says complete or failed.
 */
export function kubeRunEndedFrom(
  seen: KubeRunSeen,
  now: number,
  graceMs: number = waiterTiming.graceMs,
): boolean {
  if (seen.waiterAt !== undefined && now - seen.waiterAt <= graceMs) return false;
  if (seen.namespace !== 'present') return true;
  const pod = seen.pod;
  if (!pod || pod.metadata.deletionTimestamp) return true;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return true;
  let status: string | undefined;
  try {
    status = decodeStatusAnnotation(pod.metadata.annotations?.[STATUS_ANNOTATION])?.status;
  } catch (err) {
    // A malformed annotation says nothing: the pod's phase decides.
    if (!isFathomError(err, 'FATHOM_STATE_INVALID')) throw err;
  }
  return status === 'complete' || status === 'failed';
}

/** The controller's probe: reads the run's namespace, aggregator pod and heartbeat. */
export function kubeRunEnded(o: {
  readonly client: KubeClient;
  /** The sessions namespace, where the heartbeats are. */
  readonly namespace: string;
  readonly clock: Clock;
}): (run: string) => Promise<boolean> {
  const beats = waiters(createKubeStore(o));
  return async (run) => {
    const ns = await o.client.find<KubeObject>(
      resourcePath('', 'namespaces', undefined, run),
      `reading Namespace ${run}`,
    );
    const pod = ns
      ? await o.client.find<Pod>(
          resourcePath('', 'pods', run, AGGREGATOR_POD),
          `reading Pod ${run}/${AGGREGATOR_POD}`,
        )
      : undefined;
    const waiter = await beats.get(run);
    const seen: KubeRunSeen = {
      namespace: !ns ? 'absent' : ns.metadata.deletionTimestamp ? 'deleting' : 'present',
      ...(pod ? { pod } : {}),
      ...(waiter ? { waiterAt: waiter.value.renewedAt } : {}),
    };
    const ended = kubeRunEndedFrom(seen, o.clock.now());
    // A waiter that died leaves its heartbeat: it goes with the claim.
    if (ended && waiter) await beats.remove(run, waiter.version);
    return ended;
  };
}

export interface KubeClaimOptions {
  readonly client: KubeClient;
  /** The sessions namespace (`fathom-sessions` by default), not the run's. */
  readonly sessionsNamespace: string;
  readonly run: string;
  readonly pool: PoolRequest;
  readonly clock: Clock;
  readonly progress?: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** The claims and heartbeats of runs in the sessions namespace. */
export function kubeRunClaims(client: KubeClient, sessionsNamespace: string) {
  const store = createKubeStore({ client, namespace: sessionsNamespace });
  const beats = waiters(store);
  return {
    claims: claimStoreOver(store),
    /** The run is alive: its heartbeat now. */
    async beat(run: string, now: number): Promise<void> {
      const cur = await beats.get(run);
      if (!cur) await beats.create(run, { renewedAt: now });
      else await beats.update(run, { renewedAt: now }, cur.version);
    },
    /** The aggregator pod exists (or the run gave up): the heartbeat goes. */
    async started(run: string): Promise<void> {
      await beats.remove(run);
    },
    /** `fathom delete`: the claim and any heartbeat go (true when it had a claim). */
    async release(run: string): Promise<boolean> {
      await beats.remove(run);
      const claims = claimStoreOver(store);
      const had = (await claims.get(run)) !== undefined;
      await claims.remove(run);
      return had;
    },
  };
}

/**
 * Writes the run's claim into the sessions namespace's store and waits until it is granted,
 * saying who holds the pool and warning when no session controller holds the lease; returns
 * the nodes granted. The heartbeat stays until `kubeRunClaims(...).started`.
 */
export async function claimAndWaitKube(o: KubeClaimOptions): Promise<readonly string[]> {
  const ns = o.sessionsNamespace;
  const run = kubeRunClaims(o.client, ns);
  const store = createKubeStore({ client: o.client, namespace: ns });
  const sessions = new SessionsClient({
    store: sessionStoreOver(store),
    runtime: createKubeWorkloadRuntime({ client: o.client, namespace: ns, clock: o.clock }),
    pools: () => listPools(o.client, o.pool.labelKey),
    clock: o.clock,
    labelKey: o.pool.labelKey,
    claims: run.claims,
  });
  let beatAt = -Infinity;
  try {
    return await waitForClaim(
      {
        claims: run.claims,
        pools: () => sessions.pools(),
        ensureController: () => controllerHeld({ client: o.client, namespace: ns, clock: o.clock }),
      },
      {
        run: o.run,
        pool: o.pool,
        clock: o.clock,
        absentWarning: `warning: no session controller runs in namespace ${ns}: the run waits until one does (\`fathom gen sessions -n ${ns} | kubectl apply -f -\`)`,
        beat: async () => {
          const now = o.clock.now();
          if (now - beatAt < waiterTiming.beatMs) return;
          await run.beat(o.run, now);
          beatAt = now;
        },
        ...(o.progress ? { progress: o.progress } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
      },
    );
  } catch (err) {
    await run.started(o.run).catch(() => {});
    throw err;
  }
}

/** The pool's nodes now, or FATHOM_POOL_REFUSED naming the pool, what is asked and the capacity. */
export async function kubePoolNodes(
  client: KubeClient,
  pool: PoolRequest,
): Promise<readonly string[]> {
  const list = await client.list<Node>('/api/v1/nodes', 'listing nodes');
  const nodes = list.items.map((n) => ({
    name: n.metadata.name,
    labels: { ...n.metadata.labels },
  }));
  return runPoolNodes(nodes, pool);
}

/**
 * Every plugin's pods kept to the granted nodes: the node selector `<pool-label>=<pool>`, and,
 * when fewer than all the pool's nodes were granted (`--pool-nodes`), a node affinity on
 * exactly their names.
 */
export function placedOnGranted(
  plugins: readonly PluginDefinition[],
  pool: PoolRequest,
  all: readonly string[],
  granted: readonly string[],
): readonly PluginDefinition[] {
  const every = all.every((n) => granted.includes(n));
  return plugins.map((p) => {
    const labelled = onNodesLabelled(p, pool.labelKey, pool.name);
    return every ? labelled : onNodesNamed(labelled, granted);
  });
}

/** A Kubernetes run on a pool, from its refusal check to its plugins placed (backend.ts). */
export interface KubePoolRun {
  /** Waits until the pool's nodes are granted; the plugins kept to them. */
  wait(
    run: string,
    plugins: readonly PluginDefinition[],
    options: { readonly progress?: (line: string) => void; readonly signal?: AbortSignal },
  ): Promise<readonly PluginDefinition[]>;
  /** The aggregator pod exists: the heartbeat goes. */
  started(run: string): Promise<void>;
  /** The run could not start: its claim goes. */
  release(run: string): Promise<boolean>;
}

/** Refuses, before anything is written, a pool no node is in or one too small. */
export async function kubePoolRun(o: {
  readonly client: KubeClient;
  readonly sessionsNamespace: string;
  readonly pool: PoolRequest;
  readonly clock: Clock;
  readonly pollMs?: number;
}): Promise<KubePoolRun> {
  const all = await kubePoolNodes(o.client, o.pool);
  const claims = kubeRunClaims(o.client, o.sessionsNamespace);
  return {
    async wait(run, plugins, options) {
      const granted = await claimAndWaitKube({ ...o, ...options, run });
      options.progress?.(`Pool "${o.pool.name}": granted ${[...granted].sort().join(', ')}.`);
      return placedOnGranted(plugins, o.pool, all, granted);
    },
    started: (run) => claims.started(run),
    release: (run) => claims.release(run),
  };
}

/**
 * For `fathom status` and the other run commands when the run has no aggregator pod: a run
 * still waiting for its pool is said to be so; undefined otherwise (or without access there).
 */
export async function waitingRun(
  client: KubeClient,
  sessionsNamespace: string,
  run: string,
): Promise<FathomError | undefined> {
  const store = createKubeStore({ client, namespace: sessionsNamespace });
  const claim = await claimStoreOver(store)
    .get(run)
    .catch((err: unknown) => {
      if (isFathomError(err, 'FATHOM_KUBE_FORBIDDEN')) return undefined;
      throw err;
    });
  if (claim?.state !== 'Waiting') return undefined;
  return new FathomError(
    'FATHOM_RUN_NOT_FOUND',
    `the run in namespace "${run}" waits for the nodes of pool "${claim.pool}" (\`fathom pools\` shows who holds them)`,
  );
}
