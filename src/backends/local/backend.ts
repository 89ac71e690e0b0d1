import { randomUUID } from 'node:crypto';
import { sonobuoyConfigKeys } from '../../snapshot/config.js';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunStatus } from '../../aggregation/types.js';
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import type {
  Backend,
  LogLine,
  LogOptions,
  ResumeOutcome,
  RetrieveOptions,
  RunInfo,
  RunSpec,
  StartOptions,
} from '../backend.js';
import {
  aggregatorDaemon,
  MAX_AUTOMATIC_RESTARTS,
  restartAggregator,
  spawnAggregator,
} from './restart.js';
import { retrievePartial } from './partial.js';
import type { ClusterNode } from '../../core/nodes.js';
import { stopDaemon, withRestartsHeld } from './process/daemon.js';
import { isAlive, signalGroup } from './process/group.js';
import { PidRegistry, readPidFile } from './process/pidfile.js';
import {
  assertRunDirExists,
  files,
  LOCAL_KUBERNETES_VERSION,
  readRecord,
  readRunStatus,
  runDirOf,
  type LocalRunRecord,
} from './store.js';

export interface LocalBackendOptions {
  readonly home: string;
  /**
   * The nodes a new run is placed on (the embedded cluster's, see cluster-store.ts); asked only
   * by `start`, which copies them into the run's record.
   */
  readonly nodes: () => Promise<readonly ClusterNode[]>;
  readonly clock: Clock;
  /** The environment of a session controller started for a run on a pool. */
  readonly env?: NodeJS.ProcessEnv;
  /** How often `watch` and `logs --follow` look at the run's files. */
  readonly pollMs?: number;
  readonly terminatedGraceMs?: number;
}

export { LOCAL_KUBERNETES_VERSION };

/** Runs on this machine: an aggregator process per namespace, plugins and workers as processes. */
export class LocalBackend implements Backend {
  readonly name = 'local';
  readonly #clock: Clock;
  /** Each run's record, read and checked once per backend (it never changes after start). */
  readonly #records = new Map<string, Promise<LocalRunRecord>>();

  constructor(private readonly options: LocalBackendOptions) {
    this.#clock = options.clock;
  }

