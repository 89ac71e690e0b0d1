import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { loadRunCa, saveRunCa, type KeyPair } from '../core/pki.js';
import { nodeMatches, type ClusterNode } from '../core/nodes.js';
import { expectedResults } from '../plugin/expected-results.js';
import type { ExpectedResult, PluginDefinition } from '../plugin/types.js';
import { createAggregator, type Aggregator } from './aggregator.js';
import { writeMeta } from './meta.js';
import { openJournal, readJournal, type JournalState, type JournalWriter } from './journal.js';
import { aggregatorJournal, reconcile } from './recovery.js';
import { RunCredentials } from './credentials.js';
import { CoalescingPublisher, STATUS_WRITE_INTERVAL_MS } from './publisher.js';
import type { PluginRuntime } from './runtime.js';
import { startAggregationServer } from './server.js';
import { TIMEOUT_ERROR_MESSAGE, type RunPhase, type RunStatus, type TarInfo } from './types.js';

/** Settings of one run, as the user chose them. */
export interface RunConfig {
  readonly uuid: string;
  readonly namespace: string;
  /** Per-plugin time to wait for results; 0 waits forever. */
  readonly timeoutMs: number;
  readonly bindHost: string;
  readonly bindPort: number;
  /** The host workers dial; it is also the server certificate's subject alternative name. */
  readonly advertiseHost: string;
  readonly maxResultBytes?: number;
  /** The worker image and its pull policy, for definition.json (none on the local backend). */
  readonly workerImage?: string;
  readonly imagePullPolicy?: string;
  /** The cluster snapshot's keys of meta/config.json (Resources, Filters, Limits), when one is taken. */
  readonly snapshotConfig?: Readonly<Record<string, unknown>>;
}

/** A post-processed plugin: its verdict per node (`global` for a Job). */
export type PluginVerdicts = (node: string) => { status: string; counts: Record<string, number> };

export interface RunAggregationOptions {
  readonly runtime: PluginRuntime;
  readonly plugins: readonly PluginDefinition[];
  readonly config: RunConfig;
  /** The results tree: becomes the tarball. */
  readonly outputDir: string;
  /**
   * Where the aggregator journals its state (outside the results tree). When it already holds
   * a journal, the run resumes from it: a crashed aggregator's restart.
   */
  readonly journalFile?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Where status snapshots go: a file for the local backend, a pod annotation on Kubernetes. */
  readonly publish: (status: RunStatus) => Promise<void>;
  /** Turns a plugin's raw results into its verdicts (writes sonobuoy_results.yaml). */
  readonly postProcess?: (root: string, plugin: PluginDefinition) => Promise<PluginVerdicts>;
  /** Packs the results tree; returns the tarball's facts. */
  readonly pack: (root: string) => Promise<TarInfo>;
  /**
   * Runs once every result is in, before the plugins are cleaned up: Sonobuoy queries the
   * cluster then, so its snapshot still holds the plugins' pods and their logs. Its failure is
   * logged, never the run's.
   */
  readonly beforeCleanup?: (root: string) => Promise<void>;
  /** Upload idle timeout and deadline (defaults in aggregator.ts). */
  readonly uploadIdleMs?: number;
  readonly uploadDeadlineMs?: number;
  /** Least time between status writes; default STATUS_WRITE_INTERVAL_MS. */
  readonly statusIntervalMs?: number;
}

export interface RunOutcome {
  readonly status: RunStatus;
  readonly tarInfo: TarInfo;
}

/** Beside the journal: the run CA (key included, mode 0600), for a resumed aggregator. */
const CA_FILE = 'run-ca.json';

const emptyTarInfo: TarInfo = { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 };

/**
 * Runs plugins and gathers their results, as Sonobuoy's aggregator does: expect results, serve
 * uploads over mutual TLS, launch the plugins group by group, turn Monitor problems and timeouts
 * into error results, then post-process and pack everything into one tarball. With a journal
 * left by an aggregator that died, it resumes: same expected results, same port, plugins that
 * were launched are adopted rather than started again, and their timeouts keep their deadlines.
 */
