import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import type { E2eFlagOptions } from '../builtins.js';
import { openBackend, type ClusterOptions, type Io } from '../context.js';
import {
  applyFlags,
  clusterFlags,
  e2eFlags,
  imageFlags,
  localClusterFlags,
  outputFlag,
  positiveInt,
  runFlags,
  sessionsNamespaceFlag,
  type FlagSpec,
} from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

interface RunOptions extends ClusterOptions, Omit<E2eFlagOptions, 'imagePullPolicy'> {
  timeout: number;
  maxResultSize: number;
  wait?: number | true;
  output: OutputFormat;
  pool?: string;
  poolNodes?: number;
  poolPriority: number;
  poolLabel: string;
  resources?: string[];
  config?: string;
}

const labelValue = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Runs on a pool (README: runs on a pool): admitted with sessions through the same reservations. */
const poolFlags: readonly FlagSpec[] = [
  {
    flags: '--pool <name>',
    description: 'run only on the nodes of this pool, once no session or run holds them',
    parse: (v: string) => {
      if (!labelValue.test(v)) {
        throw new FathomError('FATHOM_BAD_FLAG_VALUE', `--pool: "${v}" is not a label value`);
      }
      return v;
    },
  },
  {
    flags: '--pool-nodes <count>',
    description: 'with --pool: how many of its nodes (default: all of them)',
    parse: positiveInt('--pool-nodes'),
  },
  {
    flags: '--pool-priority <n>',
    description: "with --pool: the claim's priority among sessions and runs (higher first)",
    default: '0',
    parse: (v: string) => {
      if (!/^-?\d{1,9}$/.test(v)) {
        throw new FathomError(
          'FATHOM_BAD_FLAG_VALUE',
          `--pool-priority: "${v}" is not a whole number`,
        );
      }
      return Number(v);
    },
  },
  {
    flags: '--pool-label <key>',
    description: 'the node label whose value names a node pool',
    default: 'pool',
  },
];

/** The validated --pool request; FATHOM_USAGE where it cannot apply. */
function poolRequest(options: RunOptions) {
  if (options.pool === undefined) {
    if (options.poolNodes !== undefined) {
      throw new FathomError('FATHOM_USAGE', '--pool-nodes needs --pool');
    }
    return undefined;
  }
  return {
    name: options.pool,
    ...(options.poolNodes !== undefined ? { nodes: options.poolNodes } : {}),
    priority: options.poolPriority,
    labelKey: options.poolLabel,
  };
}

export function registerRun(program: Command, io: Io): void {
  const cmd = program
    .command('run')
    .description('run plugins on every node and gather their results (Sonobuoy-compatible plugins)')
    .action(async (options: RunOptions, command: Command) => {
      // Loaded here, not at start-up: every other command would pay for them.
      const [{ loadRunPlugins }, { followRun }, { renderStatus, runFailed }] = await Promise.all([
        import('../builtins.js'),
        import('../reporters/progress.js'),
        import('../reporters/status.js'),
      ]);
      // Validate everything before anything starts: bad input exits 2 with nothing to clean up.
      const pool = poolRequest(options);
      // --from repeats a past run's plugins and worker image: read before the backend opens.
      const repeated = options.from
        ? await loadRunPlugins(options, io, () => Promise.resolve(''))
        : undefined;
      const pastImage = repeated?.past;
      if (pastImage?.image && !options.image) options.image = pastImage.image;
      if (pastImage?.imagePullPolicy && !options.imagePullPolicy) {
        options.imagePullPolicy = pastImage.imagePullPolicy;
      }
      const backend = await openBackend(options, io);
      // e2e's image is tagged with the cluster's version unless --kubernetes-version names one.
      const { plugins, past } =
        repeated ?? (await loadRunPlugins(options, io, () => backend.kubernetesVersion()));
      // --from: the past run's timeout too, unless given here.
      const given = (flag: string): boolean => command.getOptionValueSource(flag) === 'cli';
      const timeoutMs =
        past?.timeoutMs !== undefined && !given('timeout') ? past.timeoutMs : options.timeout;
      const { snapshotSettings } = await import('../snapshot-settings.js');
      const snapshot = await snapshotSettings(
        io,
        options.config,
        past?.snapshot,
        options.resources,
      );
      if (options.from) {
        io.err(`Repeating the run of ${options.from}: ${plugins.map((p) => p.name).join(', ')}.\n`);
      }
      const kubernetesVersion =
        options.kubernetesVersion !== undefined
          ? (await import('../../plugin/builtin.js')).conformanceVersion(options.kubernetesVersion)
          : undefined;
      // Ctrl-C while the run waits for its pool takes its claim back.
      const giveUp = new AbortController();
      const onSignal = (): void => giveUp.abort();
      if (pool) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);
      let info;
      try {
        info = await backend.start(
          {
            namespace: options.namespace,
            plugins,
            timeoutMs,
            maxResultBytes: options.maxResultSize,
            ...(pool ? { pool } : {}),
            ...(kubernetesVersion ? { kubernetesVersion } : {}),
            ...(snapshot ? { snapshot } : {}),
          },
          { progress: (line) => io.err(`${line}\n`), signal: giveUp.signal },
        );
      } finally {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
      }
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
  applyFlags(cmd, [
    ...runFlags,
    ...e2eFlags,
    ...poolFlags,
    sessionsNamespaceFlag,
    ...clusterFlags,
    ...imageFlags,
    ...localClusterFlags,
    outputFlag,
  ]);
}
