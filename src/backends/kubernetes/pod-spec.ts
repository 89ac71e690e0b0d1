/**
 * A plugin's pods as Sonobuoy's aggregator builds them: the plugin's podSpec (or the driver's
 * default), its container with Sonobuoy's env and volumes, and the worker sidecar that uploads
 * its results over mutual TLS. Pure: data in, objects out.
 */
import type { KeyPair } from '../../core/pki.js';
import { TLS_FILES } from '../../core/tls-files.js';
import { defaultPodSpec } from '../../plugin/gen.js';
import type { PluginDefinition } from '../../plugin/types.js';
import {
  CONFIG_DIR,
  PLUGIN_SA,
  PROGRESS_PORT,
  RESULTS_DIR,
  RESULTS_VOLUME,
  SONOBUOY_DIR,
  SONOBUOY_SA,
  WORKER_CONTAINER,
  WORKER_TLS_DIR,
  WORKER_TLS_VOLUME,
  daemonSetName,
  jobPodName,
  pluginConfigMapName,
  pluginLabels,
  pluginSecretName,
  LABEL,
} from './names.js';
import type { KubeRunConfig } from './runconfig.js';
import type { ContainerSpec, EnvEntry, KubeObject, Secret } from './api/types.js';

type Obj = Record<string, unknown>;

/** What the aggregator knows when it launches a plugin. */
export interface PluginLaunch {
  readonly config: Pick<
    KubeRunConfig,
    'uuid' | 'namespace' | 'image' | 'imagePullPolicy' | 'kubernetesVersion'
  >;
  /** The aggregator pod: it owns everything it launches, so deleting it removes them. */
  readonly owner: { readonly name: string; readonly uid: string };
  readonly aggregatorUrl: string;
  readonly caPem: string;
  readonly clientCert: KeyPair;
  /** SONOBUOY_PROGRESS_PORT for this plugin; 8099 unless several share the host's network. */
  readonly progressPort?: number;
}

export interface PluginObjects {
  readonly secret: Secret;
  /** A bare Pod (Job driver) or a DaemonSet. */
  readonly workload: KubeObject;
}

const CONFIG_VOLUME = 'fathom-plugin-config';

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

const fieldRef = (fieldPath: string): Obj => ({ valueFrom: { fieldRef: { fieldPath } } });

/** Replaces entries of `list` that share a name with `extra`, keeping the list's order. */
function withNamed<T extends { name?: unknown }>(list: readonly T[], extra: readonly T[]): T[] {
  const names = new Set(extra.map((e) => e.name));
  return [...list.filter((e) => !names.has(e.name)), ...extra];
}

/** Env every plugin container gets (reference a). fathom's values win: the volumes are there. */
function sonobuoyEnv(plugin: PluginDefinition, launch: PluginLaunch): EnvEntry[] {
  return [
    { name: 'SONOBUOY', value: 'true' },
    { name: 'SONOBUOY_K8S_VERSION', value: launch.config.kubernetesVersion },
    { name: 'SONOBUOY_RESULTS_DIR', value: RESULTS_DIR },
    { name: 'RESULTS_DIR', value: RESULTS_DIR },
    { name: 'SONOBUOY_CONFIG_DIR', value: CONFIG_DIR },
    { name: 'SONOBUOY_PROGRESS_PORT', value: String(launch.progressPort ?? PROGRESS_PORT) },
    ...(plugin.container.env.some((e) => e.name === 'NODE_NAME')
      ? []
      : [{ name: 'NODE_NAME', ...fieldRef('spec.nodeName') }]),
  ];
}

function mounts(container: Obj, extra: readonly Obj[]): Obj[] {
  const paths = new Set(extra.map((m) => m.mountPath));
  const kept = objects(container.volumeMounts).filter(
    (m) => !paths.has(m.mountPath) && !extra.some((e) => e.name === m.name),
  );
  return [...kept, ...extra];
}

