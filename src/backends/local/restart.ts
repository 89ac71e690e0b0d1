import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { PACKAGE_ROOT } from '../../core/version.js';
import { restartDaemon, spawnDaemon, type DaemonSpec } from './process/daemon.js';
import { files } from './store.js';

/**
 * An aggregator that keeps dying (a bug, a full disk) is restarted this often on its own; after
 * that the run is reported failed, and `fathom resume` tries again on purpose.
 */
export const MAX_AUTOMATIC_RESTARTS = 5;

/** The run's aggregator as a detached daemon (file names kept from before the scaffold). */
export function aggregatorDaemon(dir: string): DaemonSpec {
  return {
    name: 'aggregator',
    argv: [process.execPath, join(PACKAGE_ROOT, 'bin', 'fathom.js'), '__aggregate', dir],
    files: {
      pid: join(dir, files.daemonPid),
      log: join(dir, 'aggregator.stderr'),
      restarts: join(dir, files.restarts),
      lock: join(dir, files.restartLock),
    },
  };
}

/** Starts the run's aggregator as a detached process that outlives this one. */
export async function spawnAggregator(dir: string): Promise<void> {
  await spawnDaemon(aggregatorDaemon(dir));
}

/**
 * Restarts a dead aggregator, which resumes from its journal. Returns false when the restart
 * budget (`limit`) is spent.
 */
export function restartAggregator(
  dir: string,
  clock: Clock,
  options: { limit: number },
): Promise<boolean> {
  return restartDaemon(aggregatorDaemon(dir), clock, options);
}
