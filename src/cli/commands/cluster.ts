import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import { openBackend, type ClusterOptions, type Io } from '../context.js';
import { applyFlags, clusterFlags, outputFlag, type FlagSpec } from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

type Options = Omit<ClusterOptions, 'namespace' | 'nodes'>;

/** The backend flags without `-n`: a cluster holds every namespace. */
const backendFlags: readonly FlagSpec[] = clusterFlags.filter(
  (f) => !f.flags.includes('--namespace'),
);

const nodesFlag: FlagSpec = {
  flags: '--nodes <count>',
  description: 'how many nodes, named node-1 … node-N (default 3)',
  parse: (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--nodes: expected a whole number above 0, got "${value}"`,
      );
    }
    return Number(value);
  },
};

/** fathom never builds or removes a Kubernetes cluster: that is kind's, kubeadm's or a cloud's job. */
function localOnly(options: Options, verb: string): void {
  if (options.backend === 'kubernetes') {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--backend kubernetes: fathom does not ${verb} Kubernetes clusters (use kind, kubeadm or your provider); \`fathom cluster get --backend kubernetes\` lists its nodes`,
      { details: { flag: '--backend' } },
    );
  }
}

/** `fathom cluster create|get|delete`: the embedded cluster local runs are placed on. */
export function registerCluster(program: Command, io: Io): void {
  const cluster = program
    .command('cluster')
    .enablePositionalOptions()
    .description('create, show or delete the local cluster runs are placed on');

  applyFlags(
    cluster
      .command('create')
      .description(`make the local cluster's simulated nodes (a run makes 3 on first use)`)
      .option('--config <file>', 'YAML file of nodes: names, labels (pool: …) and taints')
      .action(async (options: Options & { nodes?: number; config?: string }) => {
        localOnly(options, 'create');
        if (options.nodes !== undefined && options.config) {
          throw new FathomError(
            'FATHOM_BAD_FLAG_VALUE',
            '--nodes and --config: give one or the other, not both',
          );
        }
        const [cluster, { createCluster }, { fathomHome }, { systemClock }] = await Promise.all([
          import('../../backends/local/cluster.js'),
          import('../../backends/local/cluster-store.js'),
          import('../../backends/local/store.js'),
          import('../../core/clock.js'),
        ]);
        const config = options.config
          ? await cluster.loadClusterFile(options.config)
          : cluster.defaultCluster(options.nodes ?? 3);
        const made = await createCluster(fathomHome(io.env), config, systemClock);
        const names = made.nodes.map((n) => n.name);
        const shown = names.length > 5 ? `${names.slice(0, 5).join(', ')}, …` : names.join(', ');
        io.err(`Created a cluster of ${names.length} node(s) (${shown}) in ${made.file}.\n`);
      }),
    [nodesFlag, ...backendFlags],
  );

  applyFlags(
    cluster
      .command('get')
      .description('list the nodes with their labels, taints and the fathom workloads on each')
      .option('--show-labels', 'add a column with every label, as kubectl does')
      .action(async (options: Options & { output: OutputFormat; showLabels?: boolean }) => {
        const [{ getCluster }, { renderCluster }] = await Promise.all([
          import('./cluster-get.js'),
          import('../reporters/cluster.js'),
        ]);
        const view = await getCluster(options, io);
        io.out(renderCluster(view, options.output, { showLabels: options.showLabels ?? false }));
      }),
    [...backendFlags, outputFlag],
  );

  applyFlags(
    cluster
      .command('delete')
      .description('remove the local cluster (refused while runs exist, unless --force)')
      .option('--force', 'delete every run on it first, stopping their processes')
      .action(async (options: Options & { force?: boolean }) => {
        localOnly(options, 'delete');
        const [{ removeCluster }, { fathomHome }, workloads, { systemClock }] = await Promise.all([
          import('../../backends/local/cluster-store.js'),
          import('../../backends/local/store.js'),
          import('../../backends/local/workloads/index.js'),
          import('../../core/clock.js'),
        ]);
        const home = fathomHome(io.env);
        const backend = await openBackend({ ...options, namespace: 'fathom' }, io);
        const runs = await backend.list();
        if (runs.length && !options.force) {
          throw new FathomError(
            'FATHOM_CLUSTER_IN_USE',
            `runs exist on the cluster in namespace(s) ${runs.join(', ')}: \`fathom delete --all\` them first, or \`fathom cluster delete --force\``,
            { details: { namespaces: runs } },
          );
        }
        const placed = await workloads.workloadNames(home);
        if (placed.length && !options.force) {
          throw new FathomError(
            'FATHOM_CLUSTER_IN_USE',
            `workloads run on the cluster (${placed.join(', ')}): \`fathom cluster delete --force\` stops them`,
            { details: { workloads: placed } },
          );
        }
        for (const ns of runs) {
          await backend.delete(ns, { wait: true });
          io.err(`Deleted the run in namespace "${ns}".\n`);
        }
        const runtime = workloads.createLocalWorkloadRuntime({
          home,
          clock: systemClock,
          nodes: [],
        });
        for (const name of placed) {
          if (await runtime.remove(name)) io.err(`Removed the workload "${name}".\n`);
        }
        // As `kind delete cluster`: deleting what is not there is not an error.
        io.err(
          (await removeCluster(home))
            ? 'Deleted the cluster.\n'
            : 'There was no cluster to delete.\n',
        );
      }),
    backendFlags,
  );
}
