/**
 * Sessions on the local backend, for the CLI: the sessions client over the SQLite store the
 * controller works from, and a controller that runs (started detached on first use, restarted
 * within a budget when found dead).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import type { DurableStore } from '../../../core/store.js';
import { PACKAGE_ROOT } from '../../../core/version.js';
import {
  claimStoreOver,
  defaultPoolLabel,
  poolsFromNodes,
  SessionsClient,
  sessionStoreOver,
} from '../../../sessions/index.js';
import type { ControllerStart, SessionsBackend } from '../../sessions.js';
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

/** The local sessions of a fathom home, with the controller that acts on them. */
export class LocalSessions extends SessionsClient implements SessionsBackend {
  readonly #o: LocalSessionsOptions;
  readonly #raw: DurableStore;

  constructor(o: LocalSessionsOptions) {
    const raw = openLocalStore(o.home);
    super({
      store: sessionStoreOver(raw),
      runtime: createLocalWorkloadRuntime({ home: o.home, clock: o.clock, nodes: [] }),
      pools: async () =>
        poolsFromNodes((await readCluster(o.home))?.nodes ?? [], o.labelKey ?? defaultPoolLabel),
      clock: o.clock,
      ...(o.labelKey ? { labelKey: o.labelKey } : {}),
      claims: claimStoreOver(raw),
    });
    this.#o = o;
    this.#raw = raw;
  }

  close(): Promise<void> {
    return this.#raw.close();
  }

  /** Every row of the local store was checked on the way in. */
  problems(): Promise<readonly string[]> {
    return Promise.resolve([]);
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
}
