import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import type { Clock } from '../../../core/clock.js';
import { exitCodeOf, messageOf } from '../../../core/errors.js';
import { loadWorkerConfig } from '../../../worker/config.js';
import type { ContainerState } from '../../../worker/container-state.js';
import { runWorker } from '../../../worker/worker.js';
import { onLines, send, type HostEvent, type HostRequest, type WorkerState } from './protocol.js';

interface Hosted {
  state: WorkerState;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * Plays the worker sidecar of every pod of a local run in one process, as kwok plays many
 * kubelets in one: each worker is an instance of `runWorker` with its own config, results
 * directory, TLS directory, progress relay port, log file and abort signal. A worker that
 * throws ends as a terminated container with the exit code and last line `fathom worker`
 * would have given, so faults look as they did when each worker was a process.
 */
export class NodeHost {
  readonly #workers = new Map<string, Hosted>();
  /** Each pod's other containers as the aggregator last told: pushed, so no worker polls a file. */
  readonly #containers = new Map<string, readonly ContainerState[]>();
  readonly #clients = new Set<Socket>();
  #server: Server | undefined;
  #closing: Promise<void> | undefined;
  readonly #closed: Promise<void>;
  #markClosed!: () => void;

  /** Aborted when a client connects: cancels the idle shutdown. */
  #idle: AbortController | undefined;

  /**
   * `idleMs`: with no aggregator connected and no worker running for this long, the host exits
   * (its run was abandoned: nothing would ever stop it otherwise).
   */
  constructor(
    private readonly clock: Clock,
    private readonly idleMs = 60_000,
  ) {
    this.#closed = new Promise((r) => (this.#markClosed = r));
  }

  /** Resolves once the host has shut down (asked to, or by `close`). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Listens on a Unix socket only this user may connect to. */
  async listen(socketPath: string): Promise<void> {
    await rm(socketPath, { force: true });
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
  }

  /** Stops every worker, then stops listening. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#idle?.abort();
      for (const w of this.#workers.values()) w.abort.abort();
      await Promise.all([...this.#workers.values()].map((w) => w.done));
      for (const c of this.#clients) c.end();
      await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
      this.#markClosed();
    })();
    return this.#closing;
  }

  #accept(socket: Socket): void {
    this.#clients.add(socket);
    this.#idle?.abort();
    socket.on('close', () => {
      this.#clients.delete(socket);
      this.#checkIdle();
    });
    socket.on('error', () => undefined); // a client that went away: its close follows
    send(socket, { ev: 'hello', pid: process.pid });
    for (const [pod, w] of this.#workers) send(socket, { ev: 'state', pod, state: w.state });
    onLines(socket, (message) => this.#handle(socket, message as HostRequest));
  }

  #handle(socket: Socket, req: HostRequest): void {
    if (req.op === 'start') void this.#start(socket, req);
    else if (req.op === 'containers') this.#containers.set(req.pod, req.containers);
    else if (req.op === 'stop') this.#workers.get(req.pod)?.abort.abort();
    else if (req.op === 'shutdown') void this.close();
  }

  #checkIdle(): void {
    if (this.#clients.size || this.#closing) return;
    if ([...this.#workers.values()].some((w) => w.state.state === 'running')) return;
    this.#idle?.abort();
    const idle = (this.#idle = new AbortController());
    this.clock.sleep(this.idleMs, idle.signal).then(
      () => void this.close(),
      () => undefined, // someone connected
    );
  }

  #broadcast(event: HostEvent): void {
    for (const c of this.#clients) send(c, event);
  }

  #setState(pod: string, hosted: Hosted, state: WorkerState): void {
    hosted.state = state;
    // A worker replaced by a later start of the same pod no longer speaks for it.
    if (this.#workers.get(pod) === hosted) this.#broadcast({ ev: 'state', pod, state });
  }

  async #start(socket: Socket, req: Extract<HostRequest, { op: 'start' }>): Promise<void> {
    // The same pod started again (its aggregator crashed before recording the plugin): replace.
    const old = this.#workers.get(req.pod);
    if (old) {
      old.abort.abort();
      await old.done;
    }
    if (this.#closing) return;
    const dest = pino.destination({ dest: req.logFile, sync: true, append: true, mkdir: true });
    const abort = new AbortController();
    let announce!: (port: number) => void;
    const port = new Promise<number>((r) => (announce = r));
    const ended = (err: unknown): WorkerState => {
      // What `fathom worker` prints last and exits with, so the error result reads the same.
      const line = `error: ${messageOf(err)}`;
      dest.write(`${line}\n`);
      return { state: 'terminated', exitCode: exitCodeOf(err), reason: 'Error', message: line };
    };
    let run: () => Promise<WorkerState>;
    try {
      // The relay takes any free port and says which: no race for a port picked beforehand.
      const config = loadWorkerConfig(req.mode, { ...req.env, SONOBUOY_PROGRESS_PORT: '0' });
      const logger = pino(
        { base: { plugin: config.pluginName, node: config.nodeName || 'global' } },
        dest,
      );
      run = () =>
        runWorker(
          config,
          {
            clock: this.clock,
            signal: abort.signal,
            logger,
            containerStates: {
              otherContainers: () => Promise.resolve(this.#containers.get(req.pod)),
            },
          },
          {
            stayAlive: false,
            onRelayListening: (relay) => announce(relay.port),
            onRelayError: () => announce(0),
          },
        ).then((outcome): WorkerState => {
          logger.info({ outcome }, 'worker done');
          return { state: 'terminated', exitCode: 0, reason: 'Completed', message: '' };
        }, ended);
    } catch (err) {
      const state = ended(err);
      run = () => Promise.resolve(state);
    }
    const hosted: Hosted = {
      state: { state: 'running' },
      abort,
      done: Promise.resolve().then(async () => {
        const state = await run();
        announce(0); // ended before its relay listened
        dest.end();
        this.#setState(req.pod, hosted, state);
        this.#checkIdle();
      }),
    };
    this.#workers.set(req.pod, hosted);
    this.#broadcast({ ev: 'state', pod: req.pod, state: hosted.state });
    send(socket, { ev: 'started', id: req.id, port: await port });
  }
}

/**
 * The node host daemon of one run (`fathom __node-host <socket>`): listens, tells its parent it
 * is ready, and runs until asked to shut down or signalled.
 */
export async function runNodeHost(socketPath: string, clock: Clock): Promise<number> {
  const host = new NodeHost(clock);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void host.close());
  await host.listen(socketPath);
  // Ready: the parent may connect. Then let go of the channel, so the host outlives the parent.
  process.send?.({ ready: true }, () => process.disconnect?.());
  await host.closed;
  await rm(socketPath, { force: true });
  return 0;
}
