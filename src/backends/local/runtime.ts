import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LaunchContext, MonitorError, PluginRuntime } from '../../aggregation/runtime.js';
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import type { KeyPair } from '../../core/pki.js';
import { writeTlsDir } from '../../core/tls-files.js';
import { AsyncQueue } from '../../core/queue.js';
import type { ClusterNode } from '../../core/nodes.js';
import {
  blockingTaint,
  formatTaint,
  jobNode,
  unschedulableMessage,
} from '../../plugin/tolerations.js';
import { terminatedMessage as sonobuoyTerminatedMessage } from '../../worker/container-state.js';
import { GLOBAL_NODE, type ExpectedResult, type PluginDefinition } from '../../plugin/types.js';
import type { NodeHostClient } from './nodehost/client.js';
import { PidRegistry } from './process/pidfile.js';
import { LocalPod, type ContainerState, type PodEvent } from './process/pod.js';
import { localPodName } from './store.js';

export interface LocalRuntimeOptions {
  readonly runDir: string;
  readonly nodes: readonly ClusterNode[];
  /** Where the workers run: the run's node host. */
  readonly host: NodeHostClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a terminated container may go without a result before it is an error (Sonobuoy: 5 min). */
  readonly terminatedGraceMs: number;
  /** Passed to the worker: how often it looks for the done file. */
  readonly workerPollInterval: string;
  /** The plugins' SONOBUOY_K8S_VERSION. */
  readonly kubernetesVersion?: string;
}

const WORKER = 'sonobuoy-worker';
const PLUGIN = 'plugin';
/** Pods started at once: their file writes and spawns overlap, their order does not matter. */
const START_CONCURRENCY = 16;
/** How long `cleanup` waits for a stopped worker to end before it goes on. */
const STOP_GRACE_MS = 2000;

/**
 * Runs each plugin container as a local process group on a simulated node, and its worker
 * sidecar as an instance in the run's node host (one process for every pod's worker).
 */
export class LocalPluginRuntime implements PluginRuntime {
  readonly #pods = new Map<string, LocalPod[]>();
  /** Every pod by name: where the node host's worker states go. */
  readonly #byName = new Map<string, LocalPod>();
  readonly #pids: PidRegistry;
  readonly #problems = new Map<string, AsyncQueue<MonitorError>>();
  /**
   * Each plugin's workers' TLS directory, written once (every pod of a plugin has the same
   * client certificate) and rewritten on renewal.
   */
  readonly #tlsDirs = new Map<string, Promise<string>>();
  /** Aborted on cleanup, so pending grace timers do not outlive the run. */
  readonly #stopped = new AbortController();

  constructor(private readonly options: LocalRuntimeOptions) {
    this.#pids = new PidRegistry(join(options.runDir, 'pids'));
    options.host.onState((pod, state) => this.#byName.get(pod)?.setState(WORKER, state));
  }

  /** Cancels pending grace timers and stops the node host once every plugin is cleaned up. */
  async close(): Promise<void> {
    this.#stopped.abort();
    await this.options.host.shutdown();
  }

  listNodes(): Promise<ClusterNode[]> {
    return Promise.resolve([...this.options.nodes]);
  }

  launch(plugin: PluginDefinition, context: LaunchContext): Promise<void> {
    return this.#place(plugin, context, new Map());
  }

  /**
   * After an aggregator restart: pods whose processes are recorded in the run's pid directory
   * are taken over by pid; a placement with none (the crash came before it started) is started.
   */
  async adopt(plugin: PluginDefinition, context: LaunchContext): Promise<void> {
    const recorded = new Map<string, Map<string, number>>();
    for (const [pid, owner] of await this.#pids.read()) {
      const [pod, container] = owner.split('/');
      if (!pod || !container) continue; // the node host, adopted by connecting to it
      if (!recorded.has(pod)) recorded.set(pod, new Map());
      recorded.get(pod)!.set(container, pid);
    }
    // Workers outlive the aggregator in the node host: it replays their states.
    await this.options.host.attach();
    return this.#place(plugin, context, recorded);
  }

  async #place(
    plugin: PluginDefinition,
    context: LaunchContext,
    recorded: ReadonlyMap<string, ReadonlyMap<string, number>>,
  ): Promise<void> {
    const problems = this.#queue(plugin.name);
    if (plugin.container.command.length === 0) {
      throw new FathomError(
        'FATHOM_PLUGIN_INVALID',
        `${plugin.source.file}: spec.command is empty: the local backend runs commands, not an image's entrypoint`,
      );
    }
    const job = plugin.driver === 'Job';
    const placements = job
      ? [{ node: jobNode(plugin, this.options.nodes), key: GLOBAL_NODE }]
      : context.nodes.map((n) => ({ node: n, key: n.name }));
    const pods: LocalPod[] = [];
    this.#pods.set(plugin.name, pods);
    let next = 0;
    const place = async (): Promise<void> => {
      for (let i = next++; i < placements.length; i = next++) {
        const { node, key } = placements[i]!;
        if (!node) {
          const why = unschedulableMessage(plugin, this.options.nodes);
          problems.push({ node: key, error: `Can't schedule pod: ${why}` });
          continue;
        }
        // As the DaemonSet controller: no pod where a taint is not tolerated, and Sonobuoy's hint.
        const taint = job ? undefined : blockingTaint(plugin, node);
        if (taint) {
          problems.push({
            node: key,
            error: `No pod was scheduled on node ${node.name}: its taint ${formatTaint(taint)} is not tolerated. Check tolerations for plugin ${plugin.name}`,
          });
          continue;
        }
        const name = localPodName(plugin.name, plugin.driver === 'Job', node.name);
        const pod = new LocalPod(
          name,
          node.name,
          join(this.options.runDir, 'pods', plugin.name, key),
          this.#pids,
        );
        this.#byName.set(name, pod);
        pods.push(pod);
        pod.onEvent((e) => {
          if (e.container !== WORKER) this.#tellHost(pod);
        });
        const pids = recorded.get(name);
        try {
          if (pids) await this.#adoptPod(pod, context, plugin, pids);
          else await this.#startPod(pod, plugin, context);
        } catch (err) {
          next = placements.length; // the launch fails: start no more of its pods
          throw err;
        }
        this.#watchPod(pod, key, problems);
      }
    };
    await Promise.all(Array.from({ length: START_CONCURRENCY }, place));
  }

