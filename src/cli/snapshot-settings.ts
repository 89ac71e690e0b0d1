/** The cluster snapshot's settings of `fathom run` and `fathom gen`, from their flags. */
import { resolve } from 'node:path';
import {
  readSnapshotConfigFile,
  snapshotConfigFor,
  type SnapshotConfig,
} from '../snapshot/config.js';
import type { Io } from './context.js';

/** `--config`'s snapshot settings, else `--from`'s, with `--resources` over them. */
export async function snapshotSettings(
  io: Io,
  configFile: string | undefined,
  past: SnapshotConfig | undefined,
  resources: readonly string[] | undefined,
): Promise<SnapshotConfig | undefined> {
  const fromFile = configFile
    ? await readSnapshotConfigFile(resolve(io.cwd, configFile))
    : undefined;
  return snapshotConfigFor(fromFile ?? past, resources);
}
