/**
 * Cluster checks on Kubernetes, for the CLI: `gen checks`, `checks up/down`, and calls to the
 * dispatcher API for `checks state/results/rebalance/isolate`.
 */
import { createKubeClient, type KubeClient } from '../api/client.js';
import { resolveKubeconfig, type KubeconfigOptions } from '../api/kubeconfig.js';

export { createKubeChecks, type KubeChecksOptions } from './backend.js';
export { kubeDispatcherCall, type DispatcherAnswer, type DispatcherCallOptions } from './call.js';
export { generateChecksYaml } from './gen.js';
export {
  CHECK_STRATEGIES,
  checksSpec,
  type ChecksStrategy,
  type KubeChecksSpec,
  type RawChecksOptions,
} from './options.js';
export {
  kubeChecksDown,
  kubeChecksUp,
  type KubeChecksDownOptions,
  type KubeChecksUpOptions,
  type KubeChecksUpResult,
} from './up.js';

/** A client for the cluster flags, and the namespace they name (`-n`, else the context's). */
export function openKubeChecksClient(options: KubeconfigOptions): {
  client: KubeClient;
  namespace: string;
} {
  const resolved = resolveKubeconfig(options);
  return { client: createKubeClient(resolved), namespace: resolved.namespace };
}
