/**
 * The checks backend the flags name. Local: detached processes on the embedded cluster's nodes.
 * Kubernetes: a Deployment of replicas and a DaemonSet of agents (what `fathom gen checks` prints).
 */
import type { ChecksBackend } from '../../backends/checks.js';
import type { ClusterOptions, Io } from '../context.js';

/** Where cluster checks live on Kubernetes unless `-n` names another namespace than runs' default. */
const CHECKS_NAMESPACE = 'fathom-checks';

export async function openChecksBackend(options: ClusterOptions, io: Io): Promise<ChecksBackend> {
  if (options.backend === 'kubernetes') {
    const [{ createKubeChecks, openKubeChecksClient }, { systemClock }] = await Promise.all([
      import('../../backends/kubernetes/checks/index.js'),
      import('../../core/clock.js'),
    ]);
    const { client } = openKubeChecksClient({
      env: io.env,
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
    });
    return createKubeChecks({
      client,
      // Not the runs' default namespace: deleting a run may delete the namespace it created.
      namespace: options.namespace === 'fathom' ? CHECKS_NAMESPACE : options.namespace,
      clock: systemClock,
      timeoutMs: 5 * 60_000,
      ...(options.image ? { image: options.image } : {}),
      ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    });
  }
  const [{ LocalChecks }, { fathomHome }, { systemClock }] = await Promise.all([
    import('../../backends/local/checks/checks.js'),
    import('../../backends/local/store.js'),
    import('../../core/clock.js'),
  ]);
  return new LocalChecks({ home: fathomHome(io.env), clock: systemClock, env: io.env });
}
