/**
 * What the aggregator pod does through the API: Sonobuoy's plugin.Interface (list nodes,
 * launch a plugin's Secret and Pod or DaemonSet, monitor its pods, clean up), the status
 * annotation on its own pod, and the worker's view of its pod for the no-done-file fallback.
 */
import type { Logger } from 'pino';
import type { LaunchContext, MonitorError, PluginRuntime } from '../../aggregation/runtime.js';
import type { RunStatus } from '../../aggregation/types.js';
import type { Clock } from '../../core/clock.js';
import { isFathomError } from '../../core/errors.js';
import type { KeyPair } from '../../core/pki.js';
import { GLOBAL_NODE, type ExpectedResult, type PluginDefinition } from '../../plugin/types.js';
import type { ClusterNode } from '../../core/nodes.js';
import type { ContainerState, ContainerStateSource } from '../../worker/container-state.js';
import { createKubeClient, resourcePath, type KubeClient } from './api/client.js';
import { isPermanent } from './api/errors.js';
import { ExponentialBackoff, watchObjects, type Backoff } from './api/informer.js';
import { resolveKubeconfig, type KubeconfigOptions } from './api/kubeconfig.js';
import { pluginObjects, pluginSecretData, usesHostNetwork } from './manifests.js';
import {
  noJobPodMessage,
  noPodMessage,
  podProblem,
  SONOBUOY_LIMITS,
  type MonitorLimits,
} from './monitor.js';
import {
  PROGRESS_PORT,
  STATUS_ANNOTATION,
  WORKER_CONTAINER,
  daemonSetName,
  jobPodName,
  pluginSecretName,
  pluginSelector,
} from './names.js';
import type { KubeRunConfig } from './runconfig.js';
import { decodeStatusAnnotation, encodeStatusAnnotation } from './status-annotation.js';
import type { KubeObject, Node, Pod } from './api/types.js';

export interface KubernetesRuntimeOptions {
  readonly client: KubeClient;
  readonly config: Pick<
    KubeRunConfig,
    'uuid' | 'namespace' | 'image' | 'imagePullPolicy' | 'kubernetesVersion'
  >;
  /** The aggregator pod: owner of everything launched. */
  readonly owner: { readonly name: string; readonly uid: string };
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the Monitor looks again without a change (Sonobuoy polls every 10 s). */
  readonly monitorIntervalMs?: number;
  /** How long a DaemonSet may leave an expected node without a pod before it is an error. */
  readonly noPodGraceMs?: number;
  readonly limits?: MonitorLimits;
  readonly backoff?: Backoff;
}

const kindPath = (kind: string, namespace: string, name?: string): string =>
  kind === 'DaemonSet'
    ? resourcePath('apps', 'daemonsets', namespace, name)
    : resourcePath('', kind === 'Pod' ? 'pods' : 'secrets', namespace, name);

