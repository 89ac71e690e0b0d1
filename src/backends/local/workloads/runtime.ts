/**
 * The workload port on the local backend: each container a process group on this host (the
 * process layer's LocalPod), the node a name from the embedded cluster. Everything lives in the
 * workload's directory (files.ts), so another fathom process (the CLI) gets, lists, follows and
 * removes a workload it did not place. Containers are never restarted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import {
  checkWorkloadSpec,
  type LogOptions,
  type WorkloadContainer,
  type WorkloadEvent,
  type WorkloadRuntime,
  type WorkloadSpec,
  type WorkloadState,
} from '../../../core/workload.js';
import { isAlive, stopGroups } from '../process/group.js';
import { PidRegistry, writeFileAtomic } from '../process/pidfile.js';
import { LocalPod } from '../process/pod.js';
import { EXIT_FILE, executable, recorded } from './exit-record.js';
import {
  files,
  isWorkloadName,
  readAllWorkloads,
  readWorkloadFile,
  readWorkloadState,
  WORKLOAD_API_VERSION,
  workloadDirOf,
  workloadsDirOf,
} from './files.js';

export interface LocalWorkloadOptions {
  /** $FATHOM_HOME. */
  readonly home: string;
  readonly clock: Clock;
  /** The embedded cluster's node names (cluster-store.ts): a workload goes on one of these. */
  readonly nodes: readonly string[];
  /** Run each container under an exit recorder (exit-record.ts): for supervisors that may die. */
  readonly recordExits?: boolean;
}

/**
 * Watch and follow read the files this often: a poll on the clock behaves the same on every
 * file system and in every process, where fs.watch misses renames and differs by platform.
 */
export const WORKLOAD_POLL_MS = 100;
/** Backoff ceiling for a watch whose reads fail. */
const MAX_POLL_MS = 2_000;
const DEFAULT_GRACE_MS = 10_000;
const HOST = '127.0.0.1';
const LOG_CHUNK = 64 * 1024;

export function createLocalWorkloadRuntime(options: LocalWorkloadOptions): WorkloadRuntime {
  return new LocalWorkloads(options);
}

/** A free port on 127.0.0.1 now (the container binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A container's environment: a minimal base, its own variables, then what fathom gives it. */
function containerEnv(c: WorkloadContainer, port: number | undefined): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const k of ['HOME', 'LANG', 'TMPDIR'] as const) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  return {
    ...base,
    ...c.env,
    ...(port === undefined ? {} : { FATHOM_HOST: HOST, FATHOM_PORT: String(port) }),
  };
}

class LocalWorkloads implements WorkloadRuntime {
  /** The workloads this instance supervises (their processes are its children) until all end. */
  readonly #pods = new Map<string, LocalPod>();
  readonly #home: string;
  readonly #clock: Clock;
  readonly #nodes: readonly string[];
  readonly #recordExits: boolean;

  constructor(options: LocalWorkloadOptions) {
    this.#home = options.home;
    this.#clock = options.clock;
    this.#nodes = options.nodes;
    this.#recordExits = options.recordExits ?? false;
  }

