import { connect, createServer } from 'node:net';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
import { LocalPod, signalGroup, type ContainerState, type PodEvent } from './pod.js';
import { localPodName } from './store.js';

export interface LocalRuntimeOptions {
  readonly runDir: string;
  readonly nodes: readonly ClusterNode[];
  /** How to start `fathom worker`: the node binary and the CLI entry script. */
  readonly workerCommand: readonly [string, ...string[]];
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a terminated container may go without a result before it is an error (Sonobuoy: 5 min). */
  readonly terminatedGraceMs: number;
  /** Passed to the worker: how often it looks for the done file. */
  readonly workerPollInterval: string;
}

const WORKER = 'sonobuoy-worker';
const PLUGIN = 'plugin';

/** Runs each plugin container and its worker as local processes on simulated nodes. */
export class LocalPluginRuntime implements PluginRuntime {
  readonly #pods = new Map<string, LocalPod[]>();
  readonly #problems = new Map<string, AsyncQueue<MonitorError>>();
  /** Each plugin's workers' TLS directories, rewritten on renewal. */
  readonly #tlsDirs = new Map<string, string[]>();
  /** Aborted on cleanup, so pending grace timers do not outlive the run. */
  readonly #stopped = new AbortController();

  constructor(private readonly options: LocalRuntimeOptions) {}

  /** Cancels pending grace timers once every plugin is cleaned up. */
  close(): void {
    this.#stopped.abort();
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
    const pidDir = join(this.options.runDir, 'pids');
    const recorded = new Map<string, Map<string, number>>();
    for (const file of await readdir(pidDir).catch(() => [] as string[])) {
      const owner = (await readFile(join(pidDir, file), 'utf8').catch(() => '')).trim();
      const [pod, container] = owner.split('/');
      if (!pod || !container || !/^\d+$/.test(file)) continue;
      if (!recorded.has(pod)) recorded.set(pod, new Map());
      recorded.get(pod)!.set(container, Number(file));
    }
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
    for (const { node, key } of placements) {
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
      let pids = recorded.get(name);
      if (pids && !pids.has(PLUGIN)) {
        // The crash came between the worker's start and the plugin's: start the pod whole again.
        await this.#discard(pids);
        pids = undefined;
      }
      const pod = pids
        ? await this.#adoptPod(plugin, context, node, key, pids)
        : await this.#startPod(plugin, context, node, key);
      pods.push(pod);
      this.#watchPod(pod, key, problems);
    }
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
    for (const dir of this.#tlsDirs.get(plugin.name) ?? []) {
      await writeTlsDir(dir, { caPem: material.caPem, ...material.clientCert });
    }
  }

  async cleanup(plugin: PluginDefinition): Promise<void> {
    const pods = this.#pods.get(plugin.name) ?? [];
    this.#queue(plugin.name).end();
    await Promise.all(pods.map((p) => p.stop(2000, (ms) => this.options.clock.sleep(ms))));
    // The workers are gone: their keys need not outlive them.
    const dirs = this.#tlsDirs.get(plugin.name) ?? [];
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }

