/**
 * Finds the cluster and credentials the way kubectl does: `--kubeconfig`, else `$KUBECONFIG`
 * (a merged list of files), else `~/.kube/config`, else the pod's service account; then
 * `--context`, `-n/--namespace` and `--request-timeout` on top.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { parseDuration } from '../../../core/duration.js';
import { FathomError, messageOf } from '../../../core/errors.js';

/** Where the credentials came from. */
export type KubeconfigSource = 'flag' | 'env' | 'home' | 'in-cluster';

export interface KubeconfigOptions {
  /** `--kubeconfig FILE`: only this file, which must exist. */
  readonly kubeconfig?: string;
  /** `--context NAME`: instead of the file's current-context. */
  readonly context?: string;
  /** `-n/--namespace`: wins over the context's namespace. */
  readonly namespace?: string;
  /** `--request-timeout`: `0` (none), `30s`, `2m`, or bare seconds as kubectl takes it. */
  readonly requestTimeout?: string;
  /** Reads KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT; process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For `~/.kube/config`; os.homedir() by default. */
  readonly homeDir?: string;
  /**
   * The mounted service account (token, ca.crt, namespace); else $FATHOM_SERVICEACCOUNT_DIR (the
   * test pod runner's relocated mount), else the standard path.
   */
  readonly serviceAccountDir?: string;
}

/** A kubeconfig resolved to one context. */
export interface ResolvedKubeconfig {
  /** The client's config object with the chosen context current. */
  readonly kubeConfig: KubeConfig;
  readonly source: KubeconfigSource;
  /** The files that were read, in precedence order (empty in-cluster). */
  readonly files: readonly string[];
  readonly context: string;
  readonly server: string;
  /** `-n`, else the context's namespace, else `default`. */
  readonly namespace: string;
  /** 0 = no limit. */
  readonly requestTimeoutMs: number;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function invalid(message: string, cause?: unknown): FathomError {
  return new FathomError('FATHOM_CONFIG_INVALID', message, cause ? { cause } : {});
}

/** One kubeconfig file, parsed by the client (relative paths made absolute against its folder). */
function loadFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (cause) {
    throw invalid(`kubeconfig ${file}: ${messageOf(cause)}`, cause);
  }
  return kc;
}

/**
 * Merges files as kubectl does: for clusters, users and contexts the first file to define a
 * name wins, and the first file that sets current-context wins.
 */
export function mergeKubeconfigs(configs: readonly KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const kc of configs) {
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && kc.getCurrentContext()) currentContext = kc.getCurrentContext();
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return merged;
}

/** The pod's own service account, as client-go's in-cluster config; undefined outside a pod. */
function inCluster(
  env: Readonly<Record<string, string | undefined>>,
  dir: string,
): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const token = join(dir, 'token');
  if (!host || !port || !existsSync(token)) return undefined;
  const nsFile = join(dir, 'namespace');
  const namespace = existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() : undefined;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
        caFile: join(dir, 'ca.crt'),
        skipTLSVerify: false,
      },
    ],
    // The client's tokenFile provider re-reads the projected token, which the kubelet rotates.
    users: [
      { name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile: token } } },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace }],
    currentContext: 'in-cluster',
  });
  return kc;
}

function requestTimeoutOf(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 0;
  return parseDuration(text, '--request-timeout');
}

/** Which files to read, in precedence order, and where they came from. */
function locate(
  options: KubeconfigOptions,
  env: Readonly<Record<string, string | undefined>>,
): { source: KubeconfigSource; files: string[] } | undefined {
  if (options.kubeconfig) {
    const file = resolve(options.kubeconfig);
    if (!existsSync(file)) throw invalid(`--kubeconfig ${options.kubeconfig}: no such file`);
    return { source: 'flag', files: [file] };
  }
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (list.length > 0) {
    // kubectl skips listed files that do not exist; duplicates count once.
    const files = [...new Set(list.map((f) => resolve(f)))].filter((f) => existsSync(f));
    return files.length > 0 ? { source: 'env', files } : undefined;
  }
  const home = join(options.homeDir ?? homedir(), '.kube', 'config');
  return existsSync(home) ? { source: 'home', files: [home] } : undefined;
}

/**
 * Resolves the kubeconfig for a command. Throws FATHOM_CONFIG_INVALID naming the file, the
 * missing context or the bad flag; never reaches the network.
 */
export function resolveKubeconfig(options: KubeconfigOptions = {}): ResolvedKubeconfig {
  const env = options.env ?? process.env;
  const requestTimeoutMs = requestTimeoutOf(options.requestTimeout);
  const found = locate(options, env);
  let kubeConfig: KubeConfig;
  let source: KubeconfigSource;
  let files: string[] = [];
  if (found) {
    kubeConfig = mergeKubeconfigs(found.files.map(loadFile));
    source = found.source;
    files = found.files;
  } else {
    const icc = inCluster(
      env,
      options.serviceAccountDir ?? env.FATHOM_SERVICEACCOUNT_DIR ?? SERVICE_ACCOUNT_DIR,
    );
    if (!icc) {
      throw invalid(
        'no kubeconfig found: pass --kubeconfig, set $KUBECONFIG, create ~/.kube/config, or run in a pod with a service account',
      );
    }
    kubeConfig = icc;
    source = 'in-cluster';
  }
  const where = files.length > 0 ? files.join(delimiter) : 'the in-cluster config';
  const name = options.context ?? kubeConfig.getCurrentContext();
  if (!name) {
    throw invalid(`${where} sets no current-context: pass --context`);
  }
  const context = kubeConfig.getContextObject(name);
  if (!context) {
    const known = kubeConfig.getContexts().map((c) => c.name);
    throw invalid(`context "${name}" is not in ${where} (contexts: ${known.join(', ') || 'none'})`);
  }
  kubeConfig.setCurrentContext(name);
  const cluster = kubeConfig.getCluster(context.cluster);
  if (!cluster)
    throw invalid(`context "${name}" names cluster "${context.cluster}", which ${where} lacks`);
  if (!kubeConfig.getUser(context.user)) {
    throw invalid(`context "${name}" names user "${context.user}", which ${where} lacks`);
  }
  return {
    kubeConfig,
    source,
    files,
    context: name,
    server: cluster.server,
    namespace: options.namespace ?? context.namespace ?? 'default',
    requestTimeoutMs,
  };
}
