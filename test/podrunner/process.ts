/**
 * One container run as a local process: its own process group (so stopping it reaches its
 * children too, as a container runtime would), stdout and stderr appended to a log file.
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import type { Clock } from '../../src/core/clock.js';

export interface ProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly logPath: string;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ContainerProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM to the group, SIGKILL after `graceMs` on `clock`; resolves once it has exited. */
  stop(graceMs: number, clock: Clock): Promise<ProcessExit>;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

class LocalProcess implements ContainerProcess {
  #stopping: Promise<ProcessExit> | undefined;

  constructor(
    readonly pid: number,
    readonly exited: Promise<ProcessExit>,
  ) {}

  stop(graceMs: number, clock: Clock): Promise<ProcessExit> {
    return (this.#stopping ??= (async () => {
      if (graceMs <= 0) {
        signalGroup(this.pid, 'SIGKILL');
        return this.exited;
      }
      const gone = new AbortController();
      void this.exited.then(() => gone.abort());
      signalGroup(this.pid, 'SIGTERM');
      const killed = clock.sleep(graceMs, gone.signal).then(
        () => signalGroup(this.pid, 'SIGKILL'),
        () => undefined, // it exited within the grace period
      );
      const exit = await this.exited;
      await killed;
      return exit;
    })());
  }
}

/**
 * Starts `spec` detached in a new process group. Resolves once the process runs; a process
 * that cannot be started resolves to `{ error }` (the runtime's StartError).
 */
export async function startProcess(
  spec: ProcessSpec,
): Promise<ContainerProcess | { error: string }> {
  const log = await open(spec.logPath, 'a');
  try {
    const child = spawn(spec.file, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    // Listen before any await: a process that ends at once must not go unseen.
    const exited = new Promise<ProcessExit>((resolve) =>
      child.once('exit', (code, signal) => {
        signalGroup(child.pid!, 'SIGKILL'); // leftovers die with the container, as in a pid namespace
        resolve({ code, signal });
      }),
    );
    const started = await new Promise<{ error: string } | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve({ error: `${spec.file}: ${err.message}` }));
    });
    if (started) return started;
    return new LocalProcess(child.pid!, exited);
  } finally {
    await log.close(); // the child holds its own copy of the descriptor
  }
}

/** The last `maxLines` lines (at most `maxBytes`) of a log, for a termination message. */
export async function logTail(path: string, maxLines = 80, maxBytes = 2048): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.trimEnd().split('\n').slice(-maxLines).join('\n');
  return lines.length > maxBytes ? lines.slice(-maxBytes) : lines;
}
