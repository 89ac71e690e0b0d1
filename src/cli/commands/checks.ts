/**
 * `fathom checks up|down|state|results|rebalance|isolate`: cluster checks on a backend — the
 * dispatcher replicas and one agent per node — and what they report.
 */
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ChecksSettings } from '../../backends/checks.js';
import type { Strategy } from '../../checks/dispatch/placement.js';
import { FathomError } from '../../core/errors.js';
import { dispatchTuningFlags } from '../checks/flags.js';
import type { ClusterOptions, Io } from '../context.js';
import { applyFlags, clusterFlags, duration, outputFlag, positiveInt } from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

interface UpOptions extends ClusterOptions {
  file?: string;
  replicas: number;
  nodeExpiration: number;
  warmup: number;
  unscheduledThreshold: number;
  rebalancePeriod: number;
  strategy: Strategy;
  minImprovement: number;
  leaseDuration: number;
  leaseRenew: number;
  poll: number;
  workers: number;
}

async function backendOf(options: ClusterOptions, io: Io) {
  const { openChecksBackend } = await import('../checks/backend.js');
  return openChecksBackend(options, io);
}

async function stateView(options: ClusterOptions, io: Io) {
  const [backend, { checksStateView }] = await Promise.all([
    backendOf(options, io),
    import('../reporters/checks.js'),
  ]);
  const replicas = await backend.replicas();
  if (replicas.every((r) => r.error)) {
    throw new FathomError(
      'FATHOM_DISPATCHER_UNAVAILABLE',
      `no dispatcher replica answers: ${replicas.map((r) => `${r.name}: ${r.error}`).join('; ')}`,
    );
  }
  return checksStateView(replicas);
}

async function now(): Promise<number> {
  return (await import('../../core/clock.js')).systemClock.now();
}

