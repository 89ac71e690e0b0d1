/**
 * Runs on a Kubernetes cluster, as Sonobuoy does: `start` creates the namespace, RBAC,
 * ConfigMaps and the aggregator pod, which launches the plugins itself; the other commands
 * read and act on those objects through the API server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RunStatus } from '../../aggregation/types.js';
import type { Clock } from '../../core/clock.js';
import { FathomError, isFathomError } from '../../core/errors.js';
import type {
  Backend,
  LogLine,
  LogOptions,
  ResumeOutcome,
  RetrieveOptions,
  RunInfo,
  RunSpec,
  StartOptions,
} from '../backend.js';
import { createKubeClient, resourcePath, type KubeClient } from './api/client.js';
import { isPermanent } from './api/errors.js';
import { watchObjects, type Backoff } from './api/informer.js';
import { resolveKubeconfig, type KubeconfigOptions } from './api/kubeconfig.js';
import { runLogs } from './logs.js';
import { checkPluginsForKubernetes, runManifests } from './manifests.js';
import {
  AGGREGATOR_POD,
  AGGREGATOR_SELECTOR,
  DEFAULT_IMAGE,
  LABEL,
  RESULTS_PORT,
  RETRIEVE_SECRET,
  RETRIEVE_TOKEN_KEY,
  UPLOAD_PORT,
} from './names.js';
import { deleteRun, objectPath } from './objects.js';
import { downloadPartial, downloadTarball } from './retrieve.js';
import { readStatusAnnotation } from './runtime.js';
import type { ImagePullPolicy, KubeRunConfig } from './runconfig.js';
import type { KubeObject, Pod, Secret } from './api/types.js';
import { DEFAULT_SESSIONS_NAMESPACE } from './sessions/names.js';

export interface KubernetesBackendOptions {
  readonly client: KubeClient;
  /** fathom's image for the aggregator and the workers; `fathom:<version>` by default. */
  readonly image?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Labels a node needs to run the aggregator pod (`--aggregator-node-selector`). */
  readonly aggregatorNodeSelector?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** How often `delete --wait` looks again. */
  readonly pollMs?: number;
  /** How long `delete --wait` waits (Sonobuoy: 60 min). */
  readonly deleteTimeoutMs?: number;
  readonly uploadPort?: number;
  readonly resultsPort?: number;
  readonly backoff?: Backoff;
  /** Where the session controller keeps runs' pool claims (`fathom-sessions` by default). */
  readonly sessionsNamespace?: string;
}

const emptyTar = { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 };

/** The status a pod tells: its annotation, or what its phase implies before the first one. */
export function statusOfPod(pod: Pod): RunStatus {
  const status = readStatusAnnotation(pod);
  const phase = pod.status?.phase;
  const dead = phase === 'Failed' || phase === 'Succeeded';
  if (status && (status.status === 'complete' || !dead)) return status;
  // The aggregator stopped before finishing: Sonobuoy's "failed".
  return {
    plugins: status?.plugins ?? [],
    status: dead ? 'failed' : 'running',
    'tar-info': status?.['tar-info'] ?? emptyTar,
  };
}

function isTerminal(s: RunStatus): boolean {
  return s.status === 'complete' || s.status === 'failed';
}

function notFound(namespace: string): FathomError {
  return new FathomError('FATHOM_RUN_NOT_FOUND', `no run in namespace "${namespace}"`);
}

export class KubernetesBackend implements Backend {
  readonly name = 'kubernetes';
  readonly #client: KubeClient;
  readonly #clock: Clock;

  constructor(private readonly options: KubernetesBackendOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
  }

