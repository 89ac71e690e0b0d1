/**
 * `fathom dispatcher` and `fathom agent`: the cluster checks' long-running processes. Flags are
 * checked before anything starts (one `error:` line, exit 2); then they run until SIGTERM or
 * SIGINT and stop cleanly. A parent that started one with an IPC channel (`fathom checks up`)
 * is told its URL once it listens.
 */
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CheckConfigChange } from '../../checks/config/index.js';
import type { Strategy } from '../../checks/dispatch/placement.js';
import { FathomError, messageOf } from '../../core/errors.js';
import type { LeaseStore } from '../../core/lease.js';
import { agentFlags, dispatcherFlags, readSecretFile } from '../checks/flags.js';
import type { ClusterOptions, Io } from '../context.js';
import { applyFlags, clusterFlags } from '../flags.js';
import { kubeClientFor } from '../kube-client.js';

type Address = { host: string; port: number };

interface DispatcherOptions extends ClusterOptions {
  listen: Address;
  configs?: string;
  tokenFile?: string;
  tlsDir?: string;
  caFile?: string;
  nodeExpiration: number;
  warmup: number;
  unscheduledThreshold: number;
  rebalancePeriod: number;
  strategy: Strategy;
  minImprovement: number;
  leaseDuration: number;
  leaseRenew: number;
  leaseFile?: string;
  lease?: string;
  identity?: string;
  advertise?: string;
  peerName?: string;
  watchNamespace?: string;
  configsPoll: number;
}

interface AgentOptions extends ClusterOptions {
  node?: string;
  dispatcher?: string[];
  tokenFile?: string;
  caFile?: string;
  servername?: string;
  poll: number;
  nodeExpiration: number;
  listen?: Address;
  workers: number;
  stateDir?: string;
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || (Array.isArray(value) && !value.length)) {
    throw new FathomError('FATHOM_USAGE', `${flag} is required`, { details: { flag } });
  }
  return value;
}

async function readCa(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  return readFile(file, 'utf8').catch((err: unknown) => {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `--ca-file ${file}: ${messageOf(err)}`);
  });
}

/** Stops on SIGTERM or SIGINT; tells an IPC parent the URL once listening. */
function lifecycle(): { signal: AbortSignal; ready: (url: string | undefined) => void } {
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  return {
    signal: stop.signal,
    ready: (url) => {
      if (process.send) process.send({ type: 'ready', url }, () => process.channel?.unref());
    },
  };
}

