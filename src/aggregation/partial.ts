import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ClusterNode } from '../core/nodes.js';
import type { PluginDefinition } from '../plugin/types.js';
import { INCOMING_PREFIX } from './aggregator.js';
import { writeMeta } from './meta.js';
import type { PluginVerdicts, RunConfig } from './run.js';

export interface PartialSnapshotOptions {
  /** The live results tree of a run that is not done (or never will be). */
  readonly outputDir: string;
  /** Where the snapshot is built; removed afterwards. */
  readonly scratchParent: string;
  readonly plugins: readonly PluginDefinition[];
  readonly config: RunConfig;
  readonly nodes: readonly ClusterNode[];
  readonly postProcess?: (root: string, plugin: PluginDefinition) => Promise<PluginVerdicts>;
  readonly logger?: Logger;
}

/**
 * What `retrieve --partial` gives: every result accepted so far, post-processed like a finished
 * run so `fathom results` reads it. The live tree is never written to: its files are hard-linked
 * into a scratch tree (results are renamed into place whole, so each one is complete or absent),
 * post-processing writes there, and `pack` makes the tarball from it.
 */
export async function withPartialSnapshot<T>(
  options: PartialSnapshotOptions,
  pack: (root: string) => Promise<T>,
): Promise<T> {
  await mkdir(options.scratchParent, { recursive: true });
  const scratch = await mkdtemp(join(options.scratchParent, '.partial-'));
  try {
    const root = join(scratch, 'results');
    await linkTree(options.outputDir, root);
    for (const plugin of options.plugins) {
      try {
        await options.postProcess?.(root, plugin);
      } catch (err) {
        options.logger?.warn({ err, plugin: plugin.name }, 'post-processing a partial run failed');
      }
    }
    await writeMeta(root, options.plugins, options.config, options.nodes);
    return await pack(root);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Mirrors `from` into `to` with hard links, leaving out uploads still in flight. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const entries = await readdir(from, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.name.startsWith(INCOMING_PREFIX)) continue;
    if (e.isDirectory()) await linkTree(join(from, e.name), join(to, e.name));
    else if (e.isFile()) await link(join(from, e.name), join(to, e.name));
  }
}
