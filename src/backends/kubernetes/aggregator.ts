/**
 * `fathom aggregator`: what runs in the aggregator pod. It reads the run's ConfigMaps, launches
 * the plugins as Pods and DaemonSets, gathers their results over mutual TLS, publishes status
 * in the pod's annotation, adds the cluster snapshot, packs the tarball and serves it to `fathom retrieve` until stopped.
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { withPartialSnapshot } from '../../aggregation/partial.js';
import { runAggregation } from '../../aggregation/run.js';
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { createRunCa } from '../../core/pki.js';
import { parsePluginDocuments } from '../../plugin/loader.js';
import type { PluginDefinition } from '../../plugin/types.js';
import { postProcessAndSummarize } from '../../results/index.js';
import { partialTarballName, tarballName, writeResultsTarball } from '../../results/tarball.js';
import { createKubeClient, type KubeClient } from './api/client.js';
import { resolveKubeconfig } from './api/kubeconfig.js';
import { AGGREGATOR_CONFIG_DIR, AGGREGATOR_OUTPUT_DIR, AGGREGATOR_PLUGINS_DIR } from './names.js';
import { startResultsServer } from './results-server.js';
import { DEFAULT_SNAPSHOT_CONFIG, sonobuoyConfigKeys } from '../../snapshot/config.js';
import { collectClusterSnapshot } from './snapshot-collect.js';
import { writeClusterHealth } from '../../snapshot/health-file.js';
import { CONFIG_KEY, parseRunConfig } from './runconfig.js';
import { createStatusAnnotationWriter, KubernetesPluginRuntime } from './runtime.js';

export interface KubernetesAggregatorOptions {
  /**
   * POD_NAME, POD_NAMESPACE, POD_UID, POD_IP, FATHOM_RETRIEVE_TOKEN, and where the ConfigMaps are
   * mounted: FATHOM_CONFIG_DIR (config.json), FATHOM_PLUGINS_DIR, FATHOM_OUTPUT_DIR.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** Stops the run (or, once it is done, the serving of its tarball). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** The API client; by default from the pod's service account (or $KUBECONFIG). */
  readonly client?: KubeClient;
  /** Keep serving the tarball after the run until `signal` aborts (the pod's way); default true. */
  readonly serveUntilStopped?: boolean;
  /** Where both listeners bind; the pod's IP by default (pods that share a host must not take 0.0.0.0). */
  readonly bindHost?: string;
  /** Monitor settings (tests shorten them). */
  readonly monitorIntervalMs?: number;
  readonly noPodGraceMs?: number;
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const v = env[name]?.trim();
  if (!v) {
    throw new FathomError(
      'FATHOM_CONFIG_INVALID',
      `${name}: required in the aggregator pod but not set`,
      {
        details: { variable: name },
      },
    );
  }
  return v;
}

/** The plugin files of the `fathom-plugins` ConfigMap, in their `plugin-<i>.yaml` order. */
async function loadPlugins(dir: string): Promise<PluginDefinition[]> {
  const files = (await readdir(dir)).filter((f) => /^plugin-\d+\.yaml$/.test(f));
  files.sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  const plugins: PluginDefinition[] = [];
  for (const f of files) {
    plugins.push(
      ...parsePluginDocuments(await readFile(join(dir, f), 'utf8'), join(dir, f)).plugins,
    );
  }
  return plugins;
}