export function registerCheckDaemons(program: Command, io: Io): void {
  applyFlags(
    program
      .command('dispatcher')
      .description('a cluster checks dispatcher replica: spreads checks over node agents')
      .action(async (o: DispatcherOptions) => {
        const [{ runDispatcherProcess }, { systemClock }, { readTlsDir }, { pino }] =
          await Promise.all([
            import('../checks/dispatcher-process.js'),
            import('../../core/clock.js'),
            import('../../core/tls-files.js'),
            import('pino'),
          ]);
        if (o.leaseFile && o.lease) {
          throw new FathomError('FATHOM_USAGE', '--lease-file and --lease: give one, not both');
        }
        const token = await readSecretFile(required(o.tokenFile, '--token-file'), '--token-file');
        const tls = await readTlsDir(required(o.tlsDir, '--tls-dir'));
        const caPem = (await readCa(o.caFile)) ?? tls.caPem;
        if (o.advertise) listenCheck(o.advertise);
        const clock = systemClock;
        const kube = o.lease || o.backend === 'kubernetes' ? await kubeClientFor(o, io) : undefined;
        let lease: { store: LeaseStore; name: string } | undefined;
        if (o.leaseFile) {
          const { LocalLeaseStore } = await import('../../backends/local/lease.js');
          lease = LocalLeaseStore.forFile(o.leaseFile, clock);
        } else if (o.lease) {
          const { KubeLeaseStore } = await import('../../backends/kubernetes/lease.js');
          lease = { store: new KubeLeaseStore(kube!, o.namespace), name: o.lease };
        }
        const sources: ((signal: AbortSignal) => AsyncIterable<CheckConfigChange>)[] = [];
        if (o.configs) {
          const dir = o.configs;
          const { watchCheckDir } = await import('../../checks/config/index.js');
          sources.push((signal) =>
            watchCheckDir(dir, { clock, signal, intervalMs: o.configsPoll }),
          );
        }
        if (o.backend === 'kubernetes') {
          const { watchKubeCheckSources } =
            await import('../../backends/kubernetes/check-sources.js');
          sources.push((signal) =>
            watchKubeCheckSources({
              client: kube!,
              clock,
              signal,
              ...(o.watchNamespace ? { namespace: o.watchNamespace } : {}),
            }),
          );
        }
        const identity = o.identity ?? `${hostname()}-${process.pid}`;
        const logger = pino({ base: { component: 'dispatcher', identity } }, pino.destination(2));
        const { signal, ready } = lifecycle();
        await runDispatcherProcess({
          host: o.listen.host,
          port: o.listen.port,
          ...(o.advertise ? { advertise: o.advertise } : {}),
          identity,
          token,
          tls,
          caPem,
          ...(o.peerName ? { peerName: o.peerName } : {}),
          times: {
            nodeExpirationMs: o.nodeExpiration,
            warmupMs: o.warmup,
            unscheduledThresholdMs: Math.max(o.unscheduledThreshold, o.nodeExpiration),
            rebalancePeriodMs: o.rebalancePeriod,
          },
          strategy: o.strategy,
          minImprovementPercent: o.minImprovement,
          ...(lease
            ? { lease: { ...lease, durationMs: o.leaseDuration, retryMs: o.leaseRenew } }
            : {}),
          sources,
          clock,
          random: Math.random,
          logger,
          signal,
          onListening: ready,
        });
      }),
    [...dispatcherFlags, ...clusterFlags],
  );

  applyFlags(
    program
      .command('agent')
      .description('a cluster checks node agent: runs the checks the dispatcher gives its node')
      .action(async (o: AgentOptions) => {
        const [{ runAgentProcess }, { systemClock }, { pino }] = await Promise.all([
          import('../checks/agent-process.js'),
          import('../../core/clock.js'),
          import('pino'),
        ]);
        const node = required(o.node, '--node');
        const dispatchers = required(o.dispatcher, '--dispatcher');
        const token = await readSecretFile(required(o.tokenFile, '--token-file'), '--token-file');
        const caPem = await readCa(o.caFile);
        const labels = await nodeLabels(o, node, io);
        // kubernetes-status checks read objects through the API server the agent runs against.
        const statusReader =
          o.backend === 'kubernetes'
            ? (await import('../../backends/kubernetes/reader.js')).createKubeClusterReader(
                await kubeClientFor(o, io),
                { clock: systemClock },
              )
            : undefined;
        const logger = pino({ base: { component: 'agent', node } }, pino.destination(2));
        const { signal, ready } = lifecycle();
        await runAgentProcess({
          node,
          dispatchers,
          token,
          ...(caPem ? { caPem } : {}),
          ...(o.servername ? { servername: o.servername } : {}),
          pollMs: o.poll,
          nodeExpirationMs: o.nodeExpiration,
          workers: o.workers,
          ...(o.stateDir ? { stateDir: o.stateDir } : {}),
          ...(o.listen ? { listen: o.listen } : {}),
          ...(labels ? { labels } : {}),
          ...(statusReader ? { statusReader } : {}),
          clock: systemClock,
          logger,
          signal,
          onListening: ready,
        });
      }),
    [...agentFlags, ...clusterFlags],
  );
}

function listenCheck(advertise: string): void {
  if (!/^(\[[^\]]+\]|[^:]+):\d{1,5}$/.test(advertise)) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--advertise: expected host:port, got "${advertise}"`,
    );
  }
}

/**
 * The node's labels, for checks with a nodeSelector: the embedded cluster's node locally, the
 * Node object on Kubernetes. A node that cannot be read has none (its checks with a selector
 * go elsewhere), which is said once.
 */
async function nodeLabels(
  o: AgentOptions,
  node: string,
  io: Io,
): Promise<Readonly<Record<string, string>> | undefined> {
  if (o.backend === 'kubernetes') {
    const client = await kubeClientFor(o, io);
    const { resourcePath } = await import('../../backends/kubernetes/api/client.js');
    const found = await client
      .find<{ metadata?: { labels?: Record<string, string> } }>(
        resourcePath('', 'nodes', undefined, node),
        `reading Node ${node}`,
      )
      .catch((err: unknown) => {
        io.err(`warning: node ${node}: ${messageOf(err)}; no labels\n`);
        return undefined;
      });
    return found?.metadata?.labels;
  }
  const [{ readCluster }, { fathomHome }] = await Promise.all([
    import('../../backends/local/cluster-store.js'),
    import('../../backends/local/store.js'),
  ]);
  const cluster = await readCluster(fathomHome(io.env)).catch(() => undefined);
  return cluster?.nodes.find((n) => n.name === node)?.labels;
}
