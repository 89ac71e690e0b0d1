/**
 * The runner's API calls through @kubernetes/client-node: node registration and heartbeats,
 * the pod watch (the client's ListWatch, restarted with backoff after errors, since the
 * 1.4 informer stops on the first one), and what pod workers need (PodApi).
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../src/core/clock.js';
import { Backoff } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import {
  LEASE_SECONDS,
  NODE_LEASE_NAMESPACE,
  leaseManifest,
  microTime,
  nodeStatus,
  runnerNodeManifest,
} from './node.js';
import type { NodeManifestOptions } from './node.js';
import type { PodApi } from './pod.js';
import type { ConfigMap, Pod, Secret } from './types.js';
import type { TokenSpec } from './volumes.js';

const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (codeOf(err) === 404) return undefined;
    throw err;
  }
}

export interface PodWatchHandlers {
  upsert(pod: Pod): void;
  remove(pod: Pod): void;
  log(line: string): void;
}

export interface PodWatch {
  stop(): Promise<void>;
}

/** Everything the runner asks of the API server. */
export interface RunnerApi extends PodApi {
  /** Where the API server is, for the pods' KUBERNETES_SERVICE_HOST/PORT. */
  readonly server: URL;
  registerNode(name: string, ip: string, now: number, options: NodeManifestOptions): Promise<void>;
  heartbeat(name: string, ip: string, now: number, readySince: number): Promise<void>;
  deleteNode(name: string): Promise<void>;
  podsOn(node: string): Promise<Pod[]>;
  forceDelete(pod: Pod): Promise<void>;
  watchPods(
    node: string,
    handlers: PodWatchHandlers,
    clock: Clock,
    backoff: BackoffPolicy,
  ): Promise<PodWatch>;
}

class ClientNodeApi implements RunnerApi {
  readonly server: URL;
  readonly #kc: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #leases: CoordinationV1Api;

  constructor(kubeconfigPath: string) {
    this.#kc = new KubeConfig();
    this.#kc.loadFromFile(kubeconfigPath);
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error(`${kubeconfigPath}: no current cluster`);
    this.server = new URL(cluster.server);
    this.#core = this.#kc.makeApiClient(CoreV1Api);
    this.#leases = this.#kc.makeApiClient(CoordinationV1Api);
  }

  async registerNode(
    name: string,
    ip: string,
    now: number,
    options: NodeManifestOptions,
  ): Promise<void> {
    const { status, ...node } = runnerNodeManifest(name, ip, now, options);
    let created;
    try {
      created = await this.#core.createNode({ body: node });
    } catch (err) {
      if (codeOf(err) !== 409) throw err;
      // Left behind by a runner that died: start over with our labels and a fresh uid.
      await this.#core.deleteNode({ name, gracePeriodSeconds: 0 });
      created = await this.#core.createNode({ body: node });
    }
    await this.#core.patchNodeStatus({ name, body: { status } }, mergePatch);
    await orUndefined(
      this.#leases.deleteNamespacedLease({ name, namespace: NODE_LEASE_NAMESPACE }),
    );
    await this.#leases.createNamespacedLease({
      namespace: NODE_LEASE_NAMESPACE,
      body: leaseManifest(name, created.metadata?.uid, now),
    });
  }

  async heartbeat(name: string, ip: string, now: number, readySince: number): Promise<void> {
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: microTime(now),
    };
    const renewed = await orUndefined(
      this.#leases.patchNamespacedLease(
        { name, namespace: NODE_LEASE_NAMESPACE, body: { spec } },
        mergePatch,
      ),
    );
    if (!renewed)
      await this.#leases.createNamespacedLease({
        namespace: NODE_LEASE_NAMESPACE,
        body: leaseManifest(name, undefined, now),
      });
    const { conditions } = nodeStatus(ip, now, readySince) as { conditions: object[] };
    await this.#core.patchNodeStatus({ name, body: { status: { conditions } } }, strategicPatch);
  }

  async deleteNode(name: string): Promise<void> {
    await orUndefined(this.#core.deleteNode({ name, gracePeriodSeconds: 0 }));
    await orUndefined(
      this.#leases.deleteNamespacedLease({ name, namespace: NODE_LEASE_NAMESPACE }),
    );
  }

  async podsOn(node: string): Promise<Pod[]> {
    const list = await this.#core.listPodForAllNamespaces({
      fieldSelector: `spec.nodeName=${node}`,
    });
    return list.items as unknown as Pod[];
  }

  async forceDelete(pod: Pod): Promise<void> {
    await orUndefined(
      this.#core.deleteNamespacedPod({
        name: pod.metadata.name,
        namespace: pod.metadata.namespace ?? '',
        gracePeriodSeconds: 0,
      }),
    );
  }

  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return orUndefined(this.#core.readNamespacedSecret({ name, namespace })) as Promise<
      Secret | undefined
    >;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return orUndefined(this.#core.readNamespacedConfigMap({ name, namespace })) as Promise<
      ConfigMap | undefined
    >;
  }

  async token(pod: Pod, spec: TokenSpec): Promise<string> {
    const res = await this.#core.createNamespacedServiceAccountToken({
      name: pod.spec.serviceAccountName || 'default',
      namespace: pod.metadata.namespace ?? '',
      body: {
        spec: {
          audiences: spec.audience ? [spec.audience] : [],
          expirationSeconds: spec.expirationSeconds,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata.name,
            uid: pod.metadata.uid,
          },
        },
      },
    });
    if (!res.status?.token) throw new Error('TokenRequest answered without a token');
    return res.status.token;
  }

  async patchStatus(pod: Pod, status: object): Promise<'ok' | 'gone'> {
    const done = await orUndefined(
      this.#core.patchNamespacedPodStatus(
        { name: pod.metadata.name, namespace: pod.metadata.namespace ?? '', body: { status } },
        mergePatch,
      ),
    );
    return done ? 'ok' : 'gone';
  }

  async remove(pod: Pod): Promise<void> {
    try {
      await this.#core.deleteNamespacedPod({
        name: pod.metadata.name,
        namespace: pod.metadata.namespace ?? '',
        // With a body the API server ignores the query parameters: the grace goes in both.
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } },
      });
    } catch (err) {
      // Gone already, or a new pod of the same name (uid precondition): not ours to delete.
      if (codeOf(err) !== 404 && codeOf(err) !== 409) throw err;
    }
  }

  async watchPods(
    node: string,
    handlers: PodWatchHandlers,
    clock: Clock,
    policy: BackoffPolicy,
  ): Promise<PodWatch> {
    const fieldSelector = `spec.nodeName=${node}`;
    const informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(this.#kc),
      () => this.#core.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    const stopped = new AbortController();
    const backoff = new Backoff(clock, policy);
    const upsert = (p: V1Pod): void => {
      backoff.reset();
      handlers.upsert(p as unknown as Pod);
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (p) => handlers.remove(p as unknown as Pod));
    informer.on('error', (err: unknown) => {
      if (stopped.signal.aborted) return;
      handlers.log(
        `watch pods on ${node}: ${(err as Error)?.message ?? String(err)}; restarting in ${backoff.nextDelay()} ms`,
      );
      void backoff.wait(stopped.signal).then(
        () => (stopped.signal.aborted ? undefined : informer.start()),
        () => undefined,
      );
    });
    await informer.start();
    return {
      async stop() {
        stopped.abort();
        await informer.stop();
      },
    };
  }
}

/** The runner's API client for the current context of `kubeconfigPath`. */
export function createRunnerApi(kubeconfigPath: string): RunnerApi {
  return new ClientNodeApi(kubeconfigPath);
}
