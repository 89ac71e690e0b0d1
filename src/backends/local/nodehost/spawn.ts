import { join } from 'node:path';
import { FathomError } from '../../../core/errors.js';
import { PACKAGE_ROOT } from '../../../core/version.js';
import { daemonFiles, spawnReadyDaemon, type DaemonSpec } from '../process/daemon.js';
import type { PidRegistry } from '../process/pidfile.js';
import type { StartedHost } from './client.js';
import { NODE_HOST_OWNER, socketPathOf } from './protocol.js';

/** The node host of a run as a detached daemon (`nodehost.pid`, `nodehost.log` in the run dir). */
export function nodeHostDaemon(runDir: string): DaemonSpec {
  return {
    name: 'nodehost',
    argv: [
      process.execPath,
      join(PACKAGE_ROOT, 'bin', 'fathom.js'),
      '__node-host',
      socketPathOf(runDir),
    ],
    files: daemonFiles(runDir, 'nodehost'),
  };
}

/** Starts the run's node host and resolves once it listens. */
export async function startNodeHost(runDir: string, pids: PidRegistry): Promise<StartedHost> {
  const spec = nodeHostDaemon(runDir);
  const { child, ready } = await spawnReadyDaemon(spec);
  const pid = child.pid;
  if (!pid) throw new FathomError('FATHOM_PROCESS_FAILED', `the node host did not start`);
  // Recorded before it is ready: `fathom delete` stops a host stuck starting, too.
  await pids.record(pid, NODE_HOST_OWNER);
  await ready;
  child.channel?.unref();
  return { pid, child };
}
