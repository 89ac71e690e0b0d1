import { createReadStream } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { FathomError, isFathomError, messageOf } from '../core/errors.js';
import { writeExitCode } from '../results/raw.js';
import type { WorkerConfig } from './config.js';
import { progressPath, resultPath } from './config.js';
import {
  allCompletedOk,
  createFileContainerStateSource,
  terminatedMessage,
} from './container-state.js';
import type { ContainerState, ContainerStateSource } from './container-state.js';
import {
  DONE_FILE,
  FALLBACK_TARBALL,
  doneFileExists,
  readDoneFile,
  resolveResult,
  tarDirectory,
} from './done-file.js';
import { silentLogger } from './logger.js';
import type { WorkerLogger } from './logger.js';
import { createMtlsClient, tlsDirSource } from '../core/mtls-client.js';
import type { MtlsClient } from '../core/mtls-client.js';
import { startProgressRelay } from './progress-relay.js';
import type { ProgressRelay } from './progress-relay.js';
import { DEFAULT_RETRY, contentDispositionFor, contentTypeFor, putWithRetry } from './upload.js';
import type { RetryPolicy, UploadBody, UploadResult } from './upload.js';

export { CONTAINER_CHECK_INTERVAL_MS } from './config.js';

export interface WorkerDeps {
  clock: Clock;
  /** Aborting stops the wait (outcome `aborted`) or ends the post-upload stay. */
  signal?: AbortSignal;
  logger?: WorkerLogger;
  /** Source for the no-done-file fallback; defaults to `config.podStatusFile` when set, else the fallback is off. */
  containerStates?: ContainerStateSource;
}

export interface RunWorkerOptions {
  /**
   * After delivering, wait until the signal aborts instead of returning (Sonobuoy's DaemonSet
   * worker sleeps forever so the pod does not restart). Default: true in single-node mode.
   * Without a signal this never returns.
   */
  stayAlive?: boolean;
  /** Run the progress relay on `config.progressPort` while working. Default true. */
  relay?: boolean;
  /** Called once the relay listens (useful with port 0). */
  onRelayListening?: (relay: ProgressRelay) => void;
  /** Called when the relay could not start (the worker carries on without it). */
  onRelayError?: (err: unknown) => void;
  retry?: RetryPolicy;
}

/** `uploaded`: the result went through. `error-reported`: the result could not be read and a JSON error body went instead. */
export type WorkerOutcomeStatus = 'uploaded' | 'error-reported' | 'aborted';

export interface WorkerOutcome {
  readonly status: WorkerOutcomeStatus;
  /** The aggregator URL the result (or error) was PUT to. */
  readonly url: string;
  /** The file sent (`uploaded`). */
  readonly file?: string;
  /** The message sent as `{"error": ...}` (`error-reported`). */
  readonly error?: string;
  /** The aggregator answered 409: it already had a result for this plugin and node. */
  readonly alreadyReceived: boolean;
  readonly attempts: number;
  /** The worker wrote the done file itself after the other containers finished. */
  readonly fallback: boolean;
}

interface Context {
  config: WorkerConfig;
  clock: Clock;
  signal: AbortSignal | undefined;
  logger: WorkerLogger;
  states: ContainerStateSource | undefined;
}

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return; // like Sonobuoy's --sleep=-1: forever
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Archives the whole results dir and names it in the done file, as Sonobuoy does when the plugin left none. */
async function writeFallbackDoneFile(ctx: Context): Promise<void> {
  const dir = ctx.config.resultsDir;
  const tarball = join(dir, FALLBACK_TARBALL);
  ctx.logger.info(
    { dir, tarball },
    'all other containers completed without a done file; sending the whole results directory',
  );
  await tarDirectory(dir, tarball);
  await writeFile(join(dir, DONE_FILE), tarball);
}

/**
 * For a plugin that opted in to `exit-code-verdict`: waits until the other containers have all
 * exited, records the plugin's exit code (the first non-zero one, else 0) beside its results and
 * names the archived results dir, instead of waiting for a done file.
 */
