import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import { examplePluginsDir, openBackend, type ClusterOptions, type Io } from '../context.js';
import {
  applyFlags,
  clusterFlags,
  imageFlags,
  localClusterFlags,
  outputFlag,
  runFlags,
} from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

interface RunOptions extends ClusterOptions {
  plugin?: string[];
  pluginEnv?: string[];
  timeout: number;
  maxResultSize: number;
  wait?: number | true;
  output: OutputFormat;
}

export function registerRun(program: Command, io: Io): void {
  const cmd = program
    .command('run')
    .description('run plugins on every node and gather their results (Sonobuoy-compatible plugins)')
    .action(async (options: RunOptions) => {
      // Loaded here, not at start-up: every other command would pay for them.
      const [
        { applyPluginEnv, assertRunSize, loadPluginPaths },
        { followRun },
        { renderStatus, runFailed },
      ] = await Promise.all([
        import('../../plugin/loader.js'),
        import('../reporters/progress.js'),
        import('../reporters/status.js'),
      ]);
      // Validate everything before anything starts: bad input exits 2 with nothing to clean up.
      const refs = options.plugin?.length ? options.plugin : [examplePluginsDir];
      const loaded = await loadPluginPaths(refs, { builtinDir: examplePluginsDir, cwd: io.cwd });
      for (const w of loaded.warnings) io.err(`warning: ${w}\n`);
      const plugins = applyPluginEnv(loaded.plugins, options.pluginEnv ?? []);
      // --plugin-env adds to what run.json stores: bound the set as it is stored.
      assertRunSize(plugins);
      const backend = await openBackend(options, io);
      const info = await backend.start({
        namespace: options.namespace,
        plugins,
        timeoutMs: options.timeout,
        maxResultBytes: options.maxResultSize,
      });
      io.err(
        `Run ${info.uuid} started in namespace "${info.namespace}" with ${plugins.length} plugin(s) on the ${backend.name} backend.\n`,
      );
      if (options.wait === undefined) {
        io.err(`Follow it with \`fathom status -n ${info.namespace}\`.\n`);
        return;
      }
      const waitMs = options.wait === true ? 0 : options.wait;
      const signal = waitMs > 0 ? AbortSignal.timeout(waitMs) : undefined;
      let last;
      try {
        last = await followRun(backend.watch(info.namespace, signal), io.isTTY, (line) =>
          io.err(`${line}\n`),
        );
      } catch (err) {
        if (signal?.aborted) {
          throw new FathomError(
            'FATHOM_TIMEOUT',
            `the run did not finish within --wait; it goes on: see \`fathom status -n ${info.namespace}\``,
            { cause: err },
          );
        }
        throw err;
      }
      if (!last) return;
      io.out(renderStatus(last, options.output, { namespace: info.namespace }));
      if (runFailed(last)) {
        throw new FathomError(
          'FATHOM_RUN_FAILED',
          last.status === 'failed'
            ? `run ${info.uuid}: the aggregator stopped before the run finished and could not be restarted; \`fathom resume -n ${info.namespace}\` tries again, \`fathom retrieve --partial\` gives what was accepted`
            : `run ${info.uuid}: a plugin failed or timed out`,
        );
      }
    });
  applyFlags(cmd, [...runFlags, ...clusterFlags, ...imageFlags, ...localClusterFlags, outputFlag]);
}