  async *monitor(
    plugin: PluginDefinition,
    _expected: readonly ExpectedResult[],
    signal: AbortSignal,
  ): AsyncIterable<MonitorError> {
    yield* this.#queue(plugin.name).drain(signal);
  }

  async renewCredentials(
    plugin: PluginDefinition,
    material: { readonly caPem: string; readonly clientCert: KeyPair },
  ): Promise<void> {
    const dir = await this.#tlsDirs.get(plugin.name)?.catch(() => undefined);
    if (dir) await writeTlsDir(dir, { caPem: material.caPem, ...material.clientCert });
  }

  async cleanup(plugin: PluginDefinition): Promise<void> {
    const pods = this.#pods.get(plugin.name) ?? [];
    this.#queue(plugin.name).end();
    const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
      this.options.clock.sleep(ms, signal);
    await Promise.all(
      pods.map(async (p) => {
        this.options.host.stopWorker(p.name);
        await Promise.all([p.stop(STOP_GRACE_MS, sleep), this.#workerEnded(p)]);
      }),
    );
    // The workers are gone: their keys need not outlive them.
    const dir = await this.#tlsDirs.get(plugin.name)?.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  #queue(plugin: string): AsyncQueue<MonitorError> {
    let q = this.#problems.get(plugin);
    if (!q) this.#problems.set(plugin, (q = new AsyncQueue()));
    return q;
  }

  async #startPod(pod: LocalPod, plugin: PluginDefinition, ctx: LaunchContext): Promise<void> {
    const dir = pod.dir;
    const results = join(dir, 'results');
    const config = join(dir, 'config');
    const work = join(dir, 'work');
    await Promise.all([results, config, work].map((d) => mkdir(d, { recursive: true })));
    for (const [file, contents] of Object.entries(plugin.configMap)) {
      await writeFile(join(config, file), contents);
    }
    // Outside the pod's directory and named only in the worker's config: the plugin is not told.
    const tlsDir = await this.#tlsDir(plugin, ctx);
    const pluginDir = plugin.source.file.startsWith('<')
      ? process.cwd()
      : dirname(resolve(plugin.source.file));
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? work,
      TMPDIR: work,
      SONOBUOY: 'true',
      SONOBUOY_K8S_VERSION: this.options.kubernetesVersion ?? '',
      SONOBUOY_RESULTS_DIR: results,
      RESULTS_DIR: results,
      SONOBUOY_CONFIG_DIR: config,
      NODE_NAME: pod.node,
      FATHOM_PLUGIN_DIR: pluginDir,
    };
    const pluginEnv = Object.fromEntries(plugin.container.env.map((e) => [e.name, e.value]));
    const [command, ...commandArgs] = plugin.container.command;
    const cwd =
      plugin.container.workingDir && isAbsolute(plugin.container.workingDir)
        ? plugin.container.workingDir
        : work;
    // The worker goes first and the plugin is given its relay's port once it listens, so that
    // a quick plugin's progress updates are not lost to a relay that is still starting.
    const { port } = await this.options.host.startWorker({
      pod: pod.name,
      mode: plugin.driver === 'Job' ? 'global' : 'single-node',
      // What `fathom worker` reads from its environment in a pod.
      env: {
        ...pluginEnv,
        ...base,
        AGGREGATOR_URL: ctx.aggregatorUrl,
        RESULT_TYPE: plugin.name,
        FATHOM_TLS_DIR: tlsDir,
        // A shell's `echo path > done` creates the file before it writes the path: a done file
        // read at once can be empty (seen under load at 500 nodes). Sonobuoy waits 5 s.
        SONOBUOY_DONE_FILE_DELAY: '100ms',
        FATHOM_POLL_INTERVAL: this.options.workerPollInterval,
        FATHOM_CONTAINER_CHECK_INTERVAL: this.options.workerPollInterval,
        FATHOM_POD_STATUS_FILE: pod.statusFile,
        FATHOM_EXIT_CODE_VERDICT: String(plugin.exitCodeVerdict),
      },
      logFile: pod.logFile(WORKER),
    });
    await pod.start({
      name: PLUGIN,
      command: /^\.\.?\//.test(command!) ? resolve(pluginDir, command!) : command!,
      args: [...commandArgs, ...plugin.container.args],
      env: { ...base, SONOBUOY_PROGRESS_PORT: String(port), ...pluginEnv },
      cwd,
    });
    this.options.logger.info({ pod: pod.name, node: pod.node }, 'pod started');
  }

