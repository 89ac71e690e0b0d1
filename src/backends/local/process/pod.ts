import type { ChildProcess } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, spawnGroup, stopGroups, type Sleep } from './group.js';
import type { PidRegistry } from './pidfile.js';

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
 * A local stand-in for a pod: containers are process groups in their own directory (or, for
 * the worker, an instance in the node host, whose state is set from outside), their states are
 * mirrored to `status.json` (what the worker reads instead of the pod's API object) and every
 * pid is recorded so that `fathom delete` can stop them even if the aggregator died.
 */
export class LocalPod {
  readonly states = new Map<string, ContainerState>();
  readonly #children = new Map<string, ChildProcess>();
  /** Containers started by an aggregator before a restart: known by pid only. */
  readonly #adopted = new Map<string, number>();
  readonly #listeners = new Set<(e: PodEvent) => void>();
  #writing: Promise<void> | undefined;
  readonly #unwritten: PodEvent[] = [];
  readonly #exits = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    readonly node: string,
    readonly dir: string,
    readonly pids: PidRegistry,
  ) {}

  get statusFile(): string {
    return join(this.dir, 'status.json');
  }

  logFile(container: string): string {
    return join(this.dir, `${container}.log`);
  }

  onEvent(listener: (e: PodEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts a container; a failure to start becomes a terminated state, never a throw. */
  async start(spec: ContainerSpec): Promise<void> {
    const child = await spawnGroup({ ...spec, logFile: this.logFile(spec.name) });
    this.#children.set(spec.name, child);
    child.once('error', (err: NodeJS.ErrnoException) => {
      this.setState(spec.name, {
        state: 'terminated',
        exitCode: 128,
        signal: null,
        reason: 'StartError',
        message: `${spec.command}: ${err.code === 'ENOENT' ? 'no such file or command' : err.message}`,
      });
    });
    // Listen before any await: a command that fails fast must not exit unobserved.
    child.once('exit', (code, signal) => {
      const recorded = this.#lastLine(spec.name).then((message) =>
        this.setState(spec.name, {
          state: 'terminated',
          exitCode: code,
          signal,
          reason: signal ? 'Killed' : code === 0 ? 'Completed' : 'Error',
          message: signal ? `killed by ${signal}` : message,
        }),
      );
      // `stop` waits for this, so that no state is written after it returns.
      this.#exits.add(recorded);
      void recorded.finally(() => this.#exits.delete(recorded));
    });
    if (child.pid === undefined) return;
    this.setState(spec.name, { state: 'running', pid: child.pid });
    await this.pids.record(child.pid, `${this.name}/${spec.name}`);
  }

  /**
   * Takes over a container that an earlier aggregator started (this process is not its parent,
   * so it cannot wait for it): its liveness is polled on `sleep`, and when it is gone its exit
   * code is unknown.
   */
  adopt(container: string, pid: number, sleep: (ms: number) => Promise<void>, everyMs = 250): void {
    this.#adopted.set(container, pid);
    this.setState(container, { state: 'running', pid });
    void (async () => {
      while (isAlive(pid)) await sleep(everyMs);
      this.#adopted.delete(container);
      this.setState(container, {
        state: 'terminated',
        exitCode: null,
        signal: null,
        reason: 'Unknown',
        message: 'ended while the aggregator was restarting; its exit code is unknown',
      });
    })().catch(() => undefined); // the run ended first
  }

  /** Stops every container process group: SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs: number, sleep: Sleep): Promise<void> {
    await stopGroups([...this.#children.values()], [...this.#adopted.values()], graceMs, sleep);
    await Promise.all(this.#exits);
    await this.#writing;
  }

  /** Resolves once every state set so far is in `status.json`. */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /**
   * Records a container's new state: in `status.json` first, then to the listeners. States that
   * change while a write is under way go out together in the next one.
   */
  setState(container: string, state: ContainerState): void {
    this.states.set(container, state);
    this.#unwritten.push({ container, state });
    this.#writing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#unwritten.length) {
      const events = this.#unwritten.splice(0);
      const snapshot = {
        containers: [...this.states].map(([name, s]) => ({
          name,
          state: s.state,
          ...(s.state === 'terminated'
            ? { exitCode: s.exitCode ?? 128, reason: s.reason, message: s.message }
            : {}),
        })),
      };
      // Atomic replace: readers (the health reader, `fathom status`) never see half of it.
      const tmp = `${this.statusFile}.tmp`;
      await writeFile(tmp, JSON.stringify(snapshot))
        .then(() => rename(tmp, this.statusFile))
        .catch(() => undefined); // the run directory is going away: the listeners still hear
      for (const e of events) for (const l of this.#listeners) l(e);
    }
    this.#writing = undefined;
  }

  async #lastLine(container: string): Promise<string> {
    const text = await readFile(this.logFile(container), 'utf8').catch(() => '');
    const lines = text.trimEnd().split('\n');
    return (lines[lines.length - 1] ?? '').slice(0, 500);
  }
}
