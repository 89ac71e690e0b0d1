import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { Clock } from '../../../core/clock.js';
import type { WorkerMode } from '../../../worker/config.js';
import type { ContainerState as WorkerContainerState } from '../../../worker/container-state.js';
import { isAlive } from '../process/group.js';
import type { ContainerState } from '../process/pod.js';
import { onLines, send, type HostEvent, type HostRequest } from './protocol.js';

/** A host just started: its pid, and its process handle when this process is its parent. */
export interface StartedHost {
  readonly pid: number;
  readonly child?: ChildProcess;
}

export interface NodeHostClientOptions {
  readonly socketPath: string;
  /** Starts a host listening on `socketPath` and resolves once it does. */
  readonly start: () => Promise<StartedHost>;
  readonly clock: Clock;
}

export interface WorkerStart {
  readonly pod: string;
  readonly mode: WorkerMode;
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
}

type Listener = (pod: string, state: ContainerState) => void;

/**
 * The aggregator's side of the node host: starts and stops workers in it, and turns what the
 * host says into container states. When the host dies every worker it ran ends with it: killed
 * by the signal when this process is the host's parent, with an unknown code otherwise.
 */
export class NodeHostClient {
  readonly #states = new Map<string, ContainerState>();
  readonly #listeners = new Set<Listener>();
  readonly #pending = new Map<number, (port: number) => void>();
  #nextId = 1;
  #connection: Promise<Socket> | undefined;
  #pid = 0;
  #child: ChildProcess | undefined;
  #shuttingDown = false;

  constructor(private readonly options: NodeHostClientOptions) {}

  onState(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The last state the host gave for a pod's worker. */
  stateOf(pod: string): ContainerState | undefined {
    return this.#states.get(pod);
  }

  /**
   * Connects to a host that already runs (after an aggregator restart), which replays its
   * workers' states. False when none runs.
   */
  async attach(): Promise<boolean> {
    if (this.#connection) return this.#connection.then(() => true);
    try {
      this.#connection = this.#connect();
      await this.#connection;
      return true;
    } catch {
      this.#connection = undefined;
      return false;
    }
  }

  /** Starts a worker, starting the host first if none runs; resolves with its relay's port. */
  async startWorker(start: WorkerStart): Promise<{ port: number; pid: number }> {
    const socket = await this.#ensure();
    const id = this.#nextId++;
    const port = new Promise<number>((r) => this.#pending.set(id, r));
    const request: HostRequest = { op: 'start', id, ...start };
    send(socket, request);
    return { port: await port, pid: this.#pid };
  }

  /** Tells the host a pod's other containers' states, for its worker's fallback. */
  setContainers(pod: string, containers: readonly WorkerContainerState[]): void {
    void this.#connection?.then(
      (s) => send(s, { op: 'containers', pod, containers }),
      () => undefined,
    );
  }

  stopWorker(pod: string): void {
    void this.#connection?.then(
      (s) => send(s, { op: 'stop', pod }),
      () => undefined,
    );
  }

  /** Asks the host to stop its workers and exit; resolves once it has (or after `graceMs`). */
  async shutdown(graceMs = 5000): Promise<void> {
    this.#shuttingDown = true;
    const socket = await this.#connection?.catch(() => undefined);
    if (!socket) return;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    send(socket, { op: 'shutdown' });
    const timer = new AbortController();
    await Promise.race([closed, this.options.clock.sleep(graceMs, timer.signal).catch(() => {})]);
    timer.abort();
    socket.destroy();
  }

  /**
   * Connects to the run's host, starting one if none runs. Called early, it lets the host boot
   * while the aggregator sets itself up; a failure here is retried by the first `startWorker`.
   */
  warmUp(): void {
    this.#ensure().catch(() => undefined);
  }

  #ensure(): Promise<Socket> {
    this.#connection ??= this.#connect().catch(async () => {
      const started = await this.options.start();
      this.#child = started.child;
      return this.#connect();
    });
    // A host that cannot be started fails this start; the next one tries again.
    this.#connection.catch(() => (this.#connection = undefined));
    return this.#connection;
  }

  #connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.options.socketPath);
      // A host closing before its hello (going away as this connects) fails the connect.
      const early = (): void => reject(new Error('the node host closed before it said hello'));
      socket.once('error', reject);
      socket.once('close', early);
      onLines(socket, (message) => {
        const event = message as HostEvent;
        if (event.ev === 'hello') {
          this.#pid = event.pid;
          socket.off('error', reject);
          socket.off('close', early);
          socket.on('error', () => undefined); // its close follows
          socket.once('close', () => void this.#lost(socket));
          resolve(socket);
        } else this.#event(event);
      });
    });
  }

  #event(event: HostEvent): void {
    if (event.ev === 'started') {
      this.#pending.get(event.id)?.(event.port);
      this.#pending.delete(event.id);
    } else if (event.ev === 'state') {
      const s = event.state;
      this.#set(
        event.pod,
        s.state === 'running' ? { state: 'running', pid: this.#pid } : { ...s, signal: null },
      );
    }
  }

  #set(pod: string, state: ContainerState): void {
    this.#states.set(pod, state);
    for (const l of this.#listeners) l(pod, state);
  }

  /** The connection closed: the host is gone (or going). Its running workers end with it. */
  async #lost(socket: Socket): Promise<void> {
    const pid = this.#pid;
    let ended: ContainerState;
    const child = this.#child;
    if (child && child.pid === pid) {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((r) => child.once('exit', r));
      }
      ended = child.signalCode
        ? {
            state: 'terminated',
            exitCode: null,
            signal: child.signalCode,
            reason: 'Killed',
            message: `killed by ${child.signalCode}`,
          }
        : {
            state: 'terminated',
            exitCode: child.exitCode,
            signal: null,
            reason: 'Error',
            message: `the node host exited with code ${child.exitCode}`,
          };
    } else {
      while (isAlive(pid)) await this.options.clock.sleep(50);
      ended = {
        state: 'terminated',
        exitCode: null,
        signal: null,
        reason: 'Unknown',
        message: 'the node host ended; its exit code is unknown',
      };
    }
    if (this.#connection && (await this.#connection.catch(() => undefined)) === socket) {
      this.#connection = undefined; // a later start brings up a new host
    }
    for (const r of this.#pending.values()) r(0);
    this.#pending.clear();
    if (this.#shuttingDown) return;
    for (const [pod, state] of this.#states) {
      if (state.state === 'running') this.#set(pod, ended);
    }
  }
}
