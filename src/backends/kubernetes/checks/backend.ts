/**
 * Cluster checks on the Kubernetes backend behind the CLI's `ChecksBackend`: `up` applies what
 * `fathom gen checks` prints and waits until it is Current, `down` deletes it, and the dispatcher
 * API is reached through the leader pod (`kubeDispatcherCall`).
 */
import {
  durationArg,
  type ChecksBackend,
  type ChecksUpInfo,
  type ReplicaView,
} from '../../checks.js';
import type { Clock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import type { IsolateResponse, RebalanceResponse, StateResponse } from '../../../checks/wire.js';
import type { KubeClient } from '../api/client.js';
import { kubeDispatcherCall } from './call.js';
import { checksSpec } from './options.js';
import { kubeChecksDown, kubeChecksUp } from './up.js';

export interface KubeChecksOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  readonly image?: string;
  readonly imagePullPolicy?: string;
  /** How long `up` and `down` wait for the workloads. */
  readonly timeoutMs: number;
}

export function createKubeChecks(o: KubeChecksOptions): ChecksBackend {
  const call = async <T>(method: 'GET' | 'POST', path: string): Promise<T> => {
    const answer = await kubeDispatcherCall(
      { client: o.client, namespace: o.namespace },
      method,
      path,
    );
    if (answer.status !== 200) {
      throw new FathomError(
        'FATHOM_DISPATCHER_UNAVAILABLE',
        `${method} ${path} via ${answer.via}: ${answer.status} ${String(answer.body).trim()}`,
      );
    }
    return answer.body as T;
  };
  return {
    name: 'kubernetes',
    async up(request): Promise<ChecksUpInfo> {
      const s = request.settings;
      const spec = checksSpec({
        namespace: o.namespace,
        replicas: s.replicas,
        strategy: s.strategy,
        nodeExpiration: durationArg(s.nodeExpirationMs),
        warmup: durationArg(s.warmupMs),
        rebalancePeriod: durationArg(s.rebalancePeriodMs),
        poll: durationArg(s.pollMs),
        ...(o.image ? { image: o.image } : {}),
        ...(o.imagePullPolicy ? { imagePullPolicy: o.imagePullPolicy } : {}),
      });
      await kubeChecksUp({
        client: o.client,
        clock: o.clock,
        spec,
        timeoutMs: o.timeoutMs,
        ...(request.configsDir ? { configsDir: request.configsDir } : {}),
      });
      return {
        replicas: [
          { name: `Deployment ${o.namespace}/fathom-checks-dispatcher`, url: spec.dispatcherUrl },
        ],
        agents: [],
        configs: request.configsDir
          ? `ConfigMap ${o.namespace}/fathom-checks-configs (from ${request.configsDir})`
          : 'ConfigMaps labelled fathom.dev/checks, Services annotated fathom.dev/check.<name>',
      };
    },
    async down() {
      const { deleted } = await kubeChecksDown({
        client: o.client,
        clock: o.clock,
        namespace: o.namespace,
        timeoutMs: o.timeoutMs,
      });
      return deleted;
    },
    async replicas(): Promise<readonly ReplicaView[]> {
      try {
        const answer = await kubeDispatcherCall(
          { client: o.client, namespace: o.namespace },
          'GET',
          '/api/v1/clusterchecks',
        );
        return [{ name: answer.via, url: 'pod proxy', state: answer.body as StateResponse }];
      } catch (err) {
        return [{ name: 'leader', url: 'pod proxy', error: (err as Error).message }];
      }
    },
    rebalance: (force) =>
      call<RebalanceResponse[]>(
        'POST',
        `/api/v1/clusterchecks/rebalance${force ? '?force=true' : ''}`,
      ),
    isolate: (id) =>
      call<IsolateResponse>(
        'POST',
        `/api/v1/clusterchecks/isolate/check/${encodeURIComponent(id)}`,
      ),
  };
}