async function waitForExitCode(ctx: Context): Promise<{ named: string; fallback: boolean }> {
  const { config, clock, signal, logger, states } = ctx;
  if (!states) {
    throw new FathomError(
      'FATHOM_CONFIG_INVALID',
      'FATHOM_EXIT_CODE_VERDICT needs a source of container states',
    );
  }
  logger.info({}, 'waiting for the plugin to exit (exit-code verdict)');
  for (;;) {
    signal?.throwIfAborted();
    const others = await states.otherContainers().catch(() => undefined);
    if (others?.length && others.every((s) => s.terminated)) {
      const code = others.find((s) => s.exitCode !== 0)?.exitCode ?? 0;
      await writeExitCode(config.resultsDir, code);
      const tarball = join(config.resultsDir, FALLBACK_TARBALL);
      await tarDirectory(config.resultsDir, tarball);
      return { named: tarball, fallback: true };
    }
    await clock.sleep(config.containerCheckIntervalMs, signal);
  }
}

/** What the wait ends with: a result to send, or why there is none. */
type Waited = { named: string; fallback: boolean } | { stopped: string };

/** True when the plugin left nothing in the results dir but, perhaps, our own files. */
async function resultsDirEmpty(dir: string): Promise<boolean> {
  const names = await readdir(dir);
  return names.every((n) => n === DONE_FILE || n === FALLBACK_TARBALL);
}

/**
 * Why there is no result when the plugin exited 0 without writing anything: Sonobuoy's Monitor
 * words for a container that stopped without results (an empty archive would hide it). Like
 * the Monitor, it names the first such container.
 */
function stoppedWithoutResults(plugin: ContainerState): string {
  return terminatedMessage(
    plugin.name,
    plugin.exitCode ?? 0,
    plugin.reason ?? 'Completed',
    plugin.message ?? '',
  );
}

