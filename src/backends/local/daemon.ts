import { copyFile } from 'node:fs/promises';
import {
  DEFAULT_SNAPSHOT_CONFIG,
  readSnapshotConfig,
  sonobuoyConfigKeys,
  type SnapshotConfig,
} from '../../snapshot/config.js';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { runAggregation, type PluginVerdicts, type RunConfig } from '../../aggregation/run.js';
import type { Clock } from '../../core/clock.js';
import type { PluginDefinition } from '../../plugin/types.js';
import { NodeHostClient } from './nodehost/client.js';
import { socketPathOf } from './nodehost/protocol.js';
import { startNodeHost } from './nodehost/spawn.js';
import { PidRegistry } from './process/pidfile.js';
import { LocalPluginRuntime } from './runtime.js';
import {
  files,
  LOCAL_KUBERNETES_VERSION,
  readRecord,
  writeJsonAtomic,
  type LocalRunRecord,
} from './store.js';

/**
 * The local aggregator: what Sonobuoy's aggregator pod does, as a detached process that owns
 * one run directory. It exits when the run is complete or when it is told to stop.
 */
export async function runLocalAggregator(runDir: string, clock: Clock): Promise<number> {
  // Atomic: `fathom status` in another process must never read a half-written pid.
  await writeJsonAtomic(join(runDir, files.daemonPid), process.pid);
  const record = await readRecord(runDir, '?');
  const logger = pino(
    { base: { run: record.uuid } },
    pino.destination({ dest: join(runDir, files.log), sync: true }),
  );
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => stop.abort(new Error(`stopped by ${sig}`)));
  const host = new NodeHostClient({
    socketPath: socketPathOf(runDir),
    start: () => startNodeHost(runDir, new PidRegistry(join(runDir, files.pids))),
    clock,
  });
  // The host boots (or, after a restart, is found) while the aggregator makes its CA and listens.
  host.warmUp();
  const runtime = new LocalPluginRuntime({
    runDir,
    nodes: record.nodes,
    host,
    clock,
    logger,
    terminatedGraceMs: record.terminatedGraceMs,
    workerPollInterval: '100ms',
    kubernetesVersion: record.kubernetesVersion ?? LOCAL_KUBERNETES_VERSION,
  });
  try {
    const outcome = await runAggregation({
      runtime,
      plugins: record.plugins,
      config: runConfigOf(record),
      outputDir: join(runDir, files.results),
      journalFile: join(runDir, files.journal),
      clock,
      logger,
      signal: stop.signal,
      publish: (status) => writeJsonAtomic(join(runDir, files.status), status),
      postProcess,
      pack: async (root) => {
        const { tarballName, writeResultsTarball } = await import('../../results/tarball.js');
        // The cluster as the plugins left it, then Sonobuoy's health summary of it.
        const { writeLocalSnapshot } = await import('./snapshot.js');
        const { writeClusterHealth } = await import('../../snapshot/health-file.js');
        await writeLocalSnapshot(root, {
          runDir,
          record,
          config: snapshotConfigOf(record),
          clock,
          home: dirname(dirname(runDir)),
        }).catch((err: unknown) => logger.warn({ err }, 'cluster snapshot incomplete'));
        await writeClusterHealth(root, (error) => logger.warn({ error }, 'no clusterhealth.json'));
        await copyFile(join(runDir, files.log), join(root, 'meta', 'run.log'));
        const created = new Date(clock.now());
        const name = tarballName(created, record.uuid);
        const { sha256, size } = await writeResultsTarball(root, join(runDir, name));
        return { name, created: created.toISOString().replace(/\.\d+Z$/, 'Z'), sha256, size };
      },
    });
    logger.info({ tarball: outcome.tarInfo.name }, 'run complete');
    if (record.pool) {
      // The pool's nodes go back to sessions and runs waiting for them.
      const { releaseClaim } = await import('./sessions/run-claims.js');
      await releaseClaim(runDir).catch((err: unknown) =>
        logger.error({ err }, 'cannot remove the pool claim; the controller frees it'),
      );
    }
    return 0;
  } catch (err) {
    logger.error({ err }, 'run stopped');
    return 1;
  } finally {
    await runtime.close();
    logger.flush();
  }
}

/** What the run's snapshot collects: run.json's keys, checked as they are read back. */
function snapshotConfigOf(record: LocalRunRecord): SnapshotConfig {
  if (!record.snapshot) return DEFAULT_SNAPSHOT_CONFIG;
  return readSnapshotConfig(record.snapshot, {
    where: 'run.json snapshot',
    code: 'FATHOM_STATE_INVALID',
  });
}

/** A local run's settings as the aggregator takes them: everything on loopback, any free port. */
export function runConfigOf(record: LocalRunRecord): RunConfig {
  return {
    snapshotConfig: sonobuoyConfigKeys(snapshotConfigOf(record)),
    uuid: record.uuid,
    namespace: record.namespace,
    timeoutMs: record.timeoutMs,
    maxResultBytes: record.maxResultBytes,
    bindHost: '127.0.0.1',
    bindPort: 0,
    advertiseHost: '127.0.0.1',
  };
}

/** Writes sonobuoy_results.yaml and gives the verdict per node (the whole tree for a Job). */
export async function postProcess(root: string, plugin: PluginDefinition): Promise<PluginVerdicts> {
  // Loaded when the first result is in, not while the aggregator starts (a third of its start-up).
  const { postProcessAndSummarize } = await import('../../results/index.js');
  return postProcessAndSummarize(root, plugin);
}
