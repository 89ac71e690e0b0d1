import type { Backend } from '../backends/backend.js';
import { PACKAGE_ROOT } from '../core/version.js';
import { join } from 'node:path';

/** Where the CLI writes: injected so commands can be run and read in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** What `-f -` reads. */
  readonly stdin: AsyncIterable<string | Uint8Array>;
  /** Resolves once `out` has room again, for output streamed in pieces (absent: always room). */
  drain?(): Promise<void>;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY) && !process.env.CI,
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
  // Without this a slow reader of stdout (a socket) would make fathom buffer all of the output.
  drain: () =>
    process.stdout.writableNeedDrain
      ? new Promise((resolve) => process.stdout.once('drain', resolve))
      : Promise.resolve(),
};

/** Flags shared by the commands that reach a cluster. */
export interface ClusterOptions {
  namespace: string;
  backend: 'local' | 'kubernetes';
  kubeconfig?: string;
  context?: string;
  requestTimeout?: string;
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** `--aggregator-node-selector key:value`, gathered. */
  aggregatorNodeSelector?: Record<string, string>;
  nodes?: number;
  clusterConfig?: string;
  terminatedGrace?: number;
  /** `--sessions-namespace`: where runs on a pool claim nodes on Kubernetes. */
  sessionsNamespace?: string;
}

export const examplePluginsDir = join(PACKAGE_ROOT, 'plugins');

/** Builds the backend the flags name. Loaded lazily: the worker must start fast. */
export async function openBackend(options: ClusterOptions, io: Io): Promise<Backend> {
  if (options.backend === 'kubernetes') {
    const [{ createKubernetesBackend }, { systemClock }] = await Promise.all([
      import('../backends/kubernetes/backend.js'),
      import('../core/clock.js'),
    ]);
    return createKubernetesBackend({
      clock: systemClock,
      env: io.env,
      namespace: options.namespace,
      ...(io.env.HOME ? { homeDir: io.env.HOME } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
      ...(options.image ? { image: options.image } : {}),
      ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
      ...(options.aggregatorNodeSelector
        ? { aggregatorNodeSelector: options.aggregatorNodeSelector }
        : {}),
      ...(options.sessionsNamespace ? { sessionsNamespace: options.sessionsNamespace } : {}),
    });
  }
  const [
    { LocalBackend },
    { loadClusterFile },
    { clusterForRun },
    { fathomHome },
    { systemClock },
  ] = await Promise.all([
    import('../backends/local/backend.js'),
    import('../backends/local/cluster.js'),
    import('../backends/local/cluster-store.js'),
    import('../backends/local/store.js'),
    import('../core/clock.js'),
  ]);
  const home = fathomHome(io.env);
  // The file is read now, so a bad one is refused before anything else happens.
  const config = options.clusterConfig
    ? { file: options.clusterConfig, cluster: await loadClusterFile(options.clusterConfig) }
    : undefined;
  const wish = {
    ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
    ...(config ? { config } : {}),
  };
  return new LocalBackend({
    home,
    clock: systemClock,
    env: io.env,
    nodes: async () => (await clusterForRun(home, wish, systemClock)).nodes,
    ...(options.terminatedGrace !== undefined
      ? { terminatedGraceMs: options.terminatedGrace }
      : {}),
  });
}
