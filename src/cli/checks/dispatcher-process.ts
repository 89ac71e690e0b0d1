/**
 * One dispatcher replica as a long-running process: the node-agent API over HTTPS, leadership
 * through a lease (or alone, always leading), config sources fed to the handler, JSON log lines
 * for what an operator follows (role changes, expiries, moves, config errors), and a graceful
 * stop: the handler steps down, the lease is released so a peer takes over at once, the server
 * closes.
 */
import type { Logger } from 'pino';
import { checkIds, type CheckConfigChange } from '../../checks/config/index.js';
import type { DispatchObserver } from '../../checks/dispatch/dispatcher.js';
import type { Strategy } from '../../checks/dispatch/placement.js';
import { ChecksHandler } from '../../checks/handler.js';
import { dispatcherMetrics } from '../../checks/metrics.js';
import { startDispatcherServer } from '../../checks/server.js';
import type { Clock } from '../../core/clock.js';
import { elect, type Leadership, type LeaseStore } from '../../core/lease.js';
import { SourceUnion } from './sources.js';

export interface DispatcherTimes {
  readonly nodeExpirationMs: number;
  readonly warmupMs: number;
  readonly unscheduledThresholdMs: number;
  readonly rebalancePeriodMs: number;
}

export interface DispatcherProcessOptions {
  readonly host: string;
  readonly port: number;
  /** host:port peers forward to; default the address listened on. */
  readonly advertise?: string;
  readonly identity: string;
  readonly token: string;
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** Verifies the leader when forwarding. */
  readonly caPem?: string;
  /**
   * The name the leader's certificate is checked against when forwarding; by default its
   * address. Replicas share one certificate for a Service name, and reach each other by pod IP.
   */
  readonly peerName?: string;
  readonly times: DispatcherTimes;
  readonly strategy: Strategy;
  readonly minImprovementPercent: number;
  /** Absent: a single replica that always leads (the original without leader election). */
  readonly lease?: {
    readonly store: LeaseStore;
    readonly name: string;
    readonly durationMs: number;
    readonly retryMs: number;
  };
  readonly sources: readonly ((signal: AbortSignal) => AsyncIterable<CheckConfigChange>)[];
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Told once the server listens (its URL). */
  readonly onListening?: (url: string) => void;
}

/** Leading alone until the signal aborts. */
async function* alone(signal: AbortSignal): AsyncIterable<Leadership> {
  yield { role: 'leader', term: 0 };
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function logObserver(log: Logger): DispatchObserver {
  return {
    nodeRegistered: (node) => log.info({ event: 'node-registered', node }, 'node registered'),
    nodeExpired: (node, configs) =>
      log.warn({ event: 'node-expired', node, configs }, 'node expired; its configs dangle'),
    moved: (moves, reason) => {
      for (const m of moves) {
        log.info(
          { event: 'moved', reason, digest: m.digest, check: m.name, from: m.from, to: m.to },
          'config moved',
        );
      }
    },
    unscheduled: (c) =>
      log.warn(
        { event: 'unscheduled', check: c.name, digest: c.digest, source: c.source },
        'config dangling past the threshold',
      ),
  };
}

function both(a: DispatchObserver, b: DispatchObserver): DispatchObserver {
  return {
    nodeRegistered: (n) => (a.nodeRegistered?.(n), b.nodeRegistered?.(n)),
    nodeExpired: (n, c) => (a.nodeExpired?.(n, c), b.nodeExpired?.(n, c)),
    moved: (m, r) => (a.moved?.(m, r), b.moved?.(m, r)),
    unscheduled: (c) => (a.unscheduled?.(c), b.unscheduled?.(c)),
  };
}

/** Runs the replica until the signal aborts, then stops it cleanly. */
export async function runDispatcherProcess(o: DispatcherProcessOptions): Promise<void> {
  const { clock, logger: log, times } = o;
  const ref: { handler?: ChecksHandler } = {};
  const metrics = dispatcherMetrics(() => ref.handler);
  const handler = new ChecksHandler({
    clock,
    warmupMs: times.warmupMs,
    dispatcher: {
      strategy: o.strategy,
      nodeExpirationMs: times.nodeExpirationMs,
      unscheduledThresholdMs: times.unscheduledThresholdMs,
      rebalancePeriodMs: times.rebalancePeriodMs,
      minImprovementPercent: o.minImprovementPercent,
      checkIds,
      random: o.random,
      observer: both(metrics.observer, logObserver(log)),
    },
    // A follower is logged with its leader below, where the lease says who that is.
    onRole: (role, term) => {
      if (role === 'leader') log.info({ event: 'role', role, term }, 'now leader, warming up');
      if (role === 'unknown') log.info({ event: 'role', role, term }, 'stepped down');
    },
  });
  ref.handler = handler;
  const server = await startDispatcherServer({
    handler,
    clock,
    token: o.token,
    registry: metrics.registry,
    nodeExpirationMs: times.nodeExpirationMs,
    identity: o.identity,
    tls: o.tls,
    forward: {
      ...(o.caPem ? { caPem: o.caPem } : {}),
      ...(o.peerName ? { servername: o.peerName } : {}),
      timeoutMs: 10_000,
      maxConnections: 32,
    },
    host: o.host,
    port: o.port,
  });
  const advertise = o.advertise ?? new URL(server.url).host;
  log.info({ event: 'listening', url: server.url, advertise }, 'listening');
  o.onListening?.(server.url);

  const union = new SourceUnion();
  const pumps = o.sources.map(async (source, index) => {
    try {
      for await (const change of source(o.signal)) {
        for (const e of change.errors)
          log.error({ event: 'config-error', code: e.code }, e.message);
        const { added, removed } = union.apply(index, change);
        if (added.length || removed.length) {
          log.info(
            {
              event: 'configs',
              added: added.map((c) => c.name),
              removed: removed.map((c) => c.name),
            },
            'configs changed',
          );
        }
        handler.applyConfigs(added, removed);
      }
    } catch (err) {
      log.error({ event: 'config-error', err: (err as Error).message }, 'a config source stopped');
    }
  });

  const leadership = o.lease
    ? elect(
        {
          store: o.lease.store,
          name: o.lease.name,
          identity: o.identity,
          address: advertise,
          clock,
          durationMs: o.lease.durationMs,
          retryMs: o.lease.retryMs,
        },
        o.signal,
      )
    : alone(o.signal);
  const follow = handler.follow(
    (async function* logged() {
      for await (const l of leadership) {
        if (l.role === 'unknown') log.warn({ event: 'lease-error', err: l.error }, 'lease');
        if (l.role === 'follower') {
          const { holder, address, term } = l;
          log.info({ event: 'role', role: 'follower', term, holder, address }, 'now follower');
        }
        yield l;
      }
    })(),
  );
  await follow; // ends once the signal aborts: stepped down, lease released
  await Promise.all(pumps);
  await server.close();
  log.info({ event: 'stopped' }, 'stopped');
}