export async function runAggregation(options: RunAggregationOptions): Promise<RunOutcome> {
  const { runtime, plugins, config, outputDir, clock, logger } = options;
  const nodes = await runtime.listNodes();
  await mkdir(outputDir, { recursive: true });
  const previous = options.journalFile ? await readJournal(options.journalFile) : undefined;
  const expected = previous?.expected ?? plugins.flatMap((p) => expectedResults(p, nodes));
  const restored = previous ? await reconcile(previous, outputDir) : undefined;
  const journal = options.journalFile
    ? await openJournal(options.journalFile, previous)
    : undefined;
  if (previous) logger.info({ accepted: restored?.results.size }, 'resuming from the journal');
  const aggregator = createAggregator({
    outputDir,
    expected,
    clock,
    ...(config.maxResultBytes ? { maxResultBytes: config.maxResultBytes } : {}),
    ...(options.uploadIdleMs ? { uploadIdleMs: options.uploadIdleMs } : {}),
    ...(options.uploadDeadlineMs ? { uploadDeadlineMs: options.uploadDeadlineMs } : {}),
    ...(journal ? { journal: aggregatorJournal(journal) } : {}),
    ...(restored ? { restored } : {}),
  });

  let phase: RunPhase = 'running';
  let tarInfo = emptyTarInfo;
  const verdicts = new Map<string, PluginVerdicts>();
  const snapshot = (): RunStatus => ({
    plugins: aggregator.entries().map((e) => {
      const v = verdicts.get(e.plugin)?.(e.node);
      return v ? { ...e, 'result-status': v.status, 'result-counts': v.counts } : e;
    }),
    status: phase,
    'tar-info': tarInfo,
  });
  const publisher = new CoalescingPublisher(options.publish, {
    clock,
    minIntervalMs: options.statusIntervalMs ?? STATUS_WRITE_INTERVAL_MS,
    onError: (err) => logger.warn({ err }, 'could not publish status'),
  });
  const unsubscribe = aggregator.onChange(() => void publisher.push(snapshot()));
  await publisher.push(snapshot());

  try {
    await gather({ ...options, nodes, expected, aggregator, journal, previous });
    options.signal?.throwIfAborted();

    phase = 'post-processing';
    journal?.append({ t: 'phase', phase });
    await publisher.flush(snapshot());
    for (const plugin of plugins) {
      if (!options.postProcess) break;
      try {
        verdicts.set(plugin.name, await options.postProcess(outputDir, plugin));
      } catch (err) {
        logger.error({ err, plugin: plugin.name }, 'post-processing failed');
      }
    }
    await writeMeta(outputDir, plugins, config, nodes);
    tarInfo = await options.pack(outputDir);
    phase = 'complete';
    journal?.append({ t: 'phase', phase, tarInfo }, { sync: true });
  } finally {
    journal?.close();
  }
  unsubscribe();
  const status = snapshot();
  await publisher.flush(status);
  return { status, tarInfo };
}

interface GatherOptions extends RunAggregationOptions {
  readonly nodes: readonly ClusterNode[];
  readonly expected: readonly ExpectedResult[];
  readonly aggregator: Aggregator;
  readonly journal: JournalWriter | undefined;
  readonly previous: JournalState | undefined;
}

/** Serves uploads and runs the plugins group by group until every result is in. */
async function gather(options: GatherOptions): Promise<void> {
  const { runtime, plugins, config, clock, logger, aggregator, journal, previous } = options;
  if (aggregator.isComplete()) return; // resumed after the last result: straight to packing
  // A resumed aggregator continues with the run's CA: workers trust it and hold its certificates.
  const caFile = options.journalFile ? join(dirname(options.journalFile), CA_FILE) : undefined;
  const credentials = await RunCredentials.create({
    clock,
    logger,
    timeoutMs: config.timeoutMs,
    groups: orderGroups(plugins).length,
    hosts: [...new Set([config.advertiseHost, '127.0.0.1', 'localhost'])],
    ...(previous && caFile ? { ca: await loadRunCa(caFile) } : {}),
  });
  if (caFile) await saveRunCa(credentials.ca, caFile);
  const server = await startAggregationServer({
    aggregator,
    tls: credentials.serverTls(),
    host: config.bindHost,
    // Workers hold the URL they were given: a resumed aggregator listens where the first did.
    port: previous?.port ?? config.bindPort,
    logger,
  });
  if (!previous) {
    journal?.append(
      {
        t: 'start',
        at: clock.now(),
        uuid: config.uuid,
        port: server.port,
        expected: options.expected,
      },
      { sync: true },
    );
  }
  const aggregatorUrl = `https://${urlHost(config.advertiseHost)}:${server.port}`;
  logger.info(
    { url: aggregatorUrl, expected: options.expected.length, resumed: Boolean(previous) },
    'aggregator listening',
  );

  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort(); // stopped while the server was starting
  // Renewal matters only to a run that outlives its certificates: one without a timeout.
  const renewing = credentials.maintain(
    {
      setServerTls: (tls) => server.setTls(tls),
      renewClient: async (name, material) => {
        const plugin = plugins.find((p) => p.name === name);
        if (plugin) await runtime.renewCredentials?.(plugin, material);
      },
    },
    stop.signal,
  );
  const watchers: Promise<void>[] = [];
  try {
    for (const group of orderGroups(plugins)) {
      const names = new Set(group.map((p) => p.name));
      const open = (): boolean => aggregator.pending().some((e) => names.has(e.plugin));
      for (const plugin of group) {
        const launchedAt = previous?.launched.get(plugin.name);
        if (launchedAt === undefined && !open()) continue;
        if (launchedAt === undefined)
          journal?.append({ t: 'launch', plugin: plugin.name, at: clock.now() });
        watchers.push(
          launchAndWatch(
            plugin,
            options.expected.filter((e) => e.plugin === plugin.name),
            options.nodes,
            {
              runtime,
              aggregator,
              clock,
              logger,
              signal: stop.signal,
              timeoutMs: config.timeoutMs,
              launchedAt: launchedAt ?? clock.now(),
              adopt: launchedAt !== undefined,
              context: { runId: config.uuid, aggregatorUrl, caPem: credentials.ca.caPem },
              clientCert: () => credentials.clientCert(plugin.name),
            },
          ),
        );
      }
      await waitUntil(aggregator, () => !open(), stop.signal);
    }
  } finally {
    stop.abort();
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled([...watchers, renewing]);
    await server.close();
    if (options.beforeCleanup && aggregator.isComplete() && !options.signal?.aborted) {
      await options.beforeCleanup(options.outputDir).catch((err: unknown) => {
        logger.error({ err }, 'before-cleanup step failed');
      });
    }
    await Promise.allSettled(plugins.filter((p) => !p.skipCleanup).map((p) => runtime.cleanup(p)));
  }
}