/** Resolves with the done file's trimmed contents once it has persisted for the done-file delay. */
async function waitForDoneFile(ctx: Context): Promise<Waited> {
  const { config, clock, signal, logger, states } = ctx;
  let nextCheck = clock.now() + config.containerCheckIntervalMs;
  let othersDone: readonly ContainerState[] | undefined;
  let fallback = false;
  logger.info({ doneFile: join(config.resultsDir, DONE_FILE) }, 'waiting for the done file');
  for (;;) {
    signal?.throwIfAborted();
    try {
      if (await doneFileExists(config.resultsDir)) {
        // Give a sidecar the chance to take the done file away for post-processing.
        await clock.sleep(config.doneFileDelayMs, signal);
        const named = await readDoneFile(config.resultsDir);
        if (named !== undefined) return { named, fallback };
        logger.debug({}, 'the done file was removed during the delay; waiting again');
      } else if (states && !fallback && clock.now() >= nextCheck) {
        nextCheck = clock.now() + config.containerCheckIntervalMs;
        if (othersDone) {
          // One more tick after seeing them finish, so a late done file still wins.
          const plugin = othersDone[0];
          if (plugin && (await resultsDirEmpty(config.resultsDir))) {
            return { stopped: stoppedWithoutResults(plugin) };
          }
          await writeFallbackDoneFile(ctx);
          fallback = true;
          continue;
        }
        const others = await states.otherContainers();
        othersDone = others !== undefined && allCompletedOk(others) ? others : undefined;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      logger.warn({ error: messageOf(err) }, 'could not check the done file; still waiting');
    }
    await clock.sleep(config.pollIntervalMs, signal);
  }
}

function fileBody(file: string, size: number): UploadBody {
  return {
    open: () => createReadStream(file),
    size,
    contentType: contentTypeFor(file),
    disposition: contentDispositionFor(file),
  };
}

function errorBody(message: string): UploadBody {
  const json = Buffer.from(JSON.stringify({ error: message }));
  // No file name: the aggregator stores it as `result`, as with Sonobuoy's worker.
  return { open: () => json, size: json.length, contentType: 'application/json' };
}

async function deliver(
  ctx: Context,
  client: MtlsClient,
  options: RunWorkerOptions,
): Promise<WorkerOutcome> {
  const url = new URL(resultPath(ctx.config), ctx.config.aggregatorUrl).toString();
  const deps = {
    clock: ctx.clock,
    logger: ctx.logger,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  const waited = ctx.config.exitCodeVerdict
    ? await waitForExitCode(ctx)
    : await waitForDoneFile(ctx);
  if ('stopped' in waited) {
    ctx.logger.error(
      { error: waited.stopped },
      'the plugin exited without a done file or any result; reporting the error',
    );
    const result = await putWithRetry(
      client,
      resultPath(ctx.config),
      errorBody(waited.stopped),
      deps,
      options.retry ?? DEFAULT_RETRY,
    );
    return {
      status: 'error-reported',
      url,
      error: waited.stopped,
      alreadyReceived: result.status === 'already-received',
      attempts: result.attempts,
      fallback: false,
    };
  }
  const { named, fallback } = waited;
  ctx.logger.info({ resultFile: named }, 'detected the done file; sending the result');
  let result: UploadResult;
  let sent: { file: string } | { error: string };
  try {
    const resolved = await resolveResult(ctx.config.resultsDir, named);
    sent = { file: resolved.file };
    result = await putWithRetry(
      client,
      resultPath(ctx.config),
      fileBody(resolved.file, resolved.size),
      deps,
      options.retry ?? DEFAULT_RETRY,
    );
  } catch (err) {
    if (ctx.signal?.aborted || isFathomError(err, 'FATHOM_UPLOAD_FAILED')) throw err;
    // The result cannot be read: tell the aggregator why instead of leaving it waiting.
    const error = messageOf(err);
    ctx.logger.error({ resultFile: named, error }, 'cannot send the result; reporting the error');
    sent = { error };
    result = await putWithRetry(
      client,
      resultPath(ctx.config),
      errorBody(error),
      deps,
      options.retry ?? DEFAULT_RETRY,
    );
  }
  const alreadyReceived = result.status === 'already-received';
  ctx.logger.info({ url, attempts: result.attempts, alreadyReceived }, 'result delivered');
  return {
    status: 'file' in sent ? 'uploaded' : 'error-reported',
    url,
    ...sent,
    alreadyReceived,
    attempts: result.attempts,
    fallback,
  };
}

/**
 * Sonobuoy's worker sidecar: waits for `<resultsDir>/done`, sends the result it names to the
 * aggregator over mutual TLS (a directory is archived first; an unreadable or out-of-bounds
 * path becomes a `{"error": ...}` body), and relays progress updates meanwhile. Throws
 * `FATHOM_UPLOAD_FAILED` when the aggregator refuses or stays unreachable.
 */
export async function runWorker(
  config: WorkerConfig,
  deps: WorkerDeps,
  options: RunWorkerOptions = {},
): Promise<WorkerOutcome> {
  const logger = deps.logger ?? silentLogger;
  const { tlsDir } = config;
  const client = createMtlsClient(
    config.aggregatorUrl,
    // Files are read on every attempt: a long run's certificates are renewed in place.
    tlsDir
      ? tlsDirSource(tlsDir)
      : { caPem: config.caPem, certPem: config.clientCertPem, keyPem: config.clientKeyPem },
  );
  const states =
    deps.containerStates ??
    (config.podStatusFile
      ? createFileContainerStateSource(config.podStatusFile, config.workerContainer)
      : undefined);
  const ctx: Context = { config, clock: deps.clock, signal: deps.signal, logger, states };

  let relay: ProgressRelay | undefined;
  if (options.relay !== false) {
    try {
      relay = await startProgressRelay({
        client,
        targetPath: progressPath(config),
        port: config.progressPort,
        logger,
      });
      options.onRelayListening?.(relay);
    } catch (err) {
      // Sonobuoy also carries on without progress updates: the result matters more.
      logger.error({ error: messageOf(err) }, 'progress relay not started');
      options.onRelayError?.(err);
    }
  }
  try {
    let outcome: WorkerOutcome;
    try {
      outcome = await deliver(ctx, client, options);
    } catch (err) {
      if (!deps.signal?.aborted) throw err;
      logger.info({}, 'stopped before a result was sent');
      const url = new URL(resultPath(config), config.aggregatorUrl).toString();
      return { status: 'aborted', url, alreadyReceived: false, attempts: 0, fallback: false };
    }
    if (options.stayAlive ?? config.mode === 'single-node') await untilAborted(deps.signal);
    return outcome;
  } finally {
    await relay?.close();
  }
}
