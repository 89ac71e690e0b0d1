/**
 * Child processes of the test control plane. Each runs in its own process group with its
 * output in a log file (never a pipe, so a `cluster:up` that exits leaves them running), and
 * is stopped by process id: SIGTERM to the group, then SIGKILL after a grace period.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../src/core/clock.js';

export type Component =
  'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';

/** What `cluster:down` needs to find and stop a component again. */
export interface ProcessRecord {
  readonly component: Component;
  readonly pid: number;
  readonly binary: string;
  readonly log: string;
}

/** A component this process started. */
export interface StartedProcess extends ProcessRecord {
  /** The arguments and environment it was started with (a restart uses them again). */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (and was reaped). */
  readonly exited: Promise<void>;
}

export interface SpawnOptions {
  log: string;
  env?: NodeJS.ProcessEnv;
  /** Append to the log instead of truncating it (a restart keeps the earlier run's lines). */
  append?: boolean;
}

/** Starts `binary` in a new process group, its stdout and stderr going to `log` (truncated unless `append`). */
export async function startProcess(
  component: Component,
  binary: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<StartedProcess> {
  const fd = openSync(options.log, options.append ? 'a' : 'w'); // one start, one log
  let child: ChildProcess;
  try {
    child = spawn(binary, args, {
      detached: true, // own process group: stop() signals exactly this group
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
    });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
  const exited = new Promise<void>((resolve) => {
    if (hasExited(child)) resolve();
    else child.once('exit', () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(new Error(`${component}: cannot start ${binary}: ${err.message}`)),
    );
  });
  return {
    component,
    pid: child.pid!,
    binary,
    log: options.log,
    args: [...args],
    ...(options.env ? { env: options.env } : {}),
    child,
    exited,
  };
}

async function procStat(pid: number): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie (a zombie has exited; someone else reaps it). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await procStat(pid);
  // Field 3, after the parenthesised command name, is the state.
  return stat === undefined || stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** True when `pid` still runs `binary` (guards `cluster:down` against reused pids). */
export async function runsBinary(pid: number, binary: string): Promise<boolean> {
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  return cmdline.split('\0')[0] === binary;
}

/** Resident memory in KiB (VmRSS), or undefined when the process is gone. */
export async function rssKib(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function gone(
  proc: ProcessRecord | StartedProcess,
  clock: Clock,
  limitMs: number,
): Promise<boolean> {
  const deadline = clock.now() + limitMs;
  if ('exited' in proc) {
    // Our own child: its exit event is the signal, the clock only bounds the wait.
    const timeout = new AbortController();
    const won = await Promise.race([
      proc.exited.then(() => true),
      clock.sleep(limitMs, timeout.signal).then(
        () => false,
        () => true,
      ),
    ]);
    timeout.abort();
    return won;
  }
  while (await isAlive(proc.pid)) {
    if (clock.now() >= deadline) return false;
    await clock.sleep(100);
  }
  return true;
}

/**
 * Stops the processes in reverse start order: SIGTERM to each process group, SIGKILL when it
 * has not exited after `graceMs`. Resolves once every one has exited.
 */
export async function stopProcesses(
  procs: readonly (ProcessRecord | StartedProcess)[],
  clock: Clock,
  graceMs = 10_000,
): Promise<void> {
  for (const proc of [...procs].reverse()) {
    if ('child' in proc ? hasExited(proc.child) : !(await isAlive(proc.pid))) continue;
    signalGroup(proc.pid, 'SIGTERM');
    if (await gone(proc, clock, graceMs)) continue;
    signalGroup(proc.pid, 'SIGKILL');
    if (!(await gone(proc, clock, graceMs)))
      throw new Error(`${proc.component} (pid ${proc.pid}) survived SIGKILL`);
  }
}

export interface RestartOptions {
  /** How long SIGTERM has before SIGKILL; 10 s by default. */
  readonly graceMs?: number;
  /** Runs once the old process has exited, before the new one starts (an outage to act in). */
  readonly whileDown?: () => Promise<void>;
}

/**
 * Stops `proc` (SIGTERM, SIGKILL after the grace period) and starts the same binary again with
 * the same arguments and environment, appending to its log. Returns the new process.
 */
export async function restartProcess(
  proc: StartedProcess,
  clock: Clock,
  options: RestartOptions = {},
): Promise<StartedProcess> {
  await stopProcesses([proc], clock, options.graceMs ?? 10_000);
  await options.whileDown?.();
  return startProcess(proc.component, proc.binary, proc.args, {
    log: proc.log,
    append: true,
    ...(proc.env ? { env: proc.env } : {}),
  });
}

/** The last `lines` lines of a log file, for error messages. */
export async function logTail(path: string, lines = 20): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