  #queue(plugin: string): AsyncQueue<MonitorError> {
    let q = this.#problems.get(plugin);
    if (!q) this.#problems.set(plugin, (q = new AsyncQueue()));
    return q;
  }

  async #startPod(
    plugin: PluginDefinition,
    ctx: LaunchContext,
    node: ClusterNode,
    key: string,
  ): Promise<LocalPod> {
    const name = localPodName(plugin.name, plugin.driver === 'Job', node.name);
    const dir = join(this.options.runDir, 'pods', plugin.name, key);
    const pod = new LocalPod(name, node.name, dir, join(this.options.runDir, 'pids'));
    const results = join(dir, 'results');
    const config = join(dir, 'config');
    const work = join(dir, 'work');
    await Promise.all([results, config, work].map((d) => mkdir(d, { recursive: true })));
    for (const [file, contents] of Object.entries(plugin.configMap)) {
      await writeFile(join(config, file), contents);
    }
    // Outside the pod's directory and named only in the worker's env: the plugin is not told.
    const tlsDir = join(this.options.runDir, 'tls', plugin.name, key);
    await writeTlsDir(tlsDir, { caPem: ctx.caPem, ...ctx.clientCert });
    this.#tlsDirs.set(plugin.name, [...(this.#tlsDirs.get(plugin.name) ?? []), tlsDir]);
    const progressPort = await freePort();
    const pluginDir = plugin.source.file.startsWith('<')
      ? process.cwd()
      : dirname(resolve(plugin.source.file));
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? work,
      TMPDIR: work,
      SONOBUOY: 'true',
      SONOBUOY_K8S_VERSION: '',
      SONOBUOY_RESULTS_DIR: results,
      RESULTS_DIR: results,
      SONOBUOY_CONFIG_DIR: config,
      SONOBUOY_PROGRESS_PORT: String(progressPort),
      NODE_NAME: node.name,
      FATHOM_PLUGIN_DIR: pluginDir,
    };
    const pluginEnv = Object.fromEntries(plugin.container.env.map((e) => [e.name, e.value]));
    const [command, ...commandArgs] = plugin.container.command;
    const cwd =
      plugin.container.workingDir && isAbsolute(plugin.container.workingDir)
        ? plugin.container.workingDir
        : work;
    const [exe, ...entry] = this.options.workerCommand;
    // Listed before the worker starts: a worker orphaned before the plugin starts must not
    // read "no other containers" as "all of them completed" and send an empty result.
    pod.waiting(PLUGIN);
    await pod.start({
      name: WORKER,
      command: exe,
      args: [
        ...entry,
        'worker',
        plugin.driver === 'Job' ? 'global' : 'single-node',
        '--sleep',
        '0',
      ],
      env: {
        ...pluginEnv,
        ...base,
        AGGREGATOR_URL: ctx.aggregatorUrl,
        RESULT_TYPE: plugin.name,
        FATHOM_TLS_DIR: tlsDir,
        SONOBUOY_DONE_FILE_DELAY: '0s',
        FATHOM_POLL_INTERVAL: this.options.workerPollInterval,
        FATHOM_CONTAINER_CHECK_INTERVAL: this.options.workerPollInterval,
        FATHOM_POD_STATUS_FILE: pod.statusFile,
        FATHOM_EXIT_CODE_VERDICT: String(plugin.exitCodeVerdict),
      },
      cwd: work,
    });
    // The worker goes first and the plugin waits for its progress relay, so that a quick plugin's
    // progress updates are not lost to a relay that is still starting.
    await this.#waitForPort(progressPort);
    await pod.start({
      name: PLUGIN,
      command: /^\.\.?\//.test(command!) ? resolve(pluginDir, command!) : command!,
      args: [...commandArgs, ...plugin.container.args],
      env: { ...base, ...pluginEnv },
      cwd,
    });
    this.options.logger.info({ pod: name, node: node.name }, 'pod started');
    return pod;
  }

  async #adoptPod(
    plugin: PluginDefinition,
    ctx: LaunchContext,
    node: ClusterNode,
    key: string,
    pids: ReadonlyMap<string, number>,
  ): Promise<LocalPod> {
    const name = localPodName(plugin.name, plugin.driver === 'Job', node.name);
    const dir = join(this.options.runDir, 'pods', plugin.name, key);
    // Fresh certificates from the same CA, where the worker reads them on its next attempt.
    const tlsDir = join(this.options.runDir, 'tls', plugin.name, key);
    await writeTlsDir(tlsDir, { caPem: ctx.caPem, ...ctx.clientCert });
    this.#tlsDirs.set(plugin.name, [...(this.#tlsDirs.get(plugin.name) ?? []), tlsDir]);
    const pod = new LocalPod(name, node.name, dir, join(this.options.runDir, 'pids'));
    const sleep = (ms: number): Promise<void> => this.options.clock.sleep(ms, this.#stopped.signal);
    for (const [container, pid] of pids) pod.adopt(container, pid, sleep);
    this.options.logger.info({ pod: name, node: node.name }, 'pod adopted');
    return pod;
  }

  /** Stops the containers of a half-started pod and forgets their pids. */
  async #discard(pids: ReadonlyMap<string, number>): Promise<void> {
    for (const pid of pids.values()) {
      signalGroup(pid, 'SIGKILL');
      await rm(join(this.options.runDir, 'pids', String(pid)), { force: true });
    }
  }

  async #waitForPort(port: number): Promise<void> {
    const deadline = this.options.clock.now() + 5000;
    while (this.options.clock.now() < deadline && !this.#stopped.signal.aborted) {
      if (await canConnect(port)) return;
      await this.options.clock.sleep(20);
    }
    this.options.logger.warn({ port }, 'progress relay not listening; starting the plugin anyway');
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

/** A free loopback port for a pod's progress relay: pods here share one network, unlike Kubernetes pods. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}
