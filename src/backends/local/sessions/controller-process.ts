/**
 * `fathom session-controller` on the local backend: the SessionController over the SQLite store,
 * the local workload runtime and the embedded cluster's pools (re-read when cluster.json
 * changes), acting only while it holds the local lease `session-controller`. Sessions written
 * by the CLI are picked up by `sync` on each tick, and so are runs' pool claims (run-claims.ts). On SIGTERM it stops watching and hands the
 * lease back; what runs keeps running for the next controller (components are not its children).
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Clock } from '../../../core/clock.js';
import { messageOf } from '../../../core/errors.js';
import type { LeaseStore } from '../../../core/lease.js';
import { elect, releasedLease } from '../../../core/lease.js';
import type { DurableStore } from '../../../core/store.js';
import {
  claimStoreOver,
  poolsFromNodes,
  SessionController,
  sessionStoreOver,
} from '../../../sessions/index.js';
import { clusterFileOf, readCluster } from '../cluster-store.js';
import { openLocalStore } from '../durable-store.js';
import { LocalLeaseStore } from '../lease.js';
import { isAlive } from '../process/group.js';
import { createLocalWorkloadRuntime } from '../workloads/index.js';
import { localRunEnded } from './run-claims.js';

export const sessionLease = 'session-controller';

export interface ControllerLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

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

interface Leading {
  readonly controller: SessionController;
  readonly stop: AbortController;
  readonly loop: Promise<void>;
  readonly raw: DurableStore;
}

async function lead(o: ControllerProcessOptions, identity: string): Promise<Leading> {
  const { home, clock, log, labelKey } = o;
  let stamp = await clusterStamp(home);
  const nodes = [...((await readCluster(home))?.nodes ?? [])];
  // The runtime reads this array on each place: kept in step with cluster.json below.
  const nodeNames = nodes.map((n) => n.name);
  const runtime = createLocalWorkloadRuntime({ home, clock, nodes: nodeNames, recordExits: true });
  const raw = openLocalStore(home);
  const controller = await SessionController.start({
    store: sessionStoreOver(raw),
    runtime,
    clock,
    pools: poolsFromNodes(nodes, labelKey),
    executors: o.executors,
    labelKey,
    id: identity,
    log: (line) => log.error({}, line),
    claims: claimStoreOver(raw),
    runEnded: (run) => localRunEnded(home, run),
  });
  controller.onChange((session, state) => log.info({ session, state }, 'session state'));
  log.info({ pools: controller.usage() }, 'leading');
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      try {
        await clock.sleep(o.pollMs ?? 200, stop.signal);
      } catch {
        return;
      }
      try {
        const now = await clusterStamp(home);
        if (now !== stamp) {
          stamp = now;
          const fresh = (await readCluster(home))?.nodes ?? [];
          nodeNames.splice(0, nodeNames.length, ...fresh.map((n) => n.name));
          await controller.setPools(poolsFromNodes(fresh, labelKey));
          log.info({ pools: controller.usage() }, 'cluster changed: pools re-read');
        }
        await controller.sync();
        await controller.tick();
      } catch (err) {
        log.error({ error: messageOf(err) }, 'tick failed');
      }
    }
  })();
  return { controller, stop, loop, raw };
}

async function stopLeading(l: Leading | undefined): Promise<void> {
  if (!l) return;
  l.stop.abort();
  await l.loop;
  await l.controller.abandon();
  await l.raw.close().catch(() => {});
}

/** Runs until `signal` aborts; acts only while leading. */
export async function runSessionController(o: ControllerProcessOptions): Promise<void> {
  const identity = `${identityPrefix()}${process.pid}`;
  const store = new LocalLeaseStore(o.home, o.clock);
  if (await takeOverDeadHolder(store, sessionLease, o.clock.now()).catch(() => false)) {
    o.log.info({}, 'took over the lease of a dead controller');
  }
  let leading: Leading | undefined;
  const election = elect(
    {
      store,
      name: sessionLease,
      identity,
      clock: o.clock,
      durationMs: o.leaseDurationMs ?? 10_000,
      retryMs: o.leaseRetryMs ?? 1_000,
    },
    o.signal,
  );
  try {
    for await (const l of election) {
      o.log.info({ leadership: l }, 'leadership changed');
      if (l.role === 'leader' && !leading) {
        try {
          leading = await lead(o, identity);
        } catch (err) {
          o.log.error({ error: messageOf(err) }, 'cannot start the controller');
          throw err;
        }
      } else if (l.role !== 'leader' && leading) {
        await stopLeading(leading);
        leading = undefined;
      }
    }
  } finally {
    await stopLeading(leading);
    o.log.info({}, 'stopped');
  }
}