function pluginContainer(plugin: PluginDefinition, launch: PluginLaunch, hasConfig: boolean): Obj {
  const spec = structuredClone((plugin.manifest as Obj).spec) as ContainerSpec;
  const env = withNamed(objects(spec.env) as EnvEntry[], sonobuoyEnv(plugin, launch));
  const extraMounts: Obj[] = [{ name: RESULTS_VOLUME, mountPath: RESULTS_DIR }];
  if (hasConfig) extraMounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_DIR });
  return { ...spec, env, volumeMounts: mounts(spec, extraMounts) };
}

/** The sidecar: `fathom worker`, configured through Sonobuoy's worker variables (reference c.5). */
function workerContainer(plugin: PluginDefinition, launch: PluginLaunch): Obj {
  const own: EnvEntry[] = [
    { name: 'NODE_NAME', ...fieldRef('spec.nodeName') },
    { name: 'AGGREGATOR_URL', value: launch.aggregatorUrl },
    { name: 'RESULT_TYPE', value: plugin.name },
    { name: 'RESULTS_DIR', value: RESULTS_DIR },
    { name: 'SONOBUOY_RESULTS_DIR', value: RESULTS_DIR },
    { name: 'SONOBUOY_DIR', value: SONOBUOY_DIR },
    { name: 'SONOBUOY_PROGRESS_PORT', value: String(launch.progressPort ?? PROGRESS_PORT) },
    // Files, not Sonobuoy's CA_CERT/CLIENT_CERT/CLIENT_KEY: a key in env is visible to too much,
    // and the kubelet refreshes a mounted Secret when the aggregator renews it.
    { name: 'FATHOM_TLS_DIR', value: WORKER_TLS_DIR },
    { name: 'SONOBUOY_NS', ...fieldRef('metadata.namespace') },
    { name: 'SONOBUOY_PLUGIN_POD', ...fieldRef('metadata.name') },
    { name: 'SONOBUOY_WORKER_CONTAINER', value: WORKER_CONTAINER },
    { name: 'FATHOM_EXIT_CODE_VERDICT', value: String(plugin.exitCodeVerdict) },
  ];
  // Sonobuoy merges the plugin's env into the worker's; the worker's own settings win.
  const pluginEnv = objects(
    (plugin.manifest as Obj).spec && ((plugin.manifest as Obj).spec as Obj).env,
  );
  return {
    name: WORKER_CONTAINER,
    image: launch.config.image,
    imagePullPolicy: launch.config.imagePullPolicy,
    command: ['fathom', 'worker', plugin.driver === 'Job' ? 'global' : 'single-node'],
    env: withNamed(pluginEnv as EnvEntry[], own),
    volumeMounts: [
      { name: RESULTS_VOLUME, mountPath: RESULTS_DIR },
      { name: WORKER_TLS_VOLUME, mountPath: WORKER_TLS_DIR, readOnly: true },
    ],
  };
}

/**
 * Whether the plugin's pods share their node's network (Sonobuoy's default for DaemonSets): the
 * progress relays of two such plugins on one node would then compete for one port.
 */
export function usesHostNetwork(plugin: PluginDefinition): boolean {
  const manifest = plugin.manifest as Obj;
  return isObj(manifest.podSpec)
    ? manifest.podSpec.hostNetwork === true
    : plugin.driver === 'DaemonSet';
}

/**
 * The pod spec of a plugin: its own podSpec as written (node selectors, affinity, tolerations
 * honoured) or the driver's default, plus the plugin container, the worker and the volumes.
 */
