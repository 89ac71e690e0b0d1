import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { PACKAGE_ROOT } from '../../core/version.js';
import { files, isAlive, writeJsonAtomic } from './store.js';

/**
 * An aggregator that keeps dying (a bug, a full disk) is restarted this often on its own; after
 * that the run is reported failed, and `fathom resume` tries again on purpose.
 */
export const MAX_AUTOMATIC_RESTARTS = 5;
/** A restart lock older than this was left by a process that died while restarting. */
const STALE_LOCK_MS = 30_000;

/** Starts the run's aggregator as a detached process that outlives this one. */
export async function spawnAggregator(dir: string): Promise<void> {
  const log = openSync(join(dir, 'aggregator.stderr'), 'a');
  try {
    const child = spawn(
      process.execPath,
      [join(PACKAGE_ROOT, 'bin', 'fathom.js'), '__aggregate', dir],
      {
        detached: true,
        stdio: ['ignore', log, log],
      },
    );
    await writeJsonAtomic(join(dir, files.daemonPid), child.pid ?? 0);
    child.unref();
  } finally {
    closeSync(log);
  }
}

async function restartsSoFar(dir: string): Promise<number> {
  return Number(await readFile(join(dir, files.restarts), 'utf8').catch(() => '0')) || 0;
}

/**
 * Restarts a dead aggregator, which resumes from its journal. Several `fathom status` in
 * different terminals may all notice the death: a lock directory lets one of them restart it.
 * Returns false when the restart budget (`limit`) is spent.
 */
export async function restartAggregator(
  dir: string,
  clock: Clock,
  options: { limit: number },
): Promise<boolean> {
  const restarts = await restartsSoFar(dir);
  if (restarts >= options.limit) return false;
  const lock = join(dir, files.restartLock);
  try {
    await mkdir(lock);
  } catch {
    const age = await stat(lock).then(
      (s) => clock.now() - s.mtimeMs,
      () => 0,
    );
    if (age < STALE_LOCK_MS) return true; // someone else is restarting it right now
    await rm(lock, { recursive: true, force: true });
    return restartAggregator(dir, clock, options);
  }
  try {
    const pid = Number(await readFile(join(dir, files.daemonPid), 'utf8').catch(() => ''));
    if (isAlive(pid || undefined)) return true; // restarted meanwhile by someone else
    await writeJsonAtomic(join(dir, files.restarts), restarts + 1);
    await spawnAggregator(dir);
    return true;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
