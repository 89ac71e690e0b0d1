/**
 * One pod on a runner node, from sandbox to deletion: volumes, init containers in order,
 * containers side by side, restarts with crash-loop backoff, status written back, and on
 * deletion SIGTERM, SIGKILL after the grace period, then the pod object removed.
 */
import { lstat, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../src/core/clock.js';
import { Backoff } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { expandVars, referencedObjects, resolveEnv } from './env.js';
import type { ObjectLookup } from './env.js';
import {
  containerRoot,
  createRewriter,
  findExecutable,
  mountTargets,
  rootLinks,
  volumeDir,
} from './paths.js';
import { logTail, startProcess } from './process.js';
import type { ContainerProcess, ProcessSpec } from './process.js';
import { buildPodStatus, exitCodeOf, terminatedReason, willRestart } from './status.js';
import type { ContainerRecord, TerminatedState } from './status.js';
import type { ConfigMap, Container, Pod, RestartPolicy, Secret } from './types.js';
import { planVolume, tokenKey, tokenRequests, writeVolume } from './volumes.js';
import type { TokenSpec } from './volumes.js';
import { StatusWriter } from './writer.js';

/** Where real kubelets mount the service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What a pod worker needs from the API server. */
export interface PodApi {
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  /** A TokenRequest for the pod's service account, bound to the pod. */
  token(pod: Pod, spec: TokenSpec): Promise<string>;
  /** Writes `status` through pods/status; 'gone' once the pod no longer exists. */
  patchStatus(pod: Pod, status: object): Promise<'ok' | 'gone'>;
  /** Deletes the pod object with grace 0 (what a kubelet does once its containers are gone). */
  remove(pod: Pod): Promise<void>;
}

export interface PodWorkerOptions {
  readonly api: PodApi;
  readonly clock: Clock;
  readonly podDir: string;
  readonly podIP: string;
  readonly hostIP: string;
  /** Searched first for commands; also where absolute commands fall back to (paths.ts). */
  readonly pathPrepend: readonly string[];
  /** Runner-wide variables (PATH, KUBERNETES_SERVICE_HOST/PORT); the pod's env overrides them. */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly restartBackoff: BackoffPolicy;
  readonly retryBackoff: BackoffPolicy;
  /** Caps terminationGracePeriodSeconds. */
  readonly maxGraceMs: number;
  readonly log: (line: string) => void;
}

/** Why a worker stops: the pod is being deleted, was removed, or the runner stops. */
export type Ending = 'delete' | 'gone' | 'stop';

type Prepared =
  { spec: ProcessSpec } | { waiting: string; message: string } | { startError: string };

/** Go's duration style for the CrashLoopBackOff message: 500ms, 10s, 1m20s. */
function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

export class PodWorker {
  readonly records: ContainerRecord[];
  readonly #opts: PodWorkerOptions;
  readonly #procs = new Map<string, ContainerProcess>();
  readonly #listeners = new Set<() => void>();
  readonly #abort = new AbortController();
  readonly #startTime: number;
  #pod: Pod;
  #ending: Ending | undefined;
  #running: Promise<void> = Promise.resolve();
  #finished: Promise<void> | undefined;
  readonly #writer: StatusWriter;

  constructor(pod: Pod, options: PodWorkerOptions) {
    this.#pod = pod;
    this.#opts = options;
    this.#startTime = options.clock.now();
    this.#writer = new StatusWriter(
      () => options.api.patchStatus(this.#pod, this.#status()),
      options.clock,
      options.retryBackoff,
      (line) => options.log(`${this.#name}: ${line}`),
    );
    const inits = pod.spec.initContainers ?? [];
    const waiting = (reason: string) => ({ state: 'waiting', reason }) as const;
    this.records = [
      ...inits.map((c) => this.#record(c, true, waiting('PodInitializing'))),
      ...pod.spec.containers.map((c) =>
        this.#record(c, false, waiting(inits.length ? 'PodInitializing' : 'ContainerCreating')),
      ),
    ];
  }

  get pod(): Pod {
    return this.#pod;
  }

  get policy(): RestartPolicy {
    return this.#pod.spec.restartPolicy ?? 'Always';
  }

  /** The process id of a running container. */
  pid(container: string): number | undefined {
    return this.#procs.get(container)?.pid;
  }

  /** The process ids (and so process groups) of every running container. */
  pids(): number[] {
    return [...this.#procs.values()].map((p) => p.pid);
  }

  /** Settles when the worker has stopped every process and done its last API call. */
  get finished(): Promise<void> {
    return this.#finished ?? this.#running;
  }

  start(): void {
    this.#running = this.#run().catch((err: Error) =>
      this.#opts.log(`${this.#name}: ${err.stack ?? err.message}`),
    );
  }

  /** A newer version of the pod object; a deletionTimestamp starts the termination. */
  update(pod: Pod): void {
    this.#pod = pod;
    if (pod.metadata.deletionTimestamp) void this.end('delete');
  }

  /** Stops the pod's processes; for 'delete', then writes the final status and removes the pod. */
  end(why: Ending): Promise<void> {
    if (why !== 'delete') this.#writer.off();
    if (this.#ending) return this.finished;
    this.#ending = why;
    this.#abort.abort();
    const grace = this.#graceMs(why);
    for (const p of this.#procs.values()) void p.stop(grace, this.#opts.clock);
    this.#finished = this.#running
      .then(async () => {
        if (this.#ending !== 'delete' || this.#writer.isOff) return;
        await this.#writer.flush();
        if (!this.#writer.isOff) await this.#opts.api.remove(this.#pod);
      })
      .catch((err: Error) => this.#opts.log(`${this.#name}: removing: ${err.message}`));
    return this.#finished;
  }

  get #name(): string {
    return `pod ${this.#pod.metadata.namespace}/${this.#pod.metadata.name}`;
  }

  #record(c: Container, init: boolean, current: ContainerRecord['current']): ContainerRecord {
    return { name: c.name, image: c.image ?? '', init, current, restartCount: 0 };
  }

  #graceMs(why: Ending): number {
    const meta = this.#pod.metadata.deletionGracePeriodSeconds;
    const seconds = meta ?? this.#pod.spec.terminationGracePeriodSeconds ?? 30;
    const ms = why === 'gone' ? 0 : seconds * 1000;
    return Math.max(0, Math.min(ms, this.#opts.maxGraceMs));
  }

  async #run(): Promise<void> {
    this.#requestStatus();
    if (!(await this.#prepareVolumes())) return;
    const inits = this.#pod.spec.initContainers ?? [];
    for (const c of inits) {
      const code = await this.#runContainer(c, true);
      if (code !== 0) return;
    }
    for (const r of this.records)
      if (!r.init && r.current.state === 'waiting')
        r.current = { state: 'waiting', reason: 'ContainerCreating' };
    await Promise.all(this.#pod.spec.containers.map((c) => this.#runContainer(c, false)));
    if (!this.#ending) await this.#writer.flush();
  }

  /** Sleeps one backoff step; false when the worker is ending. */
  async #sleep(backoff: Backoff): Promise<boolean> {
    try {
      await backoff.wait(this.#abort.signal);
      return !this.#ending;
    } catch {
      return false;
    }
  }

  async #lookup(): Promise<ObjectLookup> {
    const ns = this.#pod.metadata.namespace ?? '';
    const refs = referencedObjects(this.#pod);
    const secrets = new Map<string, Secret | undefined>();
    const configMaps = new Map<string, ConfigMap | undefined>();
    for (const name of refs.secrets) secrets.set(name, await this.#opts.api.secret(ns, name));
    for (const name of refs.configMaps)
      configMaps.set(name, await this.#opts.api.configMap(ns, name));
    return { secret: (n) => secrets.get(n), configMap: (n) => configMaps.get(n) };
  }

  /** The pod as its containers see it through the downward API. */
  #view(): Pod {
    return {
      ...this.#pod,
      status: { ...this.#pod.status, podIP: this.#opts.podIP, hostIP: this.#opts.hostIP },
    };
  }

  async #prepareVolumes(): Promise<boolean> {
    const retry = new Backoff(this.#opts.clock, this.#opts.retryBackoff);
    for (;;) {
      if (this.#ending) return false;
      let problem: string;
      try {
        const objects = await this.#lookup();
        const tokens = new Map<string, string>();
        for (const spec of tokenRequests(this.#pod))
          tokens.set(tokenKey(spec), await this.#opts.api.token(this.#pod, spec));
        const plans = (this.#pod.spec.volumes ?? []).map((v) => ({
          v,
          plan: planVolume(this.#view(), v, objects, (t) => tokens.get(tokenKey(t))),
        }));
        const failed = plans.find((p) => p.plan.kind === 'error');
        if (!failed) {
          for (const { v, plan } of plans)
            await writeVolume(volumeDir(this.#opts.podDir, v.name), plan);
          return true;
        }
        problem = (failed.plan as { message: string }).message;
      } catch (err) {
        problem = (err as Error).message;
      }
      this.#opts.log(`${this.#name}: volumes: ${problem}`);
      for (const r of this.records)
        if (r.current.state === 'waiting') r.current = { ...r.current, message: problem };
      this.#requestStatus();
      if (!(await this.#sleep(retry))) return false;
    }
  }

  async #prepare(c: Container, init: boolean): Promise<Prepared> {
    if (init && c.restartPolicy === 'Always')
      return {
        waiting: 'CreateContainerConfigError',
        message: 'the pod runner does not support sidecar init containers',
      };
    const podDir = this.#opts.podDir;
    const mounts = mountTargets(this.#pod, c, podDir);
    const root = containerRoot(podDir, c.name);
    await mkdir(root, { recursive: true });
    const exists = (path: string): Promise<boolean> =>
      lstat(path).then(
        () => true,
        () => false,
      );
    // emptyDir subPaths are made on first use; a subPath into a configMap is a file already.
    for (const m of mounts)
      if (!m.hostPath && !(await exists(m.target))) await mkdir(m.target, { recursive: true });
    for (const { link, target } of rootLinks(mounts, root)) {
      if (await exists(link)) continue;
      await mkdir(dirname(link), { recursive: true });
      await symlink(target, link);
    }
    const rewrite = createRewriter(mounts);
    const sa = mounts.find((m) => m.mountPath === SERVICE_ACCOUNT_DIR);
    const base = {
      ...this.#opts.baseEnv,
      HOSTNAME: this.#pod.metadata.name,
      HOME: root,
      POD_IP: this.#opts.podIP,
      FATHOM_POD_ROOT: root,
      ...(sa ? { FATHOM_SERVICEACCOUNT_DIR: sa.target } : {}),
    };
    const resolved = resolveEnv(this.#view(), c, await this.#lookup(), base, rewrite);
    if (!resolved.ok) return { waiting: 'CreateContainerConfigError', message: resolved.message };
    const env = resolved.env;
    const expand = (s: string): string => rewrite(expandVars(s, (n) => env[n]));
    let command = (c.command ?? []).map(expand);
    const args = (c.args ?? []).map(expand);
    if (command.length === 0 && args.length > 0)
      return {
        startError:
          'no command: the pod runner does not run images, so a container needs `command`',
      };
    if (command.length === 0) command = ['sleep', 'infinity']; // a bare container idles, like pause
    const dirs = (env.PATH ?? '').split(':');
    const file = await findExecutable(command[0]!, dirs, this.#opts.pathPrepend);
    if (!file) return { startError: `exec: "${command[0]}": executable file not found in $PATH` };
    const wd = c.workingDir;
    const cwd = !wd ? root : rewrite(wd) !== wd ? rewrite(wd) : join(root, wd);
    await mkdir(cwd, { recursive: true }).catch(() => undefined);
    const logPath = join(podDir, `${c.name}.log`);
    return { spec: { file, args: [...command.slice(1), ...args], env, cwd, logPath } };
  }

  /** Runs one container until it will not be restarted; its last exit code, or undefined when ending. */
  async #runContainer(c: Container, init: boolean): Promise<number | undefined> {
    const rec = this.records.find((r) => r.name === c.name && r.init === init)!;
    const { clock } = this.#opts;
    const crashLoop = new Backoff(clock, this.#opts.restartBackoff);
    const retry = new Backoff(clock, this.#opts.retryBackoff);
    for (;;) {
      if (this.#ending) return undefined;
      const prepared = await this.#prepare(c, init).catch((err: Error): Prepared => ({
        waiting: 'CreateContainerError',
        message: err.message,
      }));
      if ('waiting' in prepared) {
        rec.current = { state: 'waiting', reason: prepared.waiting, message: prepared.message };
        this.#requestStatus();
        if (!(await this.#sleep(retry))) return undefined;
        continue;
      }
      retry.reset();
      if (this.#ending) return undefined;
      const startedAt = clock.now();
      const started =
        'spec' in prepared ? await startProcess(prepared.spec) : { error: prepared.startError };
      rec.containerID = `podrunner://${this.#pod.metadata.uid ?? ''}/${c.name}/${rec.restartCount}`;
      if ('error' in started) {
        rec.current = {
          state: 'terminated',
          exitCode: 128,
          reason: 'StartError',
          message: started.error,
          startedAt,
          finishedAt: clock.now(),
        };
      } else {
        this.#procs.set(c.name, started);
        if (this.#ending) void started.stop(this.#graceMs(this.#ending), clock);
        rec.current = { state: 'running', startedAt };
        this.#requestStatus();
        const exit = await started.exited;
        this.#procs.delete(c.name);
        const { exitCode, signal } = exitCodeOf(exit.code, exit.signal);
        const message =
          c.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0
            ? await logTail(join(this.#opts.podDir, `${c.name}.log`))
            : undefined;
        rec.current = {
          state: 'terminated',
          exitCode,
          ...(signal ? { signal } : {}),
          reason: terminatedReason(exitCode),
          ...(message ? { message } : {}),
          startedAt,
          finishedAt: clock.now(),
        };
      }
      const last: TerminatedState = rec.current;
      this.#requestStatus();
      if (this.#ending || !willRestart(this.policy, last.exitCode, init)) return last.exitCode;
      const delay = crashLoop.nextDelay();
      const { name, namespace, uid } = this.#pod.metadata;
      rec.last = last;
      rec.current = {
        state: 'waiting',
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration(delay)} restarting failed container=${c.name} pod=${name}_${namespace}(${uid})`,
      };
      this.#requestStatus();
      if (!(await this.#sleep(crashLoop))) {
        rec.current = last; // it never restarted: report how it ended
        return last.exitCode;
      }
      rec.restartCount++;
    }
  }

  #status(): object {
    return buildPodStatus({
      records: this.records,
      policy: this.policy,
      podIP: this.#opts.podIP,
      hostIP: this.#opts.hostIP,
      startTime: this.#startTime,
      now: this.#opts.clock.now(),
      previous: this.#pod.status?.conditions ?? [],
      terminal: this.#ending !== undefined,
    });
  }

  /** Calls `listener` after every change of a container's state; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #requestStatus(): void {
    for (const l of this.#listeners) l();
    this.#writer.request();
  }
}