/** The node a DaemonSet pod is for: bound, or still pending with the controller's node affinity. */
function nodeOf(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = (
    pod.spec as
      | {
          affinity?: {
            nodeAffinity?: {
              requiredDuringSchedulingIgnoredDuringExecution?: {
                nodeSelectorTerms?: { matchFields?: { key: string; values?: string[] }[] }[];
              };
            };
          };
        }
      | undefined
  )?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const t of terms ?? []) {
    const f = t.matchFields?.find((m) => m.key === 'metadata.name');
    if (f?.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** Runs plugins as Pods and DaemonSets in the run's namespace. */
export class KubernetesPluginRuntime implements PluginRuntime {
  readonly #launchedAt = new Map<string, number>();
  /** Host-network plugins launched so far: each gets its own progress port (8099, 8100, ...). */
  #hostNetworkPlugins = 0;

  constructor(private readonly options: KubernetesRuntimeOptions) {}

  async listNodes(): Promise<ClusterNode[]> {
    const list = await this.options.client.list<Node>('/api/v1/nodes', 'listing nodes');
    return list.items.map((n) => ({ name: n.metadata.name, labels: { ...n.metadata.labels } }));
  }

  launch(plugin: PluginDefinition, context: LaunchContext): Promise<void> {
    return this.#create(plugin, context, false);
  }

  /** After an aggregator restart: whatever of the plugin's objects exists stays, the rest is created. */
  adopt(plugin: PluginDefinition, context: LaunchContext): Promise<void> {
    return this.#create(plugin, context, true);
  }

  async #create(plugin: PluginDefinition, context: LaunchContext, adopt: boolean): Promise<void> {
    const { client, config, clock } = this.options;
    const { secret, workload } = pluginObjects(plugin, {
      config,
      owner: this.options.owner,
      aggregatorUrl: context.aggregatorUrl,
      caPem: context.caPem,
      clientCert: context.clientCert,
      ...(usesHostNetwork(plugin)
        ? { progressPort: PROGRESS_PORT + this.#hostNetworkPlugins++ }
        : {}),
    });
    for (const obj of [secret, workload] as KubeObject[]) {
      try {
        await client.create(
          kindPath(obj.kind, config.namespace),
          obj,
          `creating ${obj.kind} ${config.namespace}/${obj.metadata.name}`,
        );
      } catch (err) {
        if (!adopt || !isFathomError(err, 'FATHOM_KUBE_CONFLICT')) throw err;
      }
    }
    this.#launchedAt.set(plugin.name, clock.now());
    this.options.logger.info(
      { plugin: plugin.name, kind: workload.kind },
      adopt ? 'plugin adopted' : 'plugin launched',
    );
  }

  /** Rewrites the plugin's Secret; the kubelet refreshes the workers' mounted copies. */
  async renewCredentials(
    plugin: PluginDefinition,
    material: { readonly caPem: string; readonly clientCert: KeyPair },
  ): Promise<void> {
    const { client, config } = this.options;
    const name = pluginSecretName(plugin.name, config.uuid);
    await client.mergePatch(
      kindPath('Secret', config.namespace, name),
      { data: pluginSecretData(material.caPem, material.clientCert) },
      `renewing the certificate in Secret ${config.namespace}/${name}`,
    );
  }

  async *monitor(
    plugin: PluginDefinition,
    expected: readonly ExpectedResult[],
    signal: AbortSignal,
  ): AsyncIterable<MonitorError> {
    const { client, config, clock, logger } = this.options;
    const pods = new Map<string, Pod>();
    const reported = new Set<string>();
    let synced = false;
    for await (const ev of watchObjects<Pod>({
      client,
      path: resourcePath('', 'pods', config.namespace),
      labelSelector: pluginSelector(plugin.name, config.uuid),
      clock,
      signal,
      what: `watching the pods of plugin ${plugin.name}`,
      resyncMs: this.options.monitorIntervalMs ?? 10_000,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    })) {
      if (ev.type === 'error') {
        logger.warn(
          { plugin: plugin.name, err: ev.error.message, retryInMs: ev.retryInMs },
          'pod watch failed',
        );
        continue;
      }
      if (ev.type === 'synced' || ev.type === 'resync') {
        pods.clear();
        for (const p of ev.objects) pods.set(p.metadata.name, p);
        if (ev.type === 'synced') {
          logger.info({ plugin: plugin.name, pods: pods.size }, 'monitoring the plugin pods');
        }
        synced = true;
      } else if (ev.type === 'deleted') pods.delete(ev.object.metadata.name);
      else pods.set(ev.object.metadata.name, ev.object);
      if (synced) yield* this.#check(plugin, expected, pods, reported, ev.at);
    }
  }

  /** Sonobuoy's Monitor pass: failing pods, and expected nodes that never got one. */
  #check(
    plugin: PluginDefinition,
    expected: readonly ExpectedResult[],
    pods: ReadonlyMap<string, Pod>,
    reported: Set<string>,
    now: number,
  ): MonitorError[] {
    const out: MonitorError[] = [];
    const seen = new Set<string>();
    for (const pod of pods.values()) {
      const node = plugin.driver === 'Job' ? GLOBAL_NODE : nodeOf(pod);
      if (!node) continue;
      seen.add(node);
      if (reported.has(node)) continue;
      const error = podProblem(pod, now, this.options.limits ?? SONOBUOY_LIMITS);
      if (!error) continue;
      reported.add(node);
      out.push({ node, error, details: { pod } });
    }
    const launched = this.#launchedAt.get(plugin.name);
    const elapsed = launched === undefined ? -1 : now - launched;
    if (elapsed < (this.options.noPodGraceMs ?? 60_000)) return out;
    for (const e of expected) {
      if (seen.has(e.node) || reported.has(e.node)) continue;
      reported.add(e.node);
      out.push({
        node: e.node,
        error:
          plugin.driver === 'Job'
            ? noJobPodMessage(plugin.name)
            : noPodMessage(e.node, elapsed, plugin.name),
      });
    }
    return out;
  }

  /** Deletes the plugin's workload and Secret (Sonobuoy: Job pods with 60 s grace, DaemonSets 1 s). */
  async cleanup(plugin: PluginDefinition): Promise<void> {
    const { client, config } = this.options;
    const ns = config.namespace;
    const targets: [string, string, Record<string, string | number>][] =
      plugin.driver === 'Job'
        ? [['Pod', jobPodName(plugin.name, config.uuid), { gracePeriodSeconds: 60 }]]
        : [
            [
              'DaemonSet',
              daemonSetName(plugin.name, config.uuid),
              { gracePeriodSeconds: 1, propagationPolicy: 'Background' },
            ],
          ];
    targets.push(['Secret', pluginSecretName(plugin.name, config.uuid), {}]);
    const results = await Promise.allSettled(
      targets.map(([kind, name, query]) =>
        client.remove(kindPath(kind, ns, name), `deleting ${kind} ${ns}/${name}`, query),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** The status document kept in Sonobuoy's annotation on the aggregator pod. */
export function readStatusAnnotation(pod: Pod): RunStatus | undefined {
  return decodeStatusAnnotation(pod.metadata.annotations?.[STATUS_ANNOTATION]);
}

/** Sonobuoy writes the status every 5 s: a failed write is tried again at least as often. */
export const STATUS_WRITE_BACKOFF: Backoff = { initialMs: 500, maxMs: 5000, factor: 2 };

export interface StatusAnnotationWriterOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly pod: string;
  /** Waits between attempts; the real clock by default. */
  readonly clock: Clock;
  /** Stops retrying (the write then fails with the abort reason). */
  readonly signal?: AbortSignal;
  readonly backoff?: Backoff;
  readonly logger?: Logger;
}

/**
 * Publishes status snapshots as Sonobuoy does: a JSON merge patch of the annotation on the
 * aggregator pod. A write the API server could not take (down, restarting, 5xx, 429) is tried
 * again with backoff until it goes through, and the run waits for it: a dropped write could be
 * the run's last, and then `fathom run --wait` and `retrieve` would never see the run complete.
 * Errors retrying cannot fix (RBAC, a deleted pod) fail at once.
 */
export function createStatusAnnotationWriter(
  options: StatusAnnotationWriterOptions,
): (status: RunStatus) => Promise<void> {
  const path = resourcePath('', 'pods', options.namespace, options.pod);
  const what = `annotating Pod ${options.namespace}/${options.pod} with the run status`;
  const clock = options.clock;
  return async (status) => {
    const body = {
      metadata: { annotations: { [STATUS_ANNOTATION]: encodeStatusAnnotation(status) } },
    };
    const backoff = new ExponentialBackoff(options.backoff ?? STATUS_WRITE_BACKOFF);
    for (;;) {
      try {
        await options.client.mergePatch(path, body, what);
        return;
      } catch (err) {
        if (!isFathomError(err) || isPermanent(err) || options.signal?.aborted) throw err;
        const retryInMs = backoff.next();
        options.logger?.warn(
          { err: err.message, status: status.status, retryInMs },
          'could not publish status; retrying',
        );
        await clock.sleep(retryInMs, options.signal);
      }
    }
  };
}

class PodContainerStateSource implements ContainerStateSource {
  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    private readonly self: string,
  ) {}

  async otherContainers(): Promise<readonly ContainerState[] | undefined> {
    let pod: Pod;
    try {
      pod = await this.client.get<Pod>(this.path, 'reading the worker pod');
    } catch {
      return undefined; // unknown now; the worker asks again later
    }
    const names = (pod.spec?.containers ?? []).map((c) => c.name).filter((n) => n !== this.self);
    const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
    if (names.some((n) => !statuses.has(n))) return undefined;
    return names.map((name) => {
      const term = statuses.get(name)!.state?.terminated;
      return term
        ? {
            name,
            terminated: true,
            ...(term.exitCode === undefined ? {} : { exitCode: term.exitCode }),
            ...(term.reason === undefined ? {} : { reason: term.reason }),
            ...(term.message === undefined ? {} : { message: term.message }),
          }
        : { name, terminated: false };
    });
  }
}

/**
 * The worker's view of its own pod, as Sonobuoy's worker reads it (SONOBUOY_NS,
 * SONOBUOY_PLUGIN_POD): every other container's state from the pod's status.
 */
export function createKubernetesContainerStateSource(options: {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly pod: string;
  readonly self?: string;
}): ContainerStateSource {
  return new PodContainerStateSource(
    options.client,
    resourcePath('', 'pods', options.namespace, options.pod),
    options.self ?? WORKER_CONTAINER,
  );
}

/**
 * The worker's ContainerStateSource inside a plugin pod, from Sonobuoy's worker variables
 * (SONOBUOY_NS, SONOBUOY_PLUGIN_POD, SONOBUOY_WORKER_CONTAINER) and the pod's service account
 * (or $KUBECONFIG). Undefined when they are missing: the no-done-file fallback is then off,
 * as in Sonobuoy's worker without in-cluster credentials.
 */
export function containerStateSourceFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Pick<KubeconfigOptions, 'serviceAccountDir' | 'homeDir'> = {},
): ContainerStateSource | undefined {
  const namespace = env.SONOBUOY_NS?.trim();
  const pod = env.SONOBUOY_PLUGIN_POD?.trim();
  if (!namespace || !pod) return undefined;
  let client: KubeClient;
  try {
    client = createKubeClient(resolveKubeconfig({ env, ...options }));
  } catch {
    return undefined;
  }
  const self = env.SONOBUOY_WORKER_CONTAINER?.trim();
  return createKubernetesContainerStateSource({
    client,
    namespace,
    pod,
    ...(self ? { self } : {}),
  });
}
