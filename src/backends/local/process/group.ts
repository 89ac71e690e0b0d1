import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** A command to run as its own process group, its output appended to a log file. */
export interface GroupSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly logFile: string;
  /** Adds an IPC channel (the child's `process.send`), e.g. for a daemon to say it is ready. */
  readonly ipc?: boolean;
}

/**
 * Spawns `spec` as the leader of a new process group (so that stopping it reaches what it
 * starts, and it outlives this process), stdout and stderr appended to its log file. The log
 * is opened here and only the child keeps it open.
 */
export async function spawnGroup(spec: GroupSpec): Promise<ChildProcess> {
  const log = await open(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      env: spec.env,
      detached: true,
      stdio: spec.ipc ? ['ignore', log.fd, log.fd, 'ipc'] : ['ignore', log.fd, log.fd],
    });
  } catch (err) {
    await log.close();
    throw err;
  }
  // Not awaited: the caller must attach its exit listener before anything else runs, or a
  // command that fails fast exits unobserved. The child has its own copy of the descriptor.
  void log.close();
  return child;
}

/**
 * True while a process exists and is not a zombie (EPERM: it exists but is not ours). A killed
 * daemon whose parent has not reaped it yet still answers signal 0; on Linux its state in
 * /proc says it is dead.
 */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // `pid (comm) S ...`: comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false; // no /proc (not Linux), or it just went: signal 0 answered for it
  }
}

/** Signals a whole process group, ignoring groups that are already gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Resolves when a child this process started has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** A clock's sleep: resolves after `ms`, rejects when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Stops process groups: SIGTERM, then SIGKILL to whatever is left after `graceMs`. Children are
 * awaited by their exit event; other pids (not our children) by polling their liveness. The
 * grace timer is cancelled when all are gone, so nothing lingers for the rest of it.
 */
export async function stopGroups(
  children: readonly ChildProcess[],
  others: readonly number[],
  graceMs: number,
  sleep: Sleep,
): Promise<void> {
  // A child without a pid never started (ENOENT): it emits no exit to wait for.
  const live = children.filter(
    (c) => c.pid !== undefined && c.exitCode === null && c.signalCode === null,
  );
  const pids = [...live.map((c) => c.pid), ...others];
  if (!pids.length) return;
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  const gone = async (): Promise<void> => {
    await Promise.all(live.map(exited));
    while (others.some(isAlive)) await sleep(50);
  };
  const grace = new AbortController();
  await Promise.race([gone(), sleep(graceMs, grace.signal).catch(() => undefined)]);
  grace.abort();
  for (const pid of pids) signalGroup(pid, 'SIGKILL');
  await Promise.all(live.map(exited));
}