export function registerChecks(program: Command, io: Io): void {
  const checks = program
    .command('checks')
    .enablePositionalOptions()
    .description('cluster checks: continuous checks spread over node agents, each on one node');

  applyFlags(
    checks
      .command('up')
      .description('start the dispatcher replicas and one agent per node')
      .option('-f, --file <dir>', 'directory of check config files (watched)')
      .action(async (o: UpOptions) => {
        let configsDir: string | undefined;
        if (o.file) {
          configsDir = resolve(io.cwd, o.file);
          const info = await stat(configsDir).catch(() => undefined);
          if (!info?.isDirectory()) {
            throw new FathomError('FATHOM_BAD_FLAG_VALUE', `-f ${o.file}: not a directory`, {
              details: { flag: '-f', value: o.file },
            });
          }
          const { loadCheckDir } = await import('../../checks/config/index.js');
          for (const e of (await loadCheckDir(configsDir)).errors)
            io.err(`warning: ${e.message}\n`);
        }
        const settings: ChecksSettings = {
          replicas: o.replicas,
          nodeExpirationMs: o.nodeExpiration,
          warmupMs: o.warmup,
          unscheduledThresholdMs: o.unscheduledThreshold,
          rebalancePeriodMs: o.rebalancePeriod,
          strategy: o.strategy,
          minImprovementPercent: o.minImprovement,
          leaseDurationMs: o.leaseDuration,
          leaseRenewMs: o.leaseRenew,
          pollMs: o.poll,
          workers: o.workers,
        };
        const backend = await backendOf(o, io);
        const info = await backend.up({ ...(configsDir ? { configsDir } : {}), settings });
        if (info.restarted) {
          io.err(
            `Restarted ${info.restarted.join(', ')} at their addresses; the rest were running.\n`,
          );
          return;
        }
        io.err(
          `Started ${info.replicas.length} dispatcher replica(s) and ${info.agents.length} agent(s) (${info.agents.map((a) => a.node).join(', ')}) on the ${backend.name} backend; check configs from ${info.configs}.\n` +
            `Follow them with \`fathom checks state\`.\n`,
        );
      }),
    [
      {
        flags: '--replicas <count>',
        description: 'dispatcher replicas (one leads)',
        default: '2',
        parse: positiveInt('--replicas'),
      },
      ...dispatchTuningFlags,
      {
        flags: '--poll <duration>',
        description: "agents' poll period",
        default: '10s',
        parse: duration('--poll'),
      },
      {
        flags: '--workers <count>',
        description: 'checks an agent runs at once at most',
        default: '4',
        parse: positiveInt('--workers'),
      },
      ...clusterFlags,
    ],
  );

  applyFlags(
    checks
      .command('down')
      .description('stop the dispatcher replicas and agents and remove their state')
      .action(async (o: ClusterOptions) => {
        const stopped = await (await backendOf(o, io)).down();
        io.err(
          stopped.length ? `Stopped ${stopped.join(', ')}.\n` : 'No cluster checks were running.\n',
        );
      }),
    clusterFlags,
  );

  applyFlags(
    checks
      .command('state')
      .description("the leader's view: nodes and their checks, dangling checks, warmup, term")
      .action(async (o: ClusterOptions & { output: OutputFormat }) => {
        const { renderChecksState } = await import('../reporters/checks.js');
        io.out(renderChecksState(await stateView(o, io), o.output, await now()));
      }),
    [...clusterFlags, outputFlag],
  );

  applyFlags(
    checks
      .command('results')
      .argument('[name]', 'only this check')
      .description('each check instance: its node and its last run')
      .action(async (name: string | undefined, o: ClusterOptions & { output: OutputFormat }) => {
        const { checkResults, renderCheckResults } = await import('../reporters/checks.js');
        const view = await stateView(o, io);
        if (view.leader === undefined) {
          throw new FathomError(
            'FATHOM_DISPATCHER_UNAVAILABLE',
            `no replica leads yet (${view.not_running}): try again shortly`,
          );
        }
        io.out(renderCheckResults(checkResults(view, name), o.output, await now()));
      }),
    [...clusterFlags, outputFlag],
  );

  applyFlags(
    checks
      .command('rebalance')
      .description('rebalance checks over the nodes now (--force: even when not worth it)')
      .option('--force', 'apply the proposed placement even if it does not improve enough')
      .action(async (o: ClusterOptions & { force?: boolean; output: OutputFormat }) => {
        const moves = await (await backendOf(o, io)).rebalance(o.force ?? false);
        if (o.output !== 'table') {
          const { renderData } = await import('../reporters/status.js');
          io.out(renderData(moves, o.output));
          return;
        }
        io.out(
          moves.length
            ? `${moves.map((m) => `${m.check_name} (${m.digest}): ${m.source_node_name} -> ${m.dest_node_name}`).join('\n')}\n`
            : 'Nothing moved.\n',
        );
      }),
    [...clusterFlags, outputFlag],
  );

  applyFlags(
    checks
      .command('isolate')
      .argument('<id>', 'check instance ID (see `fathom checks results`)')
      .description('move every other check off the node that runs this one')
      .action(async (id: string, o: ClusterOptions & { output: OutputFormat }) => {
        const answer = await (await backendOf(o, io)).isolate(id);
        if (o.output !== 'table') {
          const { renderData } = await import('../reporters/status.js');
          io.out(renderData(answer, o.output));
          return;
        }
        if (!answer.is_isolated) {
          // An ID the leader does not know is the caller's mistake; too few nodes is not.
          const unknown = /unable to find/i.test(answer.reason);
          throw new FathomError(
            unknown ? 'FATHOM_BAD_FLAG_VALUE' : 'FATHOM_DISPATCHER_UNAVAILABLE',
            `${id}: not isolated: ${answer.reason}${unknown ? ' (see `fathom checks results`)' : ''}`,
          );
        }
        io.out(`${id} is alone on ${answer.check_node}.\n`);
      }),
    [...clusterFlags, outputFlag],
  );
}
