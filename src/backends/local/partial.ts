import { join, resolve } from 'node:path';
import { withPartialSnapshot } from '../../aggregation/partial.js';
import type { Clock } from '../../core/clock.js';
import { tarballName, writeResultsTarball } from '../../results/tarball.js';
import { postProcess } from './daemon.js';
import { files, type LocalRunRecord } from './store.js';

/** `retrieve --partial`: a tarball of every result the run accepted so far, written to `destDir`. */
export async function retrievePartial(
  dir: string,
  record: LocalRunRecord,
  destDir: string,
  clock: Clock,
): Promise<string> {
  const name = tarballName(new Date(clock.now()), record.uuid).replace(
    /\.tar\.gz$/,
    '_partial.tar.gz',
  );
  const dest = resolve(destDir, name);
  await withPartialSnapshot(
    {
      outputDir: join(dir, files.results),
      scratchParent: dir,
      plugins: record.plugins,
      config: {
        uuid: record.uuid,
        namespace: record.namespace,
        timeoutMs: record.timeoutMs,
        bindHost: '127.0.0.1',
        bindPort: 0,
        advertiseHost: '127.0.0.1',
      },
      nodes: record.nodes,
      postProcess,
    },
    (root) => writeResultsTarball(root, dest),
  );
  return dest;
}