  async start(spec: RunSpec, options: StartOptions = {}): Promise<RunInfo> {
    checkPluginsForKubernetes(spec.plugins);
    const ns = spec.namespace;
    const client = this.#client;
    // `--pool`: refused now when the pool cannot give what is asked (README: runs on a pool).
    const pool = spec.pool
      ? await (
          await import('./sessions/run-claims.js')
        ).kubePoolRun({
          client,
          sessionsNamespace: this.#sessionsNamespace,
          pool: spec.pool,
          clock: this.#clock,
        })
      : undefined;
    const existing = await client.find<Pod>(
      resourcePath('', 'pods', ns, AGGREGATOR_POD),
      `reading Pod ${ns}/${AGGREGATOR_POD}`,
    );
    if (existing) throw this.#exists(ns);
    let namespace = await this.#namespace(ns);
    let plugins = spec.plugins;
    if (pool) {
      plugins = await pool.wait(ns, plugins, options);
      namespace = await this.#namespace(ns).catch(async (err: unknown) => {
        await pool.release(ns).catch(() => {});
        throw err;
      });
    }
    const kubernetesVersion = spec.kubernetesVersion ?? (await this.#serverVersion());
    const config: KubeRunConfig = {
      uuid: randomUUID(),
      namespace: ns,
      createdAt: new Date(this.#clock.now()).toISOString(),
      timeoutMs: spec.timeoutMs,
      maxResultBytes: spec.maxResultBytes,
      image: this.options.image ?? DEFAULT_IMAGE,
      imagePullPolicy: this.options.imagePullPolicy ?? 'IfNotPresent',
      kubernetesVersion,
      uploadPort: this.options.uploadPort ?? UPLOAD_PORT,
      resultsPort: this.options.resultsPort ?? RESULTS_PORT,
      ...(spec.snapshot ? { snapshot: spec.snapshot } : {}),
    };
    const objects = runManifests({
      config,
      plugins,
      retrieveToken: randomBytes(32).toString('hex'),
      createNamespace: !namespace,
      ...(this.options.aggregatorNodeSelector
        ? { aggregatorNodeSelector: this.options.aggregatorNodeSelector }
        : {}),
    });
    const created: KubeObject[] = [];
    try {
      for (const obj of objects) {
        const ref = obj.metadata.namespace
          ? `${obj.metadata.namespace}/${obj.metadata.name}`
          : obj.metadata.name;
        await client.create(objectPath(obj, false), obj, `creating ${obj.kind} ${ref}`);
        created.push(obj);
      }
    } catch (err) {
      if (pool) await pool.release(ns).catch(() => {});
      throw await this.#rollBack(ns, created, err);
    }
    // The aggregator pod now says whether the run goes on: the waiter's heartbeat can go.
    if (pool) await pool.started(ns);
    return { namespace: ns, uuid: config.uuid, backend: 'kubernetes', createdAt: config.createdAt };
  }

  /** The run's namespace if there; FATHOM_KUBE_CONFLICT while it is being deleted. */
  async #namespace(ns: string): Promise<KubeObject | undefined> {
    const namespace = await this.#client.find<KubeObject>(
      resourcePath('', 'namespaces', undefined, ns),
      `reading Namespace ${ns}`,
    );
    if (namespace?.metadata.deletionTimestamp) {
      throw new FathomError(
        'FATHOM_KUBE_CONFLICT',
        `Namespace ${ns} is being deleted: wait for it (\`fathom delete -n ${ns} --wait\`) and start again`,
      );
    }
    return namespace;
  }

  get #sessionsNamespace(): string {
    return this.options.sessionsNamespace ?? DEFAULT_SESSIONS_NAMESPACE;
  }

  #exists(ns: string, cause?: unknown): FathomError {
    return new FathomError(
      'FATHOM_RUN_EXISTS',
      `a run already exists in namespace "${ns}": run \`fathom delete -n ${ns}\` first`,
      cause ? { cause } : {},
    );
  }

  /** Removes what a failed start created; if that fails too, says how to finish the job. */
  async #rollBack(ns: string, created: readonly KubeObject[], err: unknown): Promise<FathomError> {
    const e = isFathomError(err)
      ? err
      : new FathomError('FATHOM_INTERNAL', String(err), { cause: err });
    const cause = e.code === 'FATHOM_KUBE_CONFLICT' ? this.#exists(ns, e) : e;
    // When fathom made the namespace, deleting it takes everything else with it.
    const ours = created.some((o) => o.kind === 'Namespace')
      ? created.filter((o) => o.kind === 'Namespace' || !o.metadata.namespace)
      : created;
    const left: string[] = [];
    for (const obj of [...ours].reverse()) {
      try {
        await this.#client.remove(
          objectPath(obj, true),
          `deleting ${obj.kind} ${obj.metadata.name}`,
        );
      } catch {
        left.push(`${obj.kind} ${obj.metadata.name}`);
      }
    }
    const note =
      left.length === 0
        ? created.length > 0
          ? ' (what was created is removed again)'
          : ''
        : ` (left behind: ${left.join(', ')}; remove them with \`fathom delete -n ${ns}\`)`;
    return new FathomError(cause.code, `${cause.message}${note}`, {
      cause: e,
      details: cause.details,
    });
  }

  async status(namespace: string): Promise<RunStatus> {
    return statusOfPod(await this.#aggregator(namespace));
  }

  async #aggregator(namespace: string): Promise<Pod> {
    const pod = await this.#client.find<Pod>(
      resourcePath('', 'pods', namespace, AGGREGATOR_POD),
      `reading Pod ${namespace}/${AGGREGATOR_POD}`,
    );
    if (!pod) throw await this.#notFound(namespace);
    return pod;
  }

  /** No aggregator pod: a run on a pool may still wait for its nodes. */
  async #notFound(namespace: string): Promise<FathomError> {
    const { waitingRun } = await import('./sessions/run-claims.js');
    return (
      (await waitingRun(this.#client, this.#sessionsNamespace, namespace)) ?? notFound(namespace)
    );
  }

  async *watch(namespace: string, signal?: AbortSignal): AsyncIterable<RunStatus> {
    let last = await this.status(namespace);
    yield last;
    if (isTerminal(last)) return;
    const stop = signal ?? new AbortController().signal;
    let seen = false;
    for await (const ev of watchObjects<Pod>({
      client: this.#client,
      path: resourcePath('', 'pods', namespace),
      fieldSelector: `metadata.name=${AGGREGATOR_POD}`,
      clock: this.#clock,
      signal: stop,
      what: `watching Pod ${namespace}/${AGGREGATOR_POD}`,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    })) {
      if (ev.type === 'error') {
        if (!seen && isPermanent(ev.error)) throw ev.error;
        continue;
      }
      const pod = ev.type === 'synced' || ev.type === 'resync' ? ev.objects[0] : ev.object;
      if (!pod || ev.type === 'deleted')
        throw new FathomError(
          'FATHOM_RUN_NOT_FOUND',
          `the run in namespace "${namespace}" was deleted`,
        );
      seen = true;
      const status = statusOfPod(pod);
      if (JSON.stringify(status) !== JSON.stringify(last)) {
        last = status;
        yield status;
      }
      if (isTerminal(status)) return;
    }
    signal?.throwIfAborted();
  }

  /**
   * The aggregator container restarts by itself (restartPolicy OnFailure) and resumes from the
   * journal on its volume; this only says where the run stands. A pod that is gone or dead took
   * its volume with it: nothing is left to resume.
   */
  async resume(namespace: string): Promise<ResumeOutcome> {
    const pod = await this.#aggregator(namespace);
    const status = statusOfPod(pod);
    if (status.status === 'complete') return 'complete';
    if (status.status === 'failed') {
      throw new FathomError(
        'FATHOM_RUN_FAILED',
        `the aggregator Pod ${namespace}/${AGGREGATOR_POD} has stopped (${pod.status?.phase}) and its volume with it: the run cannot resume; \`fathom retrieve --partial\` is not possible either`,
      );
    }
    return 'running';
  }

  async retrieve(
    namespace: string,
    destDir: string,
    options: RetrieveOptions = {},
  ): Promise<string> {
    const pod = await this.#aggregator(namespace);
    const status = statusOfPod(pod);
    const tar = status['tar-info'];
    const token = async (): Promise<string> => {
      const secret = await this.#client.get<Secret>(
        resourcePath('', 'secrets', namespace, RETRIEVE_SECRET),
        `reading Secret ${namespace}/${RETRIEVE_SECRET}`,
      );
      return Buffer.from(secret.data?.[RETRIEVE_TOKEN_KEY] ?? '', 'base64').toString('utf8');
    };
    if (status.status !== 'complete' || !tar.name) {
      if (options.partial && status.status !== 'failed') {
        return downloadPartial(this.#client, pod, await token(), destDir);
      }
      throw new FathomError(
        'FATHOM_RUN_NOT_DONE',
        `the run in namespace "${namespace}" has no results yet (status: ${status.status})${status.status === 'failed' ? '' : '; `fathom retrieve --partial` gives what was accepted so far'}`,
      );
    }
    return downloadTarball(this.#client, pod, tar, await token(), destDir);
  }
  async delete(namespace: string, options: { wait?: boolean } = {}): Promise<void> {
    let gone: FathomError | undefined;
    await deleteRun(this.#client, namespace, {
      wait: options.wait ?? false,
      clock: this.#clock,
      pollMs: this.options.pollMs ?? 1000,
      timeoutMs: this.options.deleteTimeoutMs ?? 60 * 60_000,
    }).catch((err: unknown) => {
      if (!isFathomError(err, 'FATHOM_RUN_NOT_FOUND')) throw err;
      gone = err;
    });
    // A run still waiting for its pool has nothing in the cluster but its claim.
    if (!(await this.#releaseClaim(namespace)) && gone) throw gone;
  }

  /**
   * A run on a pool gives its nodes back: its claim goes from the sessions namespace, and the
   * controller frees the nodes at its next look. Without access there (a user who never ran on
   * a pool), the controller's probe frees them once the run is gone. True when it had a claim.
   */
  async #releaseClaim(namespace: string): Promise<boolean> {
    const { kubeRunClaims } = await import('./sessions/run-claims.js');
    try {
      return await kubeRunClaims(this.#client, this.#sessionsNamespace).release(namespace);
    } catch (err) {
      if (!isFathomError(err, 'FATHOM_KUBE_FORBIDDEN')) throw err;
      return false;
    }
  }

  /** The API server's version as Sonobuoy's `auto` makes it a conformance image tag. */
  async kubernetesVersion(): Promise<string> {
    const [version, { conformanceTag }] = await Promise.all([
      this.#client.get<{ gitVersion?: string }>('/version', 'reading the server version'),
      import('../../plugin/builtin.js'),
    ]);
    return conformanceTag(version.gitVersion ?? '');
  }

  /** SONOBUOY_K8S_VERSION as Sonobuoy resolves it; a gitVersion that is no version, as it is. */
  async #serverVersion(): Promise<string> {
    const version = await this.#client.get<{ gitVersion?: string }>(
      '/version',
      'reading the server version',
    );
    const { conformanceTag } = await import('../../plugin/builtin.js');
    try {
      return conformanceTag(version.gitVersion ?? '');
    } catch {
      return version.gitVersion ?? '';
    }
  }

  async list(): Promise<string[]> {
    const pods = await this.#client.list<Pod>('/api/v1/pods', 'listing fathom runs', {
      labelSelector: AGGREGATOR_SELECTOR,
    });
    const namespaces = await this.#client.list<KubeObject>(
      '/api/v1/namespaces',
      'listing fathom namespaces',
      {
        labelSelector: `${LABEL.createdBy}=fathom`,
      },
    );
    const names = [
      ...pods.items.map((p) => p.metadata.namespace ?? ''),
      ...namespaces.items.map((n) => n.metadata.name),
    ];
    return [...new Set(names.filter(Boolean))].sort();
  }

  async *logs(namespace: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    await this.#aggregator(namespace);
    yield* runLogs(this.#client, namespace, options, this.#clock);
  }
}

export interface KubernetesBackendFactoryOptions extends KubeconfigOptions {
  readonly image?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  readonly aggregatorNodeSelector?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly sessionsNamespace?: string;
}

/**
 * The backend for the CLI's cluster flags (`--kubeconfig`, `--context`, `--request-timeout`);
 * resolving the kubeconfig never reaches the network.
 */
export function createKubernetesBackend(options: KubernetesBackendFactoryOptions): Backend {
  const resolved = resolveKubeconfig(options);
  return new KubernetesBackend({
    client: createKubeClient(resolved),
    ...(options.image ? { image: options.image } : {}),
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    ...(options.aggregatorNodeSelector
      ? { aggregatorNodeSelector: options.aggregatorNodeSelector }
      : {}),
    ...(options.sessionsNamespace ? { sessionsNamespace: options.sessionsNamespace } : {}),
    clock: options.clock,
  });
}
