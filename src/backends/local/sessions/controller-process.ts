/**
 * `fathom session-controller` on the local backend: the controller daemon (sessions/daemon.ts)
 * over the SQLite store, the local workload runtime and the embedded cluster's pools, acting only
 * while it holds the local lease `session-controller`; runs' pool claims (run-claims.ts) go
 * through it too. On SIGTERM it stops watching and hands
 * the lease back; what runs keeps running for the next controller.
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Clock } from '../../../core/clock.js';
import type { LeaseStore } from '../../../core/lease.js';
import { releasedLease } from '../../../core/lease.js';
import type { ControllerLog, ControllerSite } from '../../../sessions/index.js';
import {
  claimStoreOver,
  poolsFromNodes,
  runControllerDaemon,
  sessionStoreOver,
} from '../../../sessions/index.js';
import { clusterFileOf, readCluster } from '../cluster-store.js';
import { openLocalStore } from '../durable-store.js';
import { LocalLeaseStore } from '../lease.js';
import { isAlive } from '../process/group.js';
import { createLocalWorkloadRuntime } from '../workloads/index.js';
import { localRunEnded } from './run-claims.js';

export const sessionLease = 'session-controller';

export interface ControllerProcessOptions {
  readonly home: string;
  readonly clock: Clock;
  readonly executors: number;
  readonly labelKey: string;
  readonly signal: AbortSignal;
  readonly log: ControllerLog;
  /** How often the store and cluster.json are looked at. */
  readonly pollMs?: number;
  readonly leaseDurationMs?: number;
  readonly leaseRetryMs?: number;
}

const identityPrefix = (): string => `${hostname()}-`;

/**
 * A lease held by a process of this host that is gone was released by it in effect: taking it
 * at once lets a controller restarted after a SIGKILL act now instead of after the lease's
 * duration. Another host's holder (none on the local backend) is left to expire.
 */
export async function takeOverDeadHolder(store: LeaseStore, name: string, now: number) {
  const cur = await store.get(name);
  const holder = cur?.record.holder ?? '';
  if (!cur || !holder.startsWith(identityPrefix())) return false;
  const pid = Number(holder.slice(identityPrefix().length));
  if (!Number.isInteger(pid) || pid <= 0 || isAlive(pid)) return false;
  return store.update(name, releasedLease(now, cur.record), cur.version);
}

async function clusterStamp(home: string): Promise<string> {
  const s = await stat(clusterFileOf(home)).catch(() => undefined);
  return s ? `${s.mtimeMs}:${s.size}:${s.ino}` : 'none';
}

/** The SQLite store, the local runtime and the embedded cluster's pools (re-read when cluster.json changes). */
export async function openSite(
  o: Pick<ControllerProcessOptions, 'home' | 'clock' | 'labelKey'>,
): Promise<ControllerSite> {
  const { home, clock, labelKey } = o;
  let stamp = await clusterStamp(home);
  const nodes = (await readCluster(home))?.nodes ?? [];
  // The runtime reads this array on each place: kept in step with cluster.json below.
  const nodeNames = nodes.map((n) => n.name);
  const raw = openLocalStore(home);
  return {
    store: sessionStoreOver(raw),
    runtime: createLocalWorkloadRuntime({ home, clock, nodes: nodeNames, recordExits: true }),
    pools: poolsFromNodes(nodes, labelKey),
    claims: claimStoreOver(raw),
    runEnded: (run) => localRunEnded(home, run),
    async changedPools() {
      const now = await clusterStamp(home);
      if (now === stamp) return undefined;
      stamp = now;
      const fresh = (await readCluster(home))?.nodes ?? [];
      nodeNames.splice(0, nodeNames.length, ...fresh.map((n) => n.name));
      return poolsFromNodes(fresh, labelKey);
    },
    close: () => raw.close(),
  };
}

/** Runs until `signal` aborts; acts only while leading. */
export async function runSessionController(o: ControllerProcessOptions): Promise<void> {
  const store = new LocalLeaseStore(o.home, o.clock);
  if (await takeOverDeadHolder(store, sessionLease, o.clock.now()).catch(() => false)) {
    o.log.info({}, 'took over the lease of a dead controller');
  }
  await runControllerDaemon({
    clock: o.clock,
    signal: o.signal,
    log: o.log,
    identity: `${identityPrefix()}${process.pid}`,
    executors: o.executors,
    labelKey: o.labelKey,
    lease: {
      store,
      name: sessionLease,
      ...(o.leaseDurationMs ? { durationMs: o.leaseDurationMs } : {}),
      ...(o.leaseRetryMs ? { retryMs: o.leaseRetryMs } : {}),
    },
    ...(o.pollMs ? { pollMs: o.pollMs } : {}),
    open: () => openSite(o),
  });
}
