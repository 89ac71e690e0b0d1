/**
 * The session controller as a long-running process, on any backend: it acts only while it holds
 * the lease, and then runs a SessionController over what the backend opens (the store, the
 * workload runtime, the pools), syncing with the store and re-reading the pools on each tick.
 * Stepping down (or the signal) stops watching and closes what was opened; what runs keeps
 * running for the next leader (components are not the controller's children).
 */
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import type { LeaseStore } from '../core/lease.js';
import { elect } from '../core/lease.js';
import type { WorkloadRuntime } from '../core/workload.js';
import { SessionController } from './controller.js';
import type { ClaimStore } from './claims.js';
import type { Pools } from './pools.js';
import type { SessionStore } from './store.js';

export interface ControllerLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** What a backend opens for a leader, and closes when it steps down. */
export interface ControllerSite {
  readonly store: SessionStore;
  readonly runtime: WorkloadRuntime;
  readonly pools: Pools;
  /** Runs' pool claims and how to tell their run ended (both backends); none when absent. */
  readonly claims?: ClaimStore;
  readonly runEnded?: (run: string) => Promise<boolean>;
  /** The pools when the nodes changed since the last call, else undefined. */
  changedPools(): Promise<Pools | undefined>;
  /**
   * Whether the store may have changed since the last sync (a watch said so, or a resync is
   * due); when absent, every tick syncs (a local database is cheap to read).
   */
  storeChanged?(): boolean;
  /** Before each sync: the Kubernetes backend ends sessions it cannot read here. */
  beforeSync?(now: number): Promise<void>;
  close(): Promise<void>;
}

export interface ControllerDaemonOptions {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly log: ControllerLog;
  readonly identity: string;
  readonly executors: number;
  readonly labelKey: string;
  readonly lease: {
    readonly store: LeaseStore;
    readonly name: string;
    readonly durationMs?: number;
    readonly retryMs?: number;
  };
  /** How often the store and the pools are looked at. */
  readonly pollMs?: number;
  open(): Promise<ControllerSite>;
}

interface Leading {
  readonly controller: SessionController;
  readonly stop: AbortController;
  readonly loop: Promise<void>;
  readonly site: ControllerSite;
}

async function lead(o: ControllerDaemonOptions): Promise<Leading> {
  const { clock, log, labelKey } = o;
  const site = await o.open();
  let controller: SessionController;
  try {
    controller = await SessionController.start({
      store: site.store,
      runtime: site.runtime,
      clock,
      pools: site.pools,
      executors: o.executors,
      labelKey,
      id: o.identity,
      log: (line) => log.error({}, line),
      ...(site.claims ? { claims: site.claims } : {}),
      ...(site.runEnded ? { runEnded: site.runEnded } : {}),
    });
  } catch (err) {
    await site.close().catch(() => {});
    throw err;
  }
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
        const pools = await site.changedPools();
        if (pools) {
          await controller.setPools(pools);
          log.info({ pools: controller.usage() }, 'nodes changed: pools re-read');
        }
        if (site.storeChanged?.() ?? true) {
          await site.beforeSync?.(clock.now());
          await controller.sync();
        }
        await controller.tick();
      } catch (err) {
        log.error({ error: messageOf(err) }, 'tick failed');
      }
    }
  })();
  return { controller, stop, loop, site };
}

async function stopLeading(l: Leading | undefined): Promise<void> {
  if (!l) return;
  l.stop.abort();
  await l.loop;
  await l.controller.abandon();
  await l.site.close().catch(() => {});
}

/** Longest pause before campaigning again after failing to start leading. */
const MAX_RETRY_MS = 60_000;

/**
 * Runs until `signal` aborts; acts only while leading. A leader that cannot start (the store or
 * the API server did not answer) steps down, handing the lease back, and campaigns again after
 * a pause that doubles up to a minute: the process lives on for the next chance.
 */
export async function runControllerDaemon(o: ControllerDaemonOptions): Promise<void> {
  try {
    for (let failures = 0; ; failures++) {
      if ((await campaign(o)) === 'stopped') return;
      const pause = Math.min(MAX_RETRY_MS, (o.lease.retryMs ?? 1_000) * 2 ** failures);
      try {
        await o.clock.sleep(pause, o.signal);
      } catch {
        return;
      }
    }
  } finally {
    o.log.info({}, 'stopped');
  }
}

/** One candidacy: until the signal aborts ('stopped') or starting to lead failed ('failed'). */
async function campaign(o: ControllerDaemonOptions): Promise<'stopped' | 'failed'> {
  let leading: Leading | undefined;
  const election = elect(
    {
      store: o.lease.store,
      name: o.lease.name,
      identity: o.identity,
      clock: o.clock,
      durationMs: o.lease.durationMs ?? 10_000,
      retryMs: o.lease.retryMs ?? 1_000,
    },
    o.signal,
  );
  try {
    for await (const l of election) {
      o.log.info({ leadership: l }, 'leadership changed');
      if (l.role === 'leader' && !leading) {
        try {
          leading = await lead(o);
        } catch (err) {
          o.log.error({ error: messageOf(err) }, 'cannot start the controller; stepping down');
          return 'failed';
        }
      } else if (l.role !== 'leader' && leading) {
        await stopLeading(leading);
        leading = undefined;
      }
    }
    return 'stopped';
  } finally {
    await stopLeading(leading);
  }
}
