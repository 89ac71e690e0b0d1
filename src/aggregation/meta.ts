import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VERSION } from '../core/version.js';
import type { ClusterNode } from '../core/nodes.js';
import type { PluginDefinition } from '../plugin/types.js';
import type { RunConfig } from './run.js';

/** Sonobuoy's meta/ files and each plugin's definition.json, as the tarball carries them. */
export async function writeMeta(
  root: string,
  plugins: readonly PluginDefinition[],
  config: RunConfig,
  nodes: readonly ClusterNode[],
): Promise<void> {
  const meta = join(root, 'meta');
  await mkdir(meta, { recursive: true });
  const sonobuoyConfig = {
    Description: 'DEFAULT',
    UUID: config.uuid,
    Version: `fathom-${VERSION}`,
    ResultsDir: root,
    ...config.snapshotConfig,
    Namespace: config.namespace,
    Plugins: plugins.map((p) => ({ name: p.name })),
    Server: {
      bindaddress: config.bindHost,
      bindport: config.bindPort,
      advertiseaddress: config.advertiseHost,
      timeoutseconds: Math.round(config.timeoutMs / 1000),
    },
    ProgressUpdatesPort: '8099',
  };
  await writeJson(join(meta, 'config.json'), sonobuoyConfig);
  await writeJson(join(meta, 'info.json'), { plugins: plugins.map((p) => p.name) });
  await writeJson(join(meta, 'nodes.json'), nodes);
  for (const p of plugins) {
    await mkdir(join(root, 'plugins', p.name), { recursive: true });
    await writeJson(join(root, 'plugins', p.name, 'definition.json'), {
      Definition: p.manifest,
      SessionID: config.uuid,
      Namespace: config.namespace,
      SonobuoyImage: config.workerImage ?? '',
      CleanedUp: !p.skipCleanup,
      ImagePullPolicy: config.imagePullPolicy ?? 'IfNotPresent',
      ImagePullSecrets: '',
      CustomAnnotations: null,
    });
  }
}

function writeJson(path: string, value: unknown): Promise<void> {
  return writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
