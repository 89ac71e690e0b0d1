/**
 * The checks backend the flags name. Local: detached processes on the embedded cluster's nodes.
 * Kubernetes: a Deployment of replicas and a DaemonSet of agents, added beside this switch (the
 * ChecksBackend contract in src/backends/checks.ts) by the Kubernetes side of cluster checks.
 */
import type { ChecksBackend } from '../../backends/checks.js';
import { FathomError } from '../../core/errors.js';
import type { ClusterOptions, Io } from '../context.js';

export async function openChecksBackend(options: ClusterOptions, io: Io): Promise<ChecksBackend> {
  if (options.backend === 'kubernetes') {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      '--backend kubernetes: cluster checks on Kubernetes (`fathom gen checks`, a Deployment of dispatchers and a DaemonSet of agents) are not in this build yet; `fathom dispatcher` and `fathom agent` run in pods as they are',
      { details: { flag: '--backend' } },
    );
  }
  const [{ LocalChecks }, { fathomHome }, { systemClock }] = await Promise.all([
    import('../../backends/local/checks/checks.js'),
    import('../../backends/local/store.js'),
    import('../../core/clock.js'),
  ]);
  return new LocalChecks({ home: fathomHome(io.env), clock: systemClock, env: io.env });
}
