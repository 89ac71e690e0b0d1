/** Shared by the local backend's tests: a run record's plugin, with what a test cares about. */
import type { LocalRunRecord } from './store.js';

type Plugin = LocalRunRecord['plugins'][number];

/** A plugin as a run record keeps it: `name.yaml`, a raw result, busybox running `true`. */
export function recordPlugin(
  name: string,
  driver: 'Job' | 'DaemonSet',
  over: Partial<Plugin> = {},
): Plugin {
  return {
    name,
    driver,
    resultFormat: 'raw',
    resultFiles: [],
    skipCleanup: false,
    exitCodeVerdict: false,
    description: '',
    sourceUrl: '',
    order: 0,
    container: { name: 'plugin', image: 'busybox', command: ['true'], args: [], env: [] },
    nodeSelector: {},
    tolerations: [],
    configMap: {},
    manifest: {},
    source: { file: `${name}.yaml`, document: 0 },
    ...over,
  };
}
