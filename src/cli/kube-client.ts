/** A Kubernetes client for the cluster flags (`--kubeconfig`, `--context`, `-n`, `--request-timeout`). */
import type { KubeClient } from '../backends/kubernetes/api/client.js';
import type { ClusterOptions, Io } from './context.js';

export async function kubeClientFor(
  options: Pick<ClusterOptions, 'namespace' | 'kubeconfig' | 'context' | 'requestTimeout'>,
  io: Io,
): Promise<KubeClient> {
  const [{ resolveKubeconfig }, { createKubeClient }] = await Promise.all([
    import('../backends/kubernetes/api/kubeconfig.js'),
    import('../backends/kubernetes/api/client.js'),
  ]);
  const resolved = resolveKubeconfig({
    env: io.env,
    namespace: options.namespace,
    ...(io.env.HOME ? { homeDir: io.env.HOME } : {}),
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
    ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
  });
  return createKubeClient(resolved);
}
