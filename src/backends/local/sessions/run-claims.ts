/**
 * A local run on a pool (`fathom run --pool NAME`): the run's claim is written to the store the
 * session controller works from, the run waits until the controller grants the pool's nodes
 * (the wait itself is sessions/claim-wait.ts, shared with Kubernetes), and its plugins are placed on those nodes only. The claim is removed when the run ends (by
 * its aggregator when it completes, by `fathom delete`), and the controller's probe
 * (`localRunEnded`) frees the nodes of a run that ended any other way.
 *
 * While the run waits, its directory holds `pool-claim.pid`, the waiting process: a run whose
 * waiter is alive has not ended though it has no run.json yet.
 */
import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PoolRequest } from '../../backend.js';
import type { Clock } from '../../../core/clock.js';
import type { ClusterNode } from '../../../core/nodes.js';
import {
  checkClaimRunName,
  claimStoreOver,
  runPoolNodes,
  waitForClaim,
} from '../../../sessions/index.js';
import { openLocalStore, stateDbOf } from '../durable-store.js';
import { isAlive } from '../process/group.js';
import { readPidFile, writePidFile } from '../process/pidfile.js';
import { files, readRunStatus } from '../store.js';
import { LocalSessions } from './client.js';

export const claimWaiterFile = files.claimWaiter;

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The backend's probe for the controller: has the run that claims nodes ended? */
export async function localRunEnded(home: string, run: string): Promise<boolean> {
  const dir = join(home, 'runs', run);
  if (!(await exists(dir))) return true; // deleted
  if (isAlive(await readPidFile(join(dir, claimWaiterFile)))) return false; // waiting, starting
  if (!(await exists(join(dir, files.record)))) return true; // its waiter gave up or died
  const { status, aggregatorAlive } = await readRunStatus(dir);
  return status.status === 'complete' || !aggregatorAlive;
}

/** The pool's nodes, or FATHOM_POOL_REFUSED when the pool cannot give what is asked. */
export const poolNodes = (nodes: readonly ClusterNode[], pool: PoolRequest): readonly string[] =>
  runPoolNodes(nodes, pool);

export interface ClaimWaitOptions {
  readonly home: string;
  readonly run: string;
  /** The run's directory, made (exclusively) by the caller. */
  readonly dir: string;
  readonly pool: PoolRequest;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  /** One line when the run starts waiting and whenever who holds the pool changes. */
  readonly progress?: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/**
 * Writes the run's claim, makes sure a session controller runs, and waits until the claim is
 * granted (sessions/claim-wait.ts); returns the nodes granted. The waiter file, written first,
 * stays until `claimStarted`.
 */
export async function claimAndWait(o: ClaimWaitOptions): Promise<readonly string[]> {
  checkClaimRunName(o.run);
  await writePidFile(join(o.dir, claimWaiterFile), process.pid);
  const sessions = new LocalSessions({
    home: o.home,
    clock: o.clock,
    env: o.env,
    labelKey: o.pool.labelKey,
  });
  const raw = openLocalStore(o.home);
  try {
    return await waitForClaim(
      {
        claims: claimStoreOver(raw),
        pools: () => sessions.pools(),
        ensureController: () => sessions.ensureController(),
      },
      {
        run: o.run,
        pool: o.pool,
        clock: o.clock,
        ...(o.progress ? { progress: o.progress } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
      },
    );
  } finally {
    await raw.close();
    await sessions.close();
  }
}

/** The run's aggregator runs: from now on its state says whether the run ended. */
export async function claimStarted(dir: string): Promise<void> {
  await rm(join(dir, claimWaiterFile), { force: true });
}

/**
 * Removes the claim of the run in `runDir` (under `<home>/runs/`), if the store exists: the
 * controller frees its nodes at its next look. For the aggregator at completion and delete.
 */
export async function releaseClaim(runDir: string): Promise<void> {
  const home = dirname(dirname(runDir));
  if (!(await exists(stateDbOf(home)))) return;
  const raw = openLocalStore(home);
  try {
    const run = runDir.slice(dirname(runDir).length + 1);
    await claimStoreOver(raw).remove(run);
  } finally {
    await raw.close();
  }
}
