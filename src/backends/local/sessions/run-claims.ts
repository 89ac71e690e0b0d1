/**
 * A local run on a pool (`fathom run --pool NAME`): the run's claim is written to the store the
 * session controller works from, the run waits until the controller grants the pool's nodes,
 * and its plugins are placed on those nodes only. The claim is removed when the run ends (by
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
import { FathomError } from '../../../core/errors.js';
import type { ClusterNode } from '../../../core/nodes.js';
import type { PoolClaim } from '../../../sessions/index.js';
import { claimLimits, claimStoreOver, runPoolNodes } from '../../../sessions/index.js';
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
 * granted; returns the nodes granted. Refused (the pool shrank) is FATHOM_POOL_REFUSED; given
 * up (`signal`) removes the claim. The waiter file stays until `claimStarted`.
 */
export async function claimAndWait(o: ClaimWaitOptions): Promise<readonly string[]> {
  if (o.run.length > claimLimits.runName) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--namespace "${o.run}": a run on a pool needs a name of at most ${claimLimits.runName} characters`,
    );
  }
  await writePidFile(join(o.dir, claimWaiterFile), process.pid);
  const sessions = new LocalSessions({
    home: o.home,
    clock: o.clock,
    env: o.env,
    labelKey: o.pool.labelKey,
  });
  const raw = openLocalStore(o.home);
  const claims = claimStoreOver(raw);
  try {
    const claim: PoolClaim = {
      run: o.run,
      pool: o.pool.name,
      ...(o.pool.nodes !== undefined ? { nodes: o.pool.nodes } : {}),
      priority: o.pool.priority,
      submittedAt: o.clock.now(),
      state: 'Waiting',
    };
    // The run's directory was made exclusively: a claim under its name is a dead run's.
    if (!(await claims.create(claim))) {
      await claims.remove(o.run);
      await claims.create(claim);
    }
    let told = '';
    let polls = 0;
    for (;;) {
      await sessions.ensureController();
      const cur = await claims.get(o.run);
      if (cur?.state === 'Granted') return cur.granted ?? [];
      if (!cur || cur.state === 'Refused') {
        throw new FathomError(
          'FATHOM_POOL_REFUSED',
          `--pool ${o.pool.name}: ${cur?.message ?? 'the claim was removed while the run waited'}`,
        );
      }
      const holders = (await sessions.pools())
        .find((p) => p.name === o.pool.name)
        ?.holders.map((h) => (h.holder.startsWith('run/') ? h.holder : `session ${h.holder}`));
      const line = `Waiting for the nodes of pool "${o.pool.name}"${holders?.length ? `, held by ${holders.join(', ')}` : ''}.`;
      // Said once someone holds the pool, or once the controller has had a look; again on change.
      if (line !== told && (holders?.length || polls > 0)) {
        o.progress?.(line);
        told = line;
      }
      polls++;
      try {
        await o.clock.sleep(o.pollMs ?? 200, o.signal);
      } catch (err) {
        throw new FathomError('FATHOM_TIMEOUT', `gave up waiting for pool "${o.pool.name}"`, {
          cause: err,
        });
      }
    }
  } catch (err) {
    await claims.remove(o.run).catch(() => {});
    throw err;
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
