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

/**
 * `--pool-nodes N` granted fewer than all the pool's nodes: the pods are also kept to exactly
 * those nodes by a required node affinity on `metadata.name`, ANDed into every term the plugin
 * wrote (terms are ORed, so each one gets the restriction).
 */
export function onNodesNamed(plugin: PluginDefinition, names: readonly string[]): PluginDefinition {
  const only = { key: 'metadata.name', operator: 'In' as const, values: [...names].sort() };
  const manifest = structuredClone(plugin.manifest) as Obj;
  const podSpec = isObj(manifest.podSpec) ? manifest.podSpec : defaultPodSpec(plugin.driver);
  const affinity = isObj(podSpec.affinity) ? podSpec.affinity : {};
  const nodeAffinity = isObj(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
  const required = isObj(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution)
    ? nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
    : {};
  const written = Array.isArray(required.nodeSelectorTerms)
    ? (required.nodeSelectorTerms as Obj[])
    : [];
  const wire = (written.length ? written : [{}]).map((t) => ({
    ...t,
    matchFields: [...(Array.isArray(t.matchFields) ? (t.matchFields as Obj[]) : []), only],
  }));
  manifest.podSpec = {
    ...podSpec,
    affinity: {
      ...affinity,
      nodeAffinity: {
        ...nodeAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: { ...required, nodeSelectorTerms: wire },
      },
    },
  };
  const terms = (
    plugin.requiredNodeAffinity?.length
      ? plugin.requiredNodeAffinity
      : [{ matchExpressions: [], matchFields: [] }]
  ).map((t) => ({ ...t, matchFields: [...t.matchFields, only] }));
  return deepFreeze({ ...plugin, requiredNodeAffinity: terms, manifest });
}
