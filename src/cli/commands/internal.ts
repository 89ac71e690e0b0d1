import { Option, type Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import type { Io } from '../context.js';

/** Commands fathom runs itself: the worker sidecar and the aggregator (a local process or a pod). */
export function registerInternal(program: Command, io: Io): void {
  program
    .command('worker')
    .description('the sidecar beside each plugin: waits for its done file and uploads its results')
    .argument('<mode>', 'global (a Job plugin) or single-node (a DaemonSet pod)')
    .addOption(
      new Option(
        '--sleep <seconds>',
        "after uploading, stay this long (-1 = until stopped, as Sonobuoy's DaemonSet worker)",
      ).argParser(Number),
    )
    .action(async (mode: string, options: { sleep?: number }) => {
      if (mode !== 'global' && mode !== 'single-node') {
        throw new FathomError(
          'FATHOM_USAGE',
          `worker mode must be global or single-node, not "${mode}"`,
        );
      }
      const [{ loadWorkerConfig }, { runWorker }, { systemClock }, { pino }] = await Promise.all([
        import('../../worker/config.js'),
        import('../../worker/worker.js'),
        import('../../core/clock.js'),
        import('pino'),
      ]);
      const config = loadWorkerConfig(mode, io.env);
      const logger = pino(
        { base: { plugin: config.pluginName, node: config.nodeName || 'global' } },
        pino.destination(2),
      );
      const stop = new AbortController();
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
      const sleep = options.sleep ?? (mode === 'single-node' ? -1 : 0);
      // In a pod, the no-done-file fallback reads the pod's own status from the API server
      // (the client library is loaded only then: the worker must start fast).
      const containerStates =
        config.podStatusFile || !io.env.SONOBUOY_PLUGIN_POD
          ? undefined
          : (await import('../../backends/kubernetes/runtime.js')).containerStateSourceFromEnv(
              io.env,
            );
      const outcome = await runWorker(
        config,
        {
          clock: systemClock,
          signal: stop.signal,
          logger,
          ...(containerStates ? { containerStates } : {}),
        },
        { stayAlive: false },
      );
      logger.info({ outcome }, 'worker done');
      if (sleep !== 0 && outcome.status !== 'aborted') {
        await systemClock
          .sleep(sleep < 0 ? 2 ** 31 - 1 : sleep * 1000, stop.signal)
          .catch(() => undefined);
      }
    });

  program
    .command('aggregator', { hidden: true })
    .description("the aggregator pod's process (kubernetes backend)")
    .action(async () => {
      const [{ runKubernetesAggregator }, { systemClock }] = await Promise.all([
        import('../../backends/kubernetes/aggregator.js'),
        import('../../core/clock.js'),
      ]);
      const stop = new AbortController();
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
      process.exitCode = await runKubernetesAggregator({
        env: io.env,
        signal: stop.signal,
        clock: systemClock,
      });
    });

  program
    .command('__aggregate', { hidden: true })
    .argument('<runDir>')
    .action(async (runDir: string) => {
      const [{ runLocalAggregator }, { systemClock }] = await Promise.all([
        import('../../backends/local/daemon.js'),
        import('../../core/clock.js'),
      ]);
      process.exitCode = await runLocalAggregator(runDir, systemClock);
    });

  program
    .command('__node-host', { hidden: true })
    .argument('<socket>')
    .action(async (socket: string) => {
      const [{ runNodeHost }, { systemClock }] = await Promise.all([
        import('../../backends/local/nodehost/host.js'),
        import('../../core/clock.js'),
      ]);
      process.exitCode = await runNodeHost(socket, systemClock);
    });
}