  async start(spec: RunSpec, options: StartOptions = {}): Promise<RunInfo> {
    const dir = runDirOf(this.options.home, spec.namespace);
    let nodes = await this.options.nodes();
    // Loaded only for a run on a pool: the store and the sessions domain cost start-up time.
    const claims = spec.pool ? await import('./sessions/run-claims.js') : undefined;
    // Refused before anything is made: a pool no node is in, or too few nodes.
    if (spec.pool) claims!.poolNodes(nodes, spec.pool);
    await mkdir(join(this.options.home, 'runs'), { recursive: true });
    try {
      await mkdir(dir); // exclusive: one run per namespace, as in Sonobuoy
    } catch {
      throw new FathomError(
        'FATHOM_RUN_EXISTS',
        `a run already exists in namespace "${spec.namespace}": run \`fathom delete -n ${spec.namespace}\` first`,
      );
    }
    if (spec.pool && claims) {
      try {
        const granted = new Set(
          await claims.claimAndWait({
            home: this.options.home,
            run: spec.namespace,
            dir,
            pool: spec.pool,
            clock: this.#clock,
            env: this.options.env ?? process.env,
            ...(options.progress ? { progress: options.progress } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(this.options.pollMs !== undefined ? { pollMs: this.options.pollMs } : {}),
          }),
        );
        nodes = nodes.filter((n) => granted.has(n.name));
        options.progress?.(`Pool "${spec.pool.name}": granted ${[...granted].sort().join(', ')}.`);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    const record: LocalRunRecord = {
      uuid: randomUUID(),
      namespace: spec.namespace,
      createdAt: new Date(this.#clock.now()).toISOString(),
      timeoutMs: spec.timeoutMs,
      maxResultBytes: spec.maxResultBytes,
      terminatedGraceMs: this.options.terminatedGraceMs ?? 10_000,
      nodes,
      plugins: spec.plugins,
      ...(spec.pool ? { pool: spec.pool.name } : {}),
      kubernetesVersion: spec.kubernetesVersion ?? LOCAL_KUBERNETES_VERSION,
      ...(spec.snapshot ? { snapshot: sonobuoyConfigKeys(spec.snapshot) } : {}),
    };
    await writeFile(join(dir, files.record), JSON.stringify(record, null, 2));
    await spawnAggregator(dir);
    if (claims) await claims.claimStarted(dir);
    return {
      namespace: spec.namespace,
      uuid: record.uuid,
      backend: 'local',
      createdAt: record.createdAt,
    };
  }

  /**
   * The run's status. An aggregator that died before the run was done is restarted here, and
   * resumes from its journal: looking at a run is enough to bring it back.
   */
  async status(namespace: string): Promise<RunStatus> {
    const dir = runDirOf(this.options.home, namespace);
    await this.#record(dir, namespace).catch(async (err: unknown) => {
      // A run on a pool has no record until its nodes are granted.
      if (isAlive(await readPidFile(join(dir, files.claimWaiter)))) {
        throw new FathomError(
          'FATHOM_RUN_NOT_FOUND',
          `the run in namespace "${namespace}" waits for the nodes of its pool (\`fathom pools\` shows who holds them)`,
          { cause: err },
        );
      }
      throw err;
    });
    // The record is cached: a run deleted since (`fathom delete` elsewhere) must end a wait.
    await assertRunDirExists(dir, namespace);
    const { status, aggregatorAlive } = await readRunStatus(dir);
    if (aggregatorAlive || status.status === 'complete') return status;
    if (!(await restartAggregator(dir, this.#clock, { limit: MAX_AUTOMATIC_RESTARTS }))) {
      return status;
    }
    return { ...status, status: 'running' };
  }

  async resume(namespace: string): Promise<ResumeOutcome> {
    const dir = runDirOf(this.options.home, namespace);
    await this.#record(dir, namespace);
    const { status, aggregatorAlive } = await readRunStatus(dir);
    if (status.status === 'complete') return 'complete';
    if (aggregatorAlive) return 'running';
    await restartAggregator(dir, this.#clock, { limit: Infinity });
    return 'restarted';
  }

  async *watch(namespace: string, signal?: AbortSignal): AsyncIterable<RunStatus> {
    let last = '';
    for (;;) {
      const status = await this.status(namespace);
      const text = JSON.stringify(status);
      if (text !== last) {
        last = text;
        yield status;
      }
      if (status.status === 'complete' || status.status === 'failed') return;
      await this.#clock.sleep(this.options.pollMs ?? 200, signal);
    }
  }

  async retrieve(
    namespace: string,
    destDir: string,
    options: RetrieveOptions = {},
  ): Promise<string> {
    const status = await this.status(namespace);
    const name = status['tar-info'].name;
    const dir = runDirOf(this.options.home, namespace);
    await mkdir(destDir, { recursive: true });
    if (status.status === 'complete' && name) {
      const dest = resolve(destDir, name);
      await copyFile(join(dir, name), dest);
      return dest;
    }
    if (!options.partial) {
      throw new FathomError(
        'FATHOM_RUN_NOT_DONE',
        `the run in namespace "${namespace}" has no results yet (status: ${status.status}); \`fathom retrieve --partial\` gives what was accepted so far`,
      );
    }
    return retrievePartial(dir, await this.#record(dir, namespace), destDir, this.#clock);
  }

  async delete(namespace: string): Promise<void> {
    const dir = runDirOf(this.options.home, namespace);
    // Not the record: a corrupt or missing run.json must not keep the user from cleaning up.
    await assertRunDirExists(dir, namespace);
    this.#records.delete(dir);
    // With its restarts held: a `run --wait` or `status` elsewhere that sees the aggregator
    // stopped must not start it again inside the directory being removed.
    const aggregator = aggregatorDaemon(dir);
    await withRestartsHeld(aggregator, this.#clock, async () => {
      // The aggregator stops its plugins and the node host on SIGTERM; a moment, then force.
      await stopDaemon(aggregator, this.#clock, 5000);
      // Anything still recorded (the aggregator may have died before cleaning up).
      for (const pid of (await new PidRegistry(join(dir, files.pids)).read()).keys()) {
        // A stray name must never become -0 or -1: the caller's own group, or every process.
        if (Number.isInteger(pid) && pid > 1) signalGroup(pid, 'SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    });
    // A run on a pool gives its nodes back (the controller's probe would find it gone too).
    if (await stat(join(this.options.home, 'state.db')).catch(() => undefined)) {
      const { releaseClaim } = await import('./sessions/run-claims.js');
      await releaseClaim(dir);
    }
  }

  /** The simulated nodes run no kubelet of a release: they claim the one fathom is tested on. */
  kubernetesVersion(): Promise<string> {
    return Promise.resolve(LOCAL_KUBERNETES_VERSION);
  }

  async list(): Promise<string[]> {
    const names = await readdir(join(this.options.home, 'runs')).catch(() => [] as string[]);
    return names.sort();
  }

  async *logs(namespace: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const dir = runDirOf(this.options.home, namespace);
    await this.#record(dir, namespace);
    const offsets = new Map<string, number>();
    for (;;) {
      for (const [source, path] of await logFiles(dir, options.plugin)) {
        const text = await readFile(path, 'utf8').catch(() => '');
        const from = offsets.get(path) ?? 0;
        const end = text.lastIndexOf('\n') + 1;
        if (end <= from) continue;
        offsets.set(path, end);
        for (const line of text.slice(from, end - 1).split('\n')) yield { source, line };
      }
      if (!options.follow || options.signal?.aborted) return;
      const status = await this.status(namespace);
      if (status.status === 'complete' || status.status === 'failed') return;
      await this.#clock.sleep(this.options.pollMs ?? 200, options.signal).catch(() => undefined);
    }
  }

  #record(dir: string, namespace: string): Promise<LocalRunRecord> {
    let record = this.#records.get(dir);
    if (!record) {
      record = readRecord(dir, namespace);
      this.#records.set(dir, record);
      // A failed read is tried again next time (the run may not be written yet).
      record.catch(() => this.#records.delete(dir));
    }
    return record;
  }
}

async function logFiles(dir: string, plugin?: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  if (!plugin || plugin === 'fathom' || plugin === 'sonobuoy')
    out.push(['aggregator', join(dir, files.log)]);
  const podsDir = join(dir, files.pods);
  const plugins = await readdir(podsDir).catch(() => [] as string[]);
  for (const p of plugins.sort()) {
    if (plugin && plugin !== p) continue;
    for (const node of (await readdir(join(podsDir, p)).catch(() => [] as string[])).sort()) {
      for (const container of ['plugin', 'sonobuoy-worker']) {
        const path = join(podsDir, p, node, `${container}.log`);
        if (
          await stat(path).then(
            () => true,
            () => false,
          )
        )
          out.push([`${p}/${node}/${container}`, path]);
      }
    }
  }
  return out;
}
