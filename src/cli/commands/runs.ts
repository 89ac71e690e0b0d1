import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import { openBackend, type ClusterOptions, type Io } from '../context.js';
import { applyFlags, clusterFlags, outputFlag, sessionsNamespaceFlag } from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

/** status, retrieve, delete and logs: the commands that act on an existing run. */
export function registerRunCommands(program: Command, io: Io): void {
  applyFlags(
    program
      .command('status')
      .description("show each plugin's status and progress (works while the run goes on)")
      .option('--show-all', 'one row per plugin and node')
      .action(async (options: ClusterOptions & { output: OutputFormat; showAll?: boolean }) => {
        const { renderStatus } = await import('../reporters/status.js');
        const backend = await openBackend(options, io);
        const status = await backend.status(options.namespace);
        io.out(
          renderStatus(status, options.output, {
            namespace: options.namespace,
            showAll: options.showAll ?? false,
          }),
        );
        if (status.status === 'failed') {
          throw new FathomError(
            'FATHOM_RUN_FAILED',
            `the run in namespace "${options.namespace}" failed`,
          );
        }
      }),
    [...clusterFlags, outputFlag, sessionsNamespaceFlag],
  );

  applyFlags(
    program
      .command('retrieve')
      .argument('[dir]', 'directory to write the results tarball into', '.')
      .description("copy the run's results tarball here and print its path")
      .option('--partial', 'for a run that is not complete: every result accepted so far')
      .action(async (dir: string, options: ClusterOptions & { partial?: boolean }) => {
        const backend = await openBackend(options, io);
        const partial = options.partial ?? false;
        io.out(`${await backend.retrieve(options.namespace, dir, { partial })}\n`);
      }),
    clusterFlags,
  );

  applyFlags(
    program
      .command('resume')
      .description(
        'restart the aggregator of a run whose aggregator died; it resumes from its journal',
      )
      .action(async (options: ClusterOptions) => {
        const backend = await openBackend(options, io);
        const outcome = await backend.resume(options.namespace);
        const ns = options.namespace;
        const said = {
          complete: `The run in namespace "${ns}" is complete: nothing to resume.`,
          running: `The aggregator of the run in namespace "${ns}" is running.`,
          restarted: `Restarted the aggregator of the run in namespace "${ns}"; it resumes where it stopped. Follow it with \`fathom status -n ${ns}\`.`,
        } as const;
        io.err(`${said[outcome]}\n`);
      }),
    clusterFlags,
  );

  applyFlags(
    program
      .command('delete')
      .description('stop everything the run started and remove its state')
      .option('--wait', 'return only once everything is gone (the local backend always does)')
      .option('--all', 'delete the runs in every namespace')
      .action(async (options: ClusterOptions & { wait?: boolean; all?: boolean }) => {
        const backend = await openBackend(options, io);
        const namespaces = options.all ? await backend.list() : [options.namespace];
        for (const ns of namespaces) {
          await backend.delete(ns, { wait: options.wait ?? false });
          io.err(`Deleted the run in namespace "${ns}".\n`);
        }
      }),
    [...clusterFlags, sessionsNamespaceFlag],
  );

  applyFlags(
    program
      .command('logs')
      .description('print the logs of the aggregator and of every plugin container')
      .option('-p, --plugin <name>', 'only this plugin (fathom = the aggregator)')
      .option('-f, --follow', 'keep printing until the run ends')
      .action(async (options: ClusterOptions & { plugin?: string; follow?: boolean }) => {
        const { formatLogLine } = await import('../reporters/logs.js');
        const backend = await openBackend(options, io);
        const stop = new AbortController();
        const onSigint = (): void => stop.abort();
        process.once('SIGINT', onSigint);
        try {
          for await (const { source, line } of backend.logs(options.namespace, {
            ...(options.plugin ? { plugin: options.plugin } : {}),
            follow: options.follow ?? false,
            signal: stop.signal,
          })) {
            io.out(`${formatLogLine(source, line)}\n`);
          }
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    clusterFlags,
  );
}