/** Runs the aggregator pod's work; resolves to the process exit code. */
export async function runKubernetesAggregator(
  options: KubernetesAggregatorOptions,
): Promise<number> {
  const env = options.env ?? process.env;
  const clock = options.clock;
  const configDir = env.FATHOM_CONFIG_DIR ?? AGGREGATOR_CONFIG_DIR;
  const pluginsDir = env.FATHOM_PLUGINS_DIR ?? AGGREGATOR_PLUGINS_DIR;
  const outputDir = env.FATHOM_OUTPUT_DIR ?? AGGREGATOR_OUTPUT_DIR;
  await mkdir(outputDir, { recursive: true });
  const runLog = join(outputDir, 'run.log');
  const logger =
    options.logger ??
    pino(
      {},
      pino.multistream([
        { stream: pino.destination(1) },
        { stream: pino.destination({ dest: runLog, sync: true }) },
      ]),
    );
  const config = parseRunConfig(await readFile(join(configDir, CONFIG_KEY), 'utf8'));
  const plugins = await loadPlugins(pluginsDir);
  const pod = { name: required(env, 'POD_NAME'), uid: required(env, 'POD_UID') };
  const podIp = required(env, 'POD_IP');
  const token = required(env, 'FATHOM_RETRIEVE_TOKEN');
  const client = options.client ?? createKubeClient(resolveKubeconfig({ env }));
  const bindHost = options.bindHost ?? podIp;

  let tarball: { name: string; path: string } | undefined;
  const tlsCa = await createRunCa({ now: clock.now() });
  const snapshot = config.snapshot ?? DEFAULT_SNAPSHOT_CONFIG;
  const runConfig = {
    uuid: config.uuid,
    namespace: config.namespace,
    timeoutMs: config.timeoutMs,
    maxResultBytes: config.maxResultBytes,
    bindHost,
    bindPort: config.uploadPort,
    advertiseHost: podIp,
    workerImage: config.image,
    imagePullPolicy: config.imagePullPolicy,
    snapshotConfig: sonobuoyConfigKeys(snapshot),
  };
  const resultsDir = join(outputDir, config.uuid);
  const results = await startResultsServer({
    host: bindHost,
    port: config.resultsPort,
    token,
    tls: await tlsCa.serverCert([podIp, 'localhost']),
    tarball: () => tarball,
    partial: () =>
      withPartialSnapshot(
        {
          outputDir: resultsDir,
          scratchParent: outputDir,
          plugins,
          config: runConfig,
          nodes: [],
          postProcess: postProcessAndSummarize,
          logger,
        },
        async (root) => {
          const name = partialTarballName(new Date(clock.now()), config.uuid);
          const path = join(outputDir, `.${name}`);
          return { name, path, ...(await writeResultsTarball(root, path)) };
        },
      ),
  });
  let snapshotTaken = false;
  const takeSnapshot = async (root: string): Promise<void> => {
    snapshotTaken = true;
    // Each query records its own failure; anything else is logged: the snapshot never fails a run.
    await collectClusterSnapshot({
      client,
      root,
      config: snapshot,
      namespace: config.namespace,
      clock,
      logger,
    }).catch((err: unknown) => logger.error({ err }, 'cluster snapshot failed'));
  };
  const runtime = new KubernetesPluginRuntime({
    client,
    config,
    owner: pod,
    clock,
    logger,
    ...(options.monitorIntervalMs ? { monitorIntervalMs: options.monitorIntervalMs } : {}),
    ...(options.noPodGraceMs !== undefined ? { noPodGraceMs: options.noPodGraceMs } : {}),
  });
  try {
    const outcome = await runAggregation({
      runtime,
      plugins,
      config: runConfig,
      outputDir: resultsDir,
      // On the pod's volume: a restarted container resumes from it.
      journalFile: join(outputDir, 'journal.jsonl'),
      clock,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
      publish: createStatusAnnotationWriter({
        client,
        namespace: config.namespace,
        pod: pod.name,
        clock,
        logger,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
      postProcess: postProcessAndSummarize,
      // The cluster as the plugins left it, beside their results (what reviewers read): taken
      // before the plugins' pods are removed, as Sonobuoy does, so their logs are in it.
      beforeCleanup: takeSnapshot,
      pack: async (root) => {
        // A restarted aggregator that found every result in already skipped that step.
        if (!snapshotTaken) await takeSnapshot(root);
        await writeClusterHealth(root, (error) => logger.warn({ error }, 'no clusterhealth.json'));
        await copyFile(runLog, join(root, 'meta', 'run.log')).catch(() => undefined);
        const created = new Date(clock.now());
        const name = tarballName(created, config.uuid);
        const path = join(outputDir, name);
        const { sha256, size } = await writeResultsTarball(root, path);
        tarball = { name, path };
        return { name, created: created.toISOString().replace(/\.\d+Z$/, 'Z'), sha256, size };
      },
    });
    logger.info({ tarball: outcome.tarInfo.name }, 'run complete');
    if (options.serveUntilStopped ?? true) await untilAborted(options.signal);
    return 0;
  } catch (err) {
    logger.error({ err }, 'run stopped');
    return 1;
  } finally {
    await results.close();
    if (!options.client) client.close();
    logger.flush();
  }
}

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise<void>(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
