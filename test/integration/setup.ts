/**
 * vitest global setup for test/integration/: starts ONE test control plane (the same code as
 * `npm run cluster:up`) before any test file and stops it after all of them, failed or not.
 * Without `go` (and no cached binaries) it provides no cluster and the tests skip, saying why;
 * under CI that fails the run instead (test/support/required.ts).
 */
import type { TestProject } from 'vitest/node';
import { ensureClusterBinaries } from '../cluster/binaries.js';
import { startCluster } from '../cluster/cluster.js';
import { MissingUnderCI, underCI } from '../support/required.js';
import { INTEGRATION_NODES, SPECIAL_POOL } from './context.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const found = await ensureClusterBinaries();
  if (!found.ok) {
    if (!found.goMissing) throw new Error(found.reason); // a broken build must not pass as a skip
    const reason = `no test control plane: ${found.reason.split('\n')[0]}`;
    if (underCI()) throw new MissingUnderCI(reason);
    process.stderr.write(`integration setup: ${reason}; test/integration/ will skip\n`);
    project.provide('fathomCluster', null);
    project.provide('fathomClusterSkip', reason);
    return async () => {};
  }
  const cluster = await startCluster({
    nodes: INTEGRATION_NODES,
    pools: [SPECIAL_POOL],
    binaries: found.binaries,
    log: (line) => process.stderr.write(`integration setup: ${line}\n`),
  });
  // Last resort if vitest dies without running the teardown: never leave the cluster behind.
  const killOnExit = (): void => {
    for (const pid of Object.values(cluster.pids)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);
  process.env.FATHOM_TEST_KUBECONFIG = cluster.kubeconfig; // for tools the tests spawn
  project.provide('fathomCluster', {
    kubeconfig: cluster.kubeconfig,
    server: cluster.server,
    nodeNames: cluster.nodeNames,
  });
  project.provide('fathomClusterSkip', '');
  return async () => {
    process.off('exit', killOnExit);
    await cluster.stop();
  };
}
