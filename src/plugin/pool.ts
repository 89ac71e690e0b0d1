/**
 * `fathom run --pool NAME` on Kubernetes: every plugin's pods are kept to the pool's nodes by a
 * node selector `<pool-label>=NAME`. It goes into the podSpec as written (the driver's default
 * podSpec when the plugin brings none, so its tolerations and host settings stay), because the
 * in-cluster aggregator reads the plugins back from their manifests; and into the definition,
 * so a DaemonSet expects results from the pool's nodes only.
 */
import { defaultPodSpec } from './gen.js';
import { deepFreeze } from './names.js';
import type { PluginDefinition } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function onNodesLabelled(
  plugin: PluginDefinition,
  key: string,
  value: string,
): PluginDefinition {
  const manifest = structuredClone(plugin.manifest) as Obj;
  const podSpec = isObj(manifest.podSpec) ? manifest.podSpec : defaultPodSpec(plugin.driver);
  const written = isObj(podSpec.nodeSelector) ? podSpec.nodeSelector : {};
  const nodeSelector = { ...(written as Record<string, string>), [key]: value };
  manifest.podSpec = { ...podSpec, nodeSelector };
  return deepFreeze({ ...plugin, nodeSelector, manifest });
}