  async place(spec: WorkloadSpec): Promise<WorkloadState> {
    checkWorkloadSpec(spec);
    if (!this.#nodes.includes(spec.node)) {
      throw new FathomError(
        'FATHOM_WORKLOAD_INVALID',
        `workload ${spec.name}: node: ${spec.node} is not a node of the local cluster (${this.#nodes.join(', ')})`,
        { details: { field: 'node' } },
      );
    }
    const dir = workloadDirOf(this.#home, spec.name);
    // Private: a spec's env and a container's log may hold secrets.
    await mkdir(workloadsDirOf(this.#home), { recursive: true, mode: 0o700 });
    try {
      await mkdir(dir, { mode: 0o700 }); // the claim on the name: fails for the second placer
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new FathomError('FATHOM_WORKLOAD_EXISTS', `workload ${spec.name} is already placed`);
    }
    const ports = new Map<string, number>();
    try {
      for (const c of spec.containers)
        if (c.port !== undefined) ports.set(c.name, await freePort());
      // The file's shape is WorkloadFileSchema, checked when read back.
      const record = {
        apiVersion: WORKLOAD_API_VERSION,
        kind: 'Workload',
        createdAt: new Date(this.#clock.now()).toISOString(),
        supervisor: process.pid,
        addresses: Object.fromEntries([...ports].map(([c, p]) => [c, `${HOST}:${p}`])),
        spec: {
          name: spec.name,
          owner: spec.owner,
          node: spec.node,
          containers: spec.containers,
        },
      };
      await writeFileAtomic(join(dir, files.spec), `${JSON.stringify(record, null, 2)}\n`);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const pod = new LocalPod(spec.name, spec.node, dir, new PidRegistry(join(dir, files.pids)));
    this.#pods.set(spec.name, pod);
    pod.onEvent(() => {
      const ended = spec.containers.every((c) => pod.states.get(c.name)?.state === 'terminated');
      if (ended && this.#pods.get(spec.name) === pod) this.#pods.delete(spec.name);
    });
    for (const c of spec.containers) {
      const cwd = join(dir, 'containers', c.name);
      const [command, ...first] = c.command;
      const env = containerEnv(c, ports.get(c.name));
      const args = [...first, ...(c.args ?? [])];
      try {
        await mkdir(cwd, { recursive: true });
        // A command that cannot start is left to fail as it would unwrapped (StartError).
        const run =
          this.#recordExits && (await executable(command, env.PATH))
            ? recorded(command, args, join(cwd, EXIT_FILE))
            : { command, args };
        await pod.start({ name: c.name, ...run, env, cwd });
      } catch (err) {
        // spawn refuses some arguments synchronously: that container ends as one that
        // could not start, and its siblings run, as a kubelet would have it.
        pod.setState(c.name, {
          state: 'terminated',
          exitCode: 128,
          signal: null,
          reason: 'StartError',
          message: `${command}: ${(err as Error).message}`,
        });
      }
    }
    // What status.json says from now on, so another process reads the same.
    await pod.flushed();
    return (await this.get(spec.name))!;
  }

  get(name: string): Promise<WorkloadState | undefined> {
    return readWorkloadState(this.#home, name, isAlive);
  }

  async list(owner: string): Promise<readonly WorkloadState[]> {
    return readAllWorkloads(this.#home, isAlive, owner);
  }

  async *watch(owner: string, signal: AbortSignal): AsyncIterable<WorkloadEvent> {
    const last = new Map<string, string>();
    let delay = WORKLOAD_POLL_MS;
    while (!signal.aborted) {
      try {
        const now = await this.list(owner);
        delay = WORKLOAD_POLL_MS;
        const events: WorkloadEvent[] = [];
        for (const w of now) {
          const key = JSON.stringify(w);
          if (last.get(w.name) !== key) events.push({ type: 'changed', workload: w });
          last.set(w.name, key);
        }
        const names = new Set(now.map((w) => w.name));
        for (const name of [...last.keys()].filter((n) => !names.has(n))) {
          last.delete(name);
          events.push({ type: 'removed', name });
        }
        for (const e of events) {
          if (signal.aborted) return;
          yield e;
        }
      } catch (err) {
        delay = Math.min(delay * 2, MAX_POLL_MS);
        yield { type: 'error', error: err instanceof Error ? err : new Error(String(err)) };
      }
      try {
        await this.#clock.sleep(delay, signal);
      } catch {
        return; // the signal ended the watch
      }
    }
  }

  /** Nothing for a workload that is not there (as `get` gives undefined). */
  async *logs(name: string, container: string, options: LogOptions = {}): AsyncIterable<Buffer> {
    const record = await readWorkloadFile(this.#home, name);
    if (!record) return;
    if (!record.spec.containers.some((c) => c.name === container)) {
      throw new FathomError(
        'FATHOM_WORKLOAD_INVALID',
        `workload ${name} has no container ${container} (it has ${record.spec.containers.map((c) => c.name).join(', ')})`,
        { details: { field: 'container' } },
      );
    }
    const file = join(workloadDirOf(this.#home, name), `${container}.log`);
    const { follow = false, signal } = options;
    let offset = 0;
    for (;;) {
      // The state before the bytes: once terminated, what is read next is all there will be.
      const state = follow ? await this.get(name) : undefined;
      const ended =
        !follow ||
        !state ||
        state.containers.find((c) => c.name === container)?.state === 'terminated';
      for await (const chunk of readFrom(file, offset)) {
        offset += chunk.length;
        yield chunk;
      }
      if (ended || signal?.aborted) return;
      try {
        await this.#clock.sleep(WORKLOAD_POLL_MS, signal);
      } catch {
        return; // the signal ended the follow
      }
    }
  }

  async remove(name: string, options: { readonly graceMs?: number } = {}): Promise<boolean> {
    if (!isWorkloadName(name)) return false;
    const dir = workloadDirOf(this.#home, name);
    if (!(await stat(dir).catch(() => undefined))) return false;
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
      this.#clock.sleep(ms, signal);
    const pod = this.#pods.get(name);
    if (pod) {
      // Ours: stop it and wait until its last state is written, before the directory goes.
      await pod.stop(graceMs, sleep);
      this.#pods.delete(name);
    }
    // The name goes first, atomically: readers see it removed at once, a second remover gets
    // false, and a late status write of another supervisor finds no directory to write into.
    const trash = join(
      workloadsDirOf(this.#home),
      `.removing-${name}-${randomBytes(4).toString('hex')}`,
    );
    try {
      await rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (!pod) {
      // Another process's (or nobody's, if it died): its process groups by their pid files.
      const pids = await new PidRegistry(join(trash, files.pids)).read();
      await stopGroups([], [...pids.keys()], graceMs, sleep);
    }
    await rm(trash, { recursive: true, force: true });
    return true;
  }
}

/** The bytes of `file` from `offset` to its current end; nothing when it is absent. */
async function* readFrom(file: string, offset: number): AsyncIterable<Buffer> {
  const handle = await open(file, 'r').catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  });
  if (!handle) return;
  try {
    for (;;) {
      const buf = Buffer.alloc(LOG_CHUNK);
      const { bytesRead } = await handle.read(buf, 0, LOG_CHUNK, offset);
      if (!bytesRead) return;
      offset += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