interface WatchDeps {
  runtime: PluginRuntime;
  aggregator: Aggregator;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  timeoutMs: number;
  /** When the plugin was (or is now) launched: its timeout counts from here. */
  launchedAt: number;
  /** The plugin was launched by an aggregator before a restart: adopt its pods. */
  adopt: boolean;
  context: { runId: string; aggregatorUrl: string; caPem: string };
  clientCert(): Promise<KeyPair>;
}

async function launchAndWatch(
  plugin: PluginDefinition,
  expected: readonly ExpectedResult[],
  nodes: readonly ClusterNode[],
  deps: WatchDeps,
): Promise<void> {
  const { runtime, aggregator, clock, logger, signal } = deps;
  const fail = async (
    node: string,
    error: string,
    details?: Readonly<Record<string, unknown>>,
    preempt = false,
  ) => {
    if (await aggregator.recordError(plugin.name, node, { error, ...details }, { preempt })) {
      logger.warn({ plugin: plugin.name, node, error }, 'plugin error result');
    }
  };
  try {
    const context = {
      ...deps.context,
      clientCert: await deps.clientCert(),
      nodes: nodes.filter((n) => nodeMatches(plugin, n)),
    };
    await (deps.adopt ? runtime.adopt(plugin, context) : runtime.launch(plugin, context));
  } catch (err) {
    // Sonobuoy drops a DaemonSet's launch error and waits for the timeout; fathom records it at once.
    const error = `Failed to launch plugin ${plugin.name}: ${messageOf(err)}`;
    for (const e of expected) await fail(e.node, error);
    return;
  }
  const timeout = async (): Promise<void> => {
    if (deps.timeoutMs <= 0) return;
    await clock.sleep(deps.launchedAt + deps.timeoutMs - clock.now(), signal);
    const late = aggregator.pending().filter((e) => e.plugin === plugin.name);
    if (late.length) logger.warn({ plugin: plugin.name }, 'Timeout occurred when running plugins');
    // The timeout wins over an upload still trickling in: that upload is cut off.
    for (const e of late) await fail(e.node, TIMEOUT_ERROR_MESSAGE, undefined, true);
  };
  const monitor = async (): Promise<void> => {
    if (signal.aborted) return;
    for await (const problem of runtime.monitor(plugin, expected, signal)) {
      await fail(problem.node, problem.error, problem.details);
    }
  };
  await Promise.allSettled([timeout(), monitor()]);
}

/** Resolves once `done()` holds, re-checking after every aggregator change. */
function waitUntil(
  aggregator: Aggregator,
  done: () => boolean,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!done()) return;
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const unsubscribe = aggregator.onChange(check);
    const cleanup = (): void => {
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Plugins run in groups by ascending `order`; a group starts when the previous one is done. */
export function orderGroups(plugins: readonly PluginDefinition[]): PluginDefinition[][] {
  const byOrder = new Map<number, PluginDefinition[]>();
  for (const p of plugins) byOrder.set(p.order, [...(byOrder.get(p.order) ?? []), p]);
  return [...byOrder.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, group]) => group.sort((a, b) => a.name.localeCompare(b.name)));
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