  async #adoptPod(
    pod: LocalPod,
    ctx: LaunchContext,
    plugin: PluginDefinition,
    pids: ReadonlyMap<string, number>,
  ): Promise<void> {
    // Fresh certificates from the same CA, where the worker reads them on its next attempt.
    await this.#tlsDir(plugin, ctx);
    const sleep = (ms: number): Promise<void> => this.options.clock.sleep(ms, this.#stopped.signal);
    for (const [container, pid] of pids) pod.adopt(container, pid, sleep);
    // A worker the host does not know (the host died meanwhile) is gone without a word.
    pod.setState(
      WORKER,
      this.options.host.stateOf(pod.name) ?? {
        state: 'terminated',
        exitCode: null,
        signal: null,
        reason: 'Unknown',
        message: 'ended while the aggregator was restarting; its exit code is unknown',
      },
    );
    this.options.logger.info({ pod: pod.name, node: pod.node }, 'pod adopted');
  }

  /** Writes the plugin's TLS directory the first time one of its pods needs it. */
  #tlsDir(plugin: PluginDefinition, ctx: LaunchContext): Promise<string> {
    let dir = this.#tlsDirs.get(plugin.name);
    if (!dir) {
      const path = join(this.options.runDir, 'tls', plugin.name);
      dir = writeTlsDir(path, { caPem: ctx.caPem, ...ctx.clientCert }).then(() => path);
      this.#tlsDirs.set(plugin.name, dir);
    }
    return dir;
  }

  /** The pod's containers but the worker, as its worker sees them (as `status.json` has them). */
  #tellHost(pod: LocalPod): void {
    const containers = [...pod.states]
      .filter(([name]) => name !== WORKER)
      .map(([name, s]) =>
        s.state === 'terminated'
          ? {
              name,
              terminated: true,
              exitCode: s.exitCode ?? 128,
              reason: s.reason,
              message: s.message,
            }
          : { name, terminated: false },
      );
    this.options.host.setContainers(pod.name, containers);
  }

  /** Resolves when the pod's worker has ended, or after the stop grace period. */
  #workerEnded(pod: LocalPod): Promise<void> {
    if (pod.states.get(WORKER)?.state !== 'running') return Promise.resolve();
    const timer = new AbortController();
    return new Promise<void>((resolveEnded) => {
      const off = pod.onEvent((e) => {
        if (e.container === WORKER && e.state.state === 'terminated') done();
      });
      const done = (): void => {
        off();
        timer.abort();
        resolveEnded();
      };
      this.options.clock.sleep(STOP_GRACE_MS, timer.signal).then(done, () => undefined);
    });
  }

  /**
   * A container that ends and is not followed by a result within the grace period is an error.
   * The worker gets no grace: it exits only after its upload was answered, or after giving up.
   */
  #watchPod(pod: LocalPod, key: string, problems: AsyncQueue<MonitorError>): void {
    const report = (e: PodEvent): void => {
      if (e.state.state !== 'terminated') return;
      const state = e.state;
      // A plugin that completed leaves the rest to its worker, whose own exit is reported;
      // a worker that never reports is caught by the plugin timeout.
      if (e.container !== WORKER && state.exitCode === 0) return;
      const grace = e.container === WORKER ? 0 : this.options.terminatedGraceMs;
      this.options.clock.sleep(grace, this.#stopped.signal).then(
        () =>
          problems.push({
            node: key,
            error: terminatedMessage(e.container, state),
            details: {
              pod: { name: pod.name, node: pod.node, containers: Object.fromEntries(pod.states) },
            },
          }),
        () => undefined, // the run ended first
      );
    };
    pod.onEvent(report);
    for (const [container, state] of pod.states) report({ container, state });
  }
}

/** Sonobuoy's wording for a container that stopped without results. */
export function terminatedMessage(
  container: string,
  s: Extract<ContainerState, { state: 'terminated' }>,
): string {
  const code = s.exitCode ?? (s.signal ? 128 + signalNumber(s.signal) : 128);
  return sonobuoyTerminatedMessage(container, code, s.reason, s.message);
}

function signalNumber(signal: string): number {
  const numbers: Record<string, number> = {
    SIGKILL: 9,
    SIGTERM: 15,
    SIGINT: 2,
    SIGSEGV: 11,
    SIGABRT: 6,
  };
  return numbers[signal] ?? 0;
}
