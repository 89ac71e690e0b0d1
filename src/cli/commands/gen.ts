import type { Command } from 'commander';
import type { RawChecksOptions } from '../../backends/kubernetes/checks/options.js';
import type { RawSessionsOptions } from '../../backends/kubernetes/sessions/options.js';
import { systemClock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import type { E2eFlagOptions } from '../builtins.js';
import type { Io } from '../context.js';
import {
  applyFlags,
  e2eFlags,
  imageFlags,
  runFlags,
  SESSIONS_NAMESPACE,
  type FlagSpec,
} from '../flags.js';

interface GenRunOptions extends E2eFlagOptions {
  namespace: string;
  timeout: number;
  maxResultSize: number;
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  aggregatorNodeSelector?: Record<string, string>;
  resources?: string[];
  config?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** gen does not reach the cluster, so it cannot ask for its version. */
const noClusterVersion = (): Promise<string> =>
  Promise.reject(
    new FathomError(
      'FATHOM_USAGE',
      'gen cannot ask the cluster for its version: give --kubernetes-version for the e2e plugin',
    ),
  );

/** `gen plugin e2e|systemd-logs`: the flags that shape a built-in plugin's definition. */
const genBuiltinFlags: readonly FlagSpec[] = [
  ...e2eFlags,
  ...runFlags.filter((f) => f.flags.startsWith('--plugin-env')),
  ...imageFlags.filter((f) => f.flags.startsWith('--image-pull-policy')),
];

/** `gen sessions`: checked by the backend's `sessionsSpec`, so they arrive as text. */
const genSessionsFlags: readonly FlagSpec[] = [
  {
    flags: '-n, --namespace <name>',
    description: 'namespace of the session controller and the Session objects',
    default: SESSIONS_NAMESPACE,
  },
  { flags: '--image <image>', description: "fathom's image for the session controller" },
  { flags: '--image-pull-policy <policy>', description: 'Always, IfNotPresent or Never' },
  { flags: '--replicas <count>', description: 'controller replicas (one leads)', default: '2' },
  { flags: '--executors <count>', description: 'sessions running at once', default: '2' },
  {
    flags: '--pool-label <key>',
    description: 'the node label whose value names a node pool',
    default: 'pool',
  },
  {
    flags: '--node-selector <k=v>',
    description: 'place the controller replicas (repeatable)',
    parse: (v, prev) => collect(v, prev as string[] | undefined),
  },
  {
    flags: '--toleration <key[=value][:effect]>',
    description: 'controller toleration (repeatable)',
    parse: (v, prev) => collect(v, prev as string[] | undefined),
  },
];

export function registerGen(program: Command, io: Io): void {
  const gen = program
    .command('gen')
    // `gen plugin -n NAME`: options after the subcommand belong to it, not to `gen -n NS`.
    .enablePositionalOptions()
    .description(
      'print every manifest of a run for `kubectl apply -f -` (kubernetes backend), or a plugin definition',
    )
    .option('-n, --namespace <name>', 'namespace of the run', 'fathom')
    .action(async (o: GenRunOptions, command: Command) => {
      const [
        { loadRunPlugins },
        { generateRunYaml },
        { conformanceVersion },
        { snapshotSettings },
      ] = await Promise.all([
        import('../builtins.js'),
        import('../../backends/kubernetes/manifests.js'),
        import('../../plugin/builtin.js'),
        import('../snapshot-settings.js'),
      ]);
      const { plugins, past } = await loadRunPlugins(o, io, noClusterVersion);
      // --config's or --from's snapshot settings, with --resources over them.
      const snapshot = await snapshotSettings(io, o.config, past?.snapshot, o.resources);
      const version =
        o.kubernetesVersion !== undefined ? conformanceVersion(o.kubernetesVersion) : undefined;
      io.out(
        generateRunYaml(
          {
            namespace: o.namespace,
            plugins,
            // --from: the past run's timeout, worker image and pull policy unless given here.
            timeoutMs:
              past?.timeoutMs !== undefined && command.getOptionValueSource('timeout') !== 'cli'
                ? past.timeoutMs
                : o.timeout,
            maxResultBytes: o.maxResultSize,
            ...(snapshot ? { snapshot } : {}),
          },
          {
            ...((o.image ?? past?.image) ? { image: o.image ?? past?.image } : {}),
            ...((o.imagePullPolicy ?? past?.imagePullPolicy)
              ? { imagePullPolicy: o.imagePullPolicy ?? past?.imagePullPolicy }
              : {}),
            ...(version ? { kubernetesVersion: version } : {}),
            ...(o.aggregatorNodeSelector
              ? { aggregatorNodeSelector: o.aggregatorNodeSelector }
              : {}),
          },
        ),
      );
    });
  applyFlags(
    gen,
    [...runFlags, ...e2eFlags, ...imageFlags].filter((f) => !f.flags.startsWith('--wait')),
  );
  gen
    .command('checks')
    .description(
      'print the objects of cluster checks (kubernetes backend) for `kubectl apply -f -`',
    )
    .option('-n, --namespace <name>', 'namespace of the dispatcher and agents', 'fathom-checks')
    .option('--image <image>', "fathom's image for the dispatcher and agents")
    .option('--image-pull-policy <policy>', 'Always, IfNotPresent or Never')
    .option('--replicas <count>', 'dispatcher replicas (one leads)', '2')
    .option('--strategy <name>', 'count, busyness, utilization or hashing')
    .option('--node-expiration <duration>', 'passed to the dispatcher (its default: 30s)')
    .option('--warmup <duration>', 'passed to the dispatcher (its default: 30s)')
    .option('--rebalance-period <duration>', 'passed to the dispatcher (its default: 10m)')
    .option('--poll <duration>', 'passed to the agents (their default: 10s)')
    .option(
      '--node-selector <k=v>',
      'run agents only on nodes with this label (repeatable)',
      collect,
    )
    .option(
      '--dispatcher-node-selector <k=v>',
      'place the dispatcher replicas (repeatable)',
      collect,
    )
    .option(
      '--toleration <key[=value][:effect]>',
      'agent toleration (repeatable; default: all)',
      collect,
    )
    .option('--dispatcher-url <url>', 'what agents dial (default: the fathom-checks Service)')
    .action(async (o: RawChecksOptions) => {
      const { generateChecksYaml } = await import('../../backends/kubernetes/checks/gen.js');
      io.out(await generateChecksYaml(o, { now: systemClock.now() }));
    });
  applyFlags(
    gen
      .command('sessions')
      .description(
        'print the Session CRD, RBAC and session controller (kubernetes backend) for `kubectl apply -f -`',
      )
      .action(async (o: RawSessionsOptions) => {
        const { generateSessionsYaml } = await import('../../backends/kubernetes/sessions/gen.js');
        io.out(generateSessionsYaml(o));
      }),
    genSessionsFlags,
  );
  const plugin = gen
    .command('plugin')
    .description('print a plugin definition (Sonobuoy format) for the given command')
    .option('-n, --name <name>', 'plugin name (a DNS subdomain; required)')
    .option('-i, --image <image>', 'container image (the local backend does not pull it)')
    .option('-t, --type <type>', 'job or daemonset', 'job')
    .option('-f, --format <format>', 'result format: junit, e2e, gojson, raw or manual', 'raw')
    .option('-c, --cmd <cmd>', 'command to run (repeatable)', collect)
    .option('-a, --arg <arg>', 'argument (repeatable)', collect)
    .option('-e, --env <K=V>', 'environment variable (repeatable)', collect)
    .option('--configmap <file>', 'file to mount in SONOBUOY_CONFIG_DIR (repeatable)', collect)
    .option('-D, --description <text>', 'description')
    .option('-u, --url <url>', 'source URL')
    .option('--node-selector <k=v>', 'only run on nodes with this label (repeatable)', collect)
    .option('--show-default-podspec', "include the driver's default podSpec")
    .action(
      async (o: {
        name?: string;
        image?: string;
        type: string;
        format: string;
        cmd?: string[];
        arg?: string[];
        env?: string[];
        configmap?: string[];
        description?: string;
        url?: string;
        nodeSelector?: string[];
        showDefaultPodspec?: boolean;
      }) => {
        // Checked here, not by commander: `gen plugin e2e` is a subcommand that has no -n.
        if (o.name === undefined)
          throw new FathomError(
            'FATHOM_USAGE',
            "required option '-n, --name <name>' not specified",
          );
        // Loaded here, not at start-up: every other command would pay for it.
        const { generatePluginDefinition } = await import('../../plugin/gen.js');
        io.out(
          await generatePluginDefinition({
            name: o.name,
            type: o.type,
            format: o.format,
            cwd: io.cwd,
            ...(o.image ? { image: o.image } : {}),
            ...(o.cmd ? { cmd: o.cmd } : {}),
            ...(o.arg ? { args: o.arg } : {}),
            ...(o.env ? { env: o.env } : {}),
            ...(o.configmap ? { configmap: o.configmap } : {}),
            ...(o.description ? { description: o.description } : {}),
            ...(o.url ? { url: o.url } : {}),
            ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
            ...(o.showDefaultPodspec ? { showDefaultPodspec: true } : {}),
          }),
        );
      },
    );
  for (const name of ['e2e', 'systemd-logs'] as const) {
    applyFlags(
      plugin
        .command(name)
        .description(
          `print the built-in ${name} plugin's definition for the given flags (as sonobuoy gen plugin ${name})`,
        )
        .action(async (o: E2eFlagOptions) => {
          const [{ loadRunPlugins }, { renderGoYaml }] = await Promise.all([
            import('../builtins.js'),
            import('../../plugin/render.js'),
          ]);
          // The document `gen` puts in the plugins ConfigMap, `-p NAME` as given here.
          const { plugins } = await loadRunPlugins({ ...o, plugin: [name] }, io, noClusterVersion);
          io.out(renderGoYaml(plugins[0]!.manifest));
        }),
      genBuiltinFlags,
    );
  }
}
