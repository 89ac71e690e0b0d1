import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import { isAlive, signalGroup, spawnGroup } from './group.js';
import { readPidFile, writeFileAtomic, writePidFile } from './pidfile.js';

/**
 * A detached local daemon: a process that outlives whoever started it and owns a directory
 * (the aggregator of a run, the node host of its workers; next the dispatcher and the session
 * controller). Generic over what it runs: `argv` is the command, `files` where its pid, log,
 * restart count and restart lock live.
 */
export interface DaemonSpec {
  readonly name: string;
  /** The command and its arguments; the first is the executable. */
  readonly argv: readonly [string, ...string[]];
  readonly files: DaemonFiles;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface DaemonFiles {
  readonly pid: string;
  /** stdout and stderr, appended. */
  readonly log: string;
  /** How often it was restarted: the budget `restartDaemon` spends. */
  readonly restarts: string;
  /** A directory held while one process restarts it. */
  readonly lock: string;
}

/** The conventional files of a daemon named `name` in `dir`: `<name>.pid`, `<name>.log`, ... */
export function daemonFiles(dir: string, name: string): DaemonFiles {
  return {
    pid: join(dir, `${name}.pid`),
    log: join(dir, `${name}.log`),
    restarts: join(dir, `${name}.restarts`),
    lock: join(dir, `${name}.restart.lock`),
  };
}

/** A restart lock older than this was left by a process that died while restarting. */
const STALE_LOCK_MS = 30_000;

/**
 * Starts the daemon in its own process group and records its pid (atomically: a reader in
 * another process never sees half a pid). The child is unref'd: this process may exit first.
 */
export async function spawnDaemon(spec: DaemonSpec): Promise<ChildProcess> {
  const child = await spawnGroup(groupOf(spec, false));
  await recorded(spec, child);
  return child;
}

/**
 * A daemon that says when it is ready by its first IPC message. `ready` listens from the moment
 * of the spawn: a message (or an exit) during the pid file's write would otherwise go unheard,
 * and whoever waited for it would wait forever.
 */
export async function spawnReadyDaemon(
  spec: DaemonSpec,
): Promise<{ child: ChildProcess; ready: Promise<unknown> }> {
  const child = await spawnGroup(groupOf(spec, true));
  const ready = new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code, signal) =>
      reject(
        new FathomError(
          'FATHOM_PROCESS_FAILED',
          `${spec.name} exited (${signal ?? `code ${code}`}) before it was ready; see ${spec.files.log}`,
        ),
      ),
    );
  });
  ready.catch(() => undefined); // the caller's to handle, maybe after its own awaits
  await recorded(spec, child);
  return { child, ready };
}

function groupOf(spec: DaemonSpec, ipc: boolean) {
  const [command, ...args] = spec.argv;
  return { command, args, env: spec.env ?? process.env, logFile: spec.files.log, ipc };
}

async function recorded(spec: DaemonSpec, child: ChildProcess): Promise<void> {
  await writePidFile(spec.files.pid, child.pid ?? 0);
  child.unref();
}

export function daemonPid(spec: DaemonSpec): Promise<number | undefined> {
  return readPidFile(spec.files.pid);
}

export async function daemonAlive(spec: DaemonSpec): Promise<boolean> {
  return isAlive(await daemonPid(spec));
}

/**
 * Restarts a dead daemon. Several processes may notice the death at once (`fathom status` in
 * different terminals): a lock directory lets one of them restart it. Returns false when the
 * restart budget (`limit`) is spent, true when it runs again (restarted here or elsewhere).
 */
export async function restartDaemon(
  spec: DaemonSpec,
  clock: Clock,
  options: { limit: number },
): Promise<boolean> {
  const restarts = Number(await readFile(spec.files.restarts, 'utf8').catch(() => '0')) || 0;
  if (restarts >= options.limit) return false;
  if (!(await takeRestartLock(spec, clock))) return true; // someone else is restarting it
  try {
    if (await daemonAlive(spec)) return true; // restarted meanwhile by someone else
    await writeFileAtomic(spec.files.restarts, String(restarts + 1));
    await spawnDaemon(spec);
    return true;
  } finally {
    await rm(spec.files.lock, { recursive: true, force: true });
  }
}

/**
 * Takes the restart lock: true once taken, false while another process holds a fresh one. A
 * stale lock (its holder died) is taken over. A directory that is gone (a deleted run) is an
 * error, never "someone else is restarting it".
 */
async function takeRestartLock(spec: DaemonSpec, clock: Clock): Promise<boolean> {
  for (;;) {
    try {
      await mkdir(spec.files.lock);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(spec.files.lock).then(
        (st) => clock.now() - st.mtimeMs,
        () => STALE_LOCK_MS, // gone meanwhile: try again
      );
      if (age < STALE_LOCK_MS) return false;
      await rm(spec.files.lock, { recursive: true, force: true });
    }
  }
}

/**
 * Takes the daemon's restart lock for good (its directory is about to be removed): once it is
 * held, whoever finds the daemon stopped leaves the restart to the holder, so nothing starts it
 * again while `fn` stops it and removes its files. A restart under way is waited for, a stale
 * lock taken over. Throws when the directory is gone.
 */
export async function withRestartsHeld<T>(
  spec: DaemonSpec,
  clock: Clock,
  fn: () => Promise<T>,
): Promise<T> {
  while (!(await takeRestartLock(spec, clock))) await clock.sleep(50);
  return fn();
}

/**
 * Stops the daemon: SIGTERM (it cleans up what it started), up to `graceMs` to go, then
 * SIGKILL to its whole process group.
 */
export async function stopDaemon(spec: DaemonSpec, clock: Clock, graceMs = 5000): Promise<void> {
  const pid = await daemonPid(spec);
  if (!isAlive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  const deadline = clock.now() + graceMs;
  while (isAlive(pid) && clock.now() < deadline) await clock.sleep(50);
  signalGroup(pid, 'SIGKILL');
}

/** For the daemon itself: what its own directory layout says about where its files are. */
export function announceSelf(spec: Pick<DaemonSpec, 'files'>): Promise<void> {
  return writePidFile(spec.files.pid, process.pid);
}
