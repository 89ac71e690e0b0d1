/**
 * What the CLI does with sessions on the local backend, in its own process: read and write the
 * SQLite store the controller works from, and make sure a controller runs (started detached on
 * first use, restarted within a budget when found dead). Submit refuses what can never run at
 * once; the controller's `sync` picks up what is stored Queued.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import type { DurableStore } from '../../../core/store.js';
import { PACKAGE_ROOT } from '../../../core/version.js';
import type {
  ComponentLog,
  PoolUsage,
  Session,
  SessionEvent,
  SessionStore,
  StoredSession,
} from '../../../sessions/index.js';
import {
  claimHolder,
  claimRunOf,
  claimStoreOver,
  defaultPoolLabel,
  isFinal,
  nextStatus,
  poolsFromNodes,
  Reservations,
  sessionStoreOver,
  storeQueued,
} from '../../../sessions/index.js';
import { readCluster } from '../cluster-store.js';
import { openLocalStore } from '../durable-store.js';
import type { DaemonSpec } from '../process/daemon.js';
import {
  daemonAlive,
  daemonFiles,
  daemonPid,
  restartDaemon,
  spawnDaemon,
} from '../process/daemon.js';
import { createLocalWorkloadRuntime } from '../workloads/index.js';

/** Restarts of a dead controller before the CLI gives up and says so. */
export const CONTROLLER_RESTARTS = 20;

export interface LocalSessionsOptions {
  readonly home: string;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly labelKey?: string;
  /** Passed to a controller this process starts. */
  readonly executors?: number;
}

export function controllerSpec(o: LocalSessionsOptions): DaemonSpec {
  const dir = join(o.home, 'sessions');
  return {
    name: 'session-controller',
    argv: [
      process.execPath,
      join(PACKAGE_ROOT, 'bin', 'fathom.js'),
      'session-controller',
      '--executors',
      String(o.executors ?? 2),
      '--pool-label',
      o.labelKey ?? defaultPoolLabel,
    ],
    files: daemonFiles(dir, 'controller'),
    env: { ...o.env, FATHOM_HOME: o.home },
  };
}

export type ControllerStart = 'running' | 'started' | 'restarted';

export class LocalSessions {
  readonly #o: LocalSessionsOptions;
  readonly #raw: DurableStore;
  readonly store: SessionStore;

  constructor(o: LocalSessionsOptions) {
    this.#o = o;
    this.#raw = openLocalStore(o.home);
    this.store = sessionStoreOver(this.#raw);
  }

  close(): Promise<void> {
    return this.#raw.close();
  }

  /** Starts the controller when none ran yet, restarts it when it died. */
  async ensureController(): Promise<ControllerStart> {
    const spec = controllerSpec(this.#o);
    if (await daemonAlive(spec)) return 'running';
    if ((await daemonPid(spec)) === undefined) {
      await mkdir(join(this.#o.home, 'sessions'), { recursive: true });
      await spawnDaemon(spec);
      return 'started';
    }
    if (!(await restartDaemon(spec, this.#o.clock, { limit: CONTROLLER_RESTARTS }))) {
      throw new FathomError(
        'FATHOM_INTERNAL',
        `the session controller died ${CONTROLLER_RESTARTS} times; see ${spec.files.log}`,
      );
    }
    return 'restarted';
  }

  async #pools() {
    const nodes = (await readCluster(this.#o.home))?.nodes ?? [];
    return poolsFromNodes(nodes, this.#o.labelKey ?? defaultPoolLabel);
  }

  /** Stores the session Queued; FATHOM_SESSION_REFUSED / _EXISTS as the controller would. */
  async submit(session: Session): Promise<Session> {
    const labelKey = this.#o.labelKey ?? defaultPoolLabel;
    const counts = new Reservations(await this.#pools(), labelKey);
    return storeQueued(this.store, session, counts, labelKey, this.#o.clock.now());
  }

  async get(name: string): Promise<StoredSession> {
    const s = await this.store.get(name);
    if (!s) throw new FathomError('FATHOM_SESSION_NOT_FOUND', `no session ${name}`);
    return s;
  }

  async list(): Promise<readonly StoredSession[]> {
    return [...(await this.store.list())].sort((a, b) => a.submittedAt - b.submittedAt);
  }

  async events(name: string): Promise<readonly SessionEvent[]> {
    await this.get(name);
    return this.store.events(name);
  }

  async logs(name: string): Promise<readonly ComponentLog[]> {
    await this.get(name);
    return this.store.logs(name);
  }

  /**
   * Ends the session in the store (Cancelled, event `errored`); the controller's next sync
   * drops it from its queue or stops its executor, which removes its workloads and frees its
   * nodes. A final session stays as it is.
   */
  async cancel(name: string): Promise<Session> {
    const now = this.#o.clock.now();
    const message = 'cancelled by the user';
    let changed = false;
    const after = await this.store.update(name, (s) => {
      changed = !(s.status && isFinal(s.status.state));
      return changed
        ? { ...s, status: nextStatus(s.status, 'Cancelled', 'Cancelled', message, now) }
        : undefined;
    });
    if (!after) throw new FathomError('FATHOM_SESSION_NOT_FOUND', `no session ${name}`);
    if (changed) {
      await this.store.addEvent({
        session: name,
        kind: 'errored',
        time: now,
        reason: 'Cancelled',
        message,
      });
    }
    return after;
  }

  /** True once the session holds no nodes and none of its workloads is left. */
  async released(name: string): Promise<boolean> {
    if ((await this.store.holdings()).has(name)) return false;
    return (await this.workloads(name)).list.length === 0;
  }

  /**
   * Per pool: capacity, reserved, available, and which sessions (and runs, `run/<name>`) hold
   * its nodes. A run's holding is shown while its claim exists (the controller removes the
   * holding at its next look).
   */
  async pools(): Promise<PoolUsage[]> {
    const r = new Reservations(await this.#pools(), this.#o.labelKey ?? defaultPoolLabel);
    const claims = new Set((await claimStoreOver(this.#raw).list()).map((c) => c.run));
    for (const [key, nodes] of await this.store.holdings()) {
      const run = claimRunOf(key);
      if (run !== undefined && !claims.has(run)) continue;
      r.adopt(run === undefined ? key : claimHolder(run), Object.values(nodes).flat());
    }
    return r.usage();
  }

  /** Workloads of the session now (a running session's components). */
  async workloads(name: string) {
    const runtime = createLocalWorkloadRuntime({
      home: this.#o.home,
      clock: this.#o.clock,
      nodes: [],
    });
    return { runtime, list: await runtime.list(name) };
  }
}
