import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One container of a local pod: a process group with its output in a log file. */
export interface ContainerSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export type ContainerState =
  | { readonly state: 'waiting' }
  | { readonly state: 'running'; readonly pid: number }
  | {
      readonly state: 'terminated';
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly reason: string;
      readonly message: string;
    };

export type PodEvent = { readonly container: string; readonly state: ContainerState };

/**
 * A local stand-in for a pod: containers are process groups in their own directory, their
 * states are mirrored to `status.json` (what the worker reads instead of the pod's API object)
 * and every pid is recorded so that `fathom delete` can stop them even if the aggregator died.
 */
export class LocalPod {
  readonly states = new Map<string, ContainerState>();
  readonly #children = new Map<string, ChildProcess>();
  /** Containers started by an aggregator before a restart: known by pid only. */
  readonly #adopted = new Map<string, number>();
  readonly #listeners = new Set<(e: PodEvent) => void>();
  #writing: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly node: string,
    readonly dir: string,
    readonly pidDir: string,
  ) {}

  get statusFile(): string {
    return join(this.dir, 'status.json');
  }

  onEvent(listener: (e: PodEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Declares a container that is yet to start, so the worker does not take it for finished. */
  waiting(container: string): void {
    this.#set(container, { state: 'waiting' });
  }

  /** Starts a container; a failure to start becomes a terminated state, never a throw. */
  async start(spec: ContainerSpec): Promise<void> {
    await mkdir(this.pidDir, { recursive: true });
    const log = createWriteStream(join(this.dir, `${spec.name}.log`), { flags: 'a' });
    await new Promise((r) => log.once('open', r));
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true, // its own process group, so stop() reaches its children too
      stdio: ['ignore', log, log],
    });
    this.#children.set(spec.name, child);
    child.once('close', () => log.close());
    child.once('error', (err: NodeJS.ErrnoException) => {
      this.#set(spec.name, {
        state: 'terminated',
        exitCode: 128,
        signal: null,
        reason: 'StartError',
        message: `${spec.command}: ${err.code === 'ENOENT' ? 'no such file or command' : err.message}`,
      });
    });
    // Listen before any await: a command that fails fast must not exit unobserved.
    child.once('exit', (code, signal) => {
      void this.#lastLine(spec.name).then((message) =>
        this.#set(spec.name, {
          state: 'terminated',
          exitCode: code,
          signal,
          reason: signal ? 'Killed' : code === 0 ? 'Completed' : 'Error',
          message: signal ? `killed by ${signal}` : message,
        }),
      );
    });
    if (child.pid === undefined) return;
    this.#set(spec.name, { state: 'running', pid: child.pid });
    await writeFile(join(this.pidDir, String(child.pid)), `${this.name}/${spec.name}\n`);
  }

  /**
   * Takes over a container that an earlier aggregator started (this process is not its parent,
   * so it cannot wait for it): its liveness is polled on `sleep`, and when it is gone its exit
   * code is unknown.
   */
  adopt(container: string, pid: number, sleep: (ms: number) => Promise<void>, everyMs = 250): void {
    this.#adopted.set(container, pid);
    this.#set(container, { state: 'running', pid });
    void (async () => {
      while (isAlive(pid)) await sleep(everyMs);
      this.#adopted.delete(container);
      this.#set(container, {
        state: 'terminated',
        exitCode: null,
        signal: null,
        reason: 'Unknown',
        message: 'ended while the aggregator was restarting; its exit code is unknown',
      });
    })().catch(() => undefined); // the run ended first
  }

  /** Stops every container's process group: SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    const live = [...this.#children.values()].filter(
      (c) => c.exitCode === null && c.signalCode === null,
    );
    const adopted = [...this.#adopted.values()];
    for (const pid of [...live.map((c) => c.pid), ...adopted]) signalGroup(pid, 'SIGTERM');
    const gone = async (): Promise<void> => {
      await Promise.all(live.map(exited));
      while (adopted.some(isAlive)) await sleep(50);
    };
    if (live.length || adopted.length) await Promise.race([gone(), sleep(graceMs)]);
    for (const pid of [...live.map((c) => c.pid), ...adopted]) signalGroup(pid, 'SIGKILL');
    await Promise.all(live.map(exited));
    await this.#writing;
  }

  #set(container: string, state: ContainerState): void {
    this.states.set(container, state);
    const snapshot = {
      containers: [...this.states].map(([name, s]) => ({
        name,
        state: s.state,
        ...(s.state === 'terminated'
          ? { exitCode: s.exitCode ?? 128, reason: s.reason, message: s.message }
          : {}),
      })),
    };
    // Atomic replace, in order: the worker polls this file.
    this.#writing = this.#writing.then(async () => {
      const tmp = `${this.statusFile}.tmp`;
      await writeFile(tmp, JSON.stringify(snapshot));
      await rename(tmp, this.statusFile);
    });
    void this.#writing.then(() => {
      for (const l of this.#listeners) l({ container, state });
    });
  }

  async #lastLine(container: string): Promise<string> {
    const text = await readFile(join(this.dir, `${container}.log`), 'utf8').catch(() => '');
    const lines = text.trimEnd().split('\n');
    return (lines[lines.length - 1] ?? '').slice(0, 500);
  }
}

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => c.once('exit', () => r()));
}

/** True while a process exists (EPERM: it exists but is not ours). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a whole process group, ignoring groups that are already gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