export function pluginPodSpec(plugin: PluginDefinition, launch: PluginLaunch): Obj {
  const manifest = plugin.manifest as Obj;
  const spec: Obj = isObj(manifest.podSpec)
    ? structuredClone(manifest.podSpec)
    : defaultPodSpec(plugin.driver);
  const sa = spec.serviceAccountName ?? spec.serviceAccount;
  if (sa === undefined || sa === '' || sa === SONOBUOY_SA) {
    spec.serviceAccountName = PLUGIN_SA;
    delete spec.serviceAccount;
  }
  // A Job plugin is a bare pod that runs once; a DaemonSet's pods must restart.
  spec.restartPolicy = plugin.driver === 'Job' ? 'Never' : 'Always';
  const hasConfig = Object.keys(plugin.configMap).length > 0;
  const configMount = { name: CONFIG_VOLUME, mountPath: CONFIG_DIR };
  const sidecars = objects(spec.containers).map((c) =>
    hasConfig ? { ...c, volumeMounts: mounts(c, [configMount]) } : c,
  );
  spec.containers = [
    ...sidecars,
    pluginContainer(plugin, launch, hasConfig),
    workerContainer(plugin, launch),
  ];
  const volumes: Obj[] = [
    { name: RESULTS_VOLUME, emptyDir: {} },
    {
      name: WORKER_TLS_VOLUME,
      secret: {
        secretName: pluginSecretName(plugin.name, launch.config.uuid),
        defaultMode: workerTlsMode(spec),
      },
    },
  ];
  if (hasConfig) {
    volumes.push({ name: CONFIG_VOLUME, configMap: { name: pluginConfigMapName(plugin.name) } });
  }
  spec.volumes = withNamed(
    [...objects(spec.volumes), ...objects(manifest['extra-volumes'])] as { name?: unknown }[],
    volumes,
  );
  return spec;
}

/**
 * The mode of the worker's key files. Secret files belong to root: 0400 when the worker runs as
 * root, or when an fsGroup lets the kubelet give that group read access. A pod that runs as
 * another user without an fsGroup could not read 0400, so it gets 0444; only the worker
 * container mounts the volume, so the plugin still cannot see the key.
 */
export function workerTlsMode(spec: Obj): number {
  const security = isObj(spec.securityContext) ? spec.securityContext : {};
  if (typeof security.fsGroup === 'number') return 0o400;
  const user = security.runAsUser;
  const nonRoot = (typeof user === 'number' && user !== 0) || security.runAsNonRoot === true;
  return nonRoot ? 0o444 : 0o400;
}

/** The plugin Secret's data: the files the worker finds in its TLS directory (FATHOM_TLS_DIR). */
export function pluginSecretData(caPem: string, clientCert: KeyPair): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    [TLS_FILES.ca]: b64(caPem),
    [TLS_FILES.cert]: b64(clientCert.certPem),
    [TLS_FILES.key]: b64(clientCert.keyPem),
  };
}

/** The Secret with the plugin's client certificate and its Pod or DaemonSet, owned by the aggregator. */
export function pluginObjects(plugin: PluginDefinition, launch: PluginLaunch): PluginObjects {
  const { uuid, namespace } = launch.config;
  const labels = pluginLabels(plugin.name, uuid);
  const annotations = { 'sonobuoy-driver': plugin.driver, 'sonobuoy-plugin': plugin.name };
  const ownerReferences = [
    { apiVersion: 'v1', kind: 'Pod', name: launch.owner.name, uid: launch.owner.uid },
  ];
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: pluginSecretName(plugin.name, uuid), namespace, labels, ownerReferences },
    data: pluginSecretData(launch.caPem, launch.clientCert),
  };
  const podSpec = pluginPodSpec(plugin, launch);
  const workload: KubeObject =
    plugin.driver === 'Job'
      ? {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: jobPodName(plugin.name, uuid),
            namespace,
            labels,
            annotations,
            ownerReferences,
          },
          spec: podSpec,
        }
      : {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: {
            name: daemonSetName(plugin.name, uuid),
            namespace,
            labels,
            annotations,
            ownerReferences,
          },
          spec: {
            selector: { matchLabels: { [LABEL.plugin]: plugin.name, [LABEL.run]: uuid } },
            template: { metadata: { labels, annotations }, spec: podSpec },
          },
        };
  return { secret, workload };
}
