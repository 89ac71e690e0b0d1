import { join, resolve } from 'node:path';
import { withPartialSnapshot } from '../../aggregation/partial.js';
import type { Clock } from '../../core/clock.js';
import { partialTarballName, writeResultsTarball } from '../../results/tarball.js';
import { postProcess, runConfigOf } from './daemon.js';
import { files, type LocalRunRecord } from './store.js';

/** `retrieve --partial`: a tarball of every result the run accepted so far, written to `destDir`. */
export async function retrievePartial(
  dir: string,
  record: LocalRunRecord,
  destDir: string,
  clock: Clock,
): Promise<string> {
  const name = partialTarballName(new Date(clock.now()), record.uuid);
  const dest = resolve(destDir, name);
  await withPartialSnapshot(
    {
      outputDir: join(dir, files.results),
      scratchParent: dir,
      plugins: record.plugins,
      config: runConfigOf(record),
      nodes: record.nodes,
      postProcess,
    },
    (root) => writeResultsTarball(root, dest),
  );
  return dest;
}
