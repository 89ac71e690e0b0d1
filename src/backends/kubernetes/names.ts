/** Names, labels and well-known values of the objects a fathom run makes in a cluster. Pure. */
import { VERSION } from '../../core/version.js';

/** Sonobuoy's annotation key: its `status` command and tools read fathom's status from it. */
export const STATUS_ANNOTATION = 'sonobuoy.hept.io/status';

export const AGGREGATOR_POD = 'fathom-aggregator';
export const AGGREGATOR_CONTAINER = 'aggregator';
export const AGGREGATOR_SERVICE = 'fathom-aggregator';
export const AGGREGATOR_SA = 'fathom-aggregator';
export const PLUGIN_SA = 'fathom-plugin';
export const AGGREGATOR_ROLE = 'fathom-aggregator';
export const PLUGIN_ROLE = 'fathom-plugin';
export const CONFIG_MAP = 'fathom-config';
export const PLUGINS_CONFIG_MAP = 'fathom-plugins';
/** Holds the token the results listener asks for, so only those who may read it can retrieve. */
export const RETRIEVE_SECRET = 'fathom-retrieve';
export const RETRIEVE_TOKEN_KEY = 'token';
export const RETRIEVE_TOKEN_HEADER = 'x-fathom-token';

export const WORKER_CONTAINER = 'sonobuoy-worker';
export const RESULTS_VOLUME = 'results';
export const RESULTS_DIR = '/tmp/sonobuoy/results';
export const CONFIG_DIR = '/tmp/sonobuoy/config';
export const SONOBUOY_DIR = '/tmp/sonobuoy';
/** The plugin's Secret (CA, client pair), mounted in the worker container only. */
export const WORKER_TLS_VOLUME = 'fathom-worker-tls';
export const WORKER_TLS_DIR = '/etc/fathom/worker-tls';
export const PROGRESS_PORT = 8099;
/** Worker uploads (mutual TLS), as Sonobuoy's aggregator. */
export const UPLOAD_PORT = 8080;
/** The finished tarball, fetched through the API server's pod proxy. */
export const RESULTS_PORT = 8081;
/** Where the aggregator pod mounts its ConfigMaps (config.json; plugin-<i>.yaml) and its working space. */
export const AGGREGATOR_CONFIG_DIR = '/etc/fathom/config';
export const AGGREGATOR_PLUGINS_DIR = '/etc/fathom/plugins';
export const AGGREGATOR_OUTPUT_DIR = '/tmp/fathom';

/** The Sonobuoy service account plugins name in their podSpecs; fathom's own takes its place. */
export const SONOBUOY_SA = 'sonobuoy-serviceaccount';

export const DEFAULT_IMAGE = `fathom:${VERSION}`;

/** Label keys. Every object carries `component=fathom` and its run's uuid. */
export const LABEL = {
  component: 'component',
  role: 'fathom-component',
  run: 'fathom-run',
  plugin: 'fathom-plugin',
  /** On cluster-scoped objects: the namespace whose run they serve. */
  namespace: 'fathom-namespace',
  /** On a namespace fathom created (and so may delete). */
  createdBy: 'fathom-created-by',
} as const;

export const COMPONENT = 'fathom';

/** Sonobuoy's session id: the first 8 bytes of the run's uuid, as 16 hex characters. */
export function sessionId(uuid: string): string {
  return uuid.replace(/-/g, '').slice(0, 16);
}

export function clusterRoleName(namespace: string): string {
  return `fathom-aggregator-${namespace}`;
}

export function jobPodName(plugin: string, uuid: string): string {
  return `fathom-${plugin}-job-${sessionId(uuid)}`;
}

export function daemonSetName(plugin: string, uuid: string): string {
  return `fathom-${plugin}-daemon-set-${sessionId(uuid)}`;
}

export function pluginSecretName(plugin: string, uuid: string): string {
  return `fathom-plugin-${plugin}-${sessionId(uuid)}`;
}

export function pluginConfigMapName(plugin: string): string {
  return `fathom-plugin-${plugin}-cm`;
}

/** Labels of everything that belongs to a run. */
export function runLabels(uuid: string): Record<string, string> {
  return { [LABEL.component]: COMPONENT, [LABEL.run]: uuid };
}

/** Labels of a plugin's pods, DaemonSet and Secret (Sonobuoy's set, under fathom's keys). */
export function pluginLabels(plugin: string, uuid: string): Record<string, string> {
  return {
    ...runLabels(uuid),
    [LABEL.role]: 'plugin',
    [LABEL.plugin]: plugin,
    'sonobuoy-component': 'plugin',
    'sonobuoy-plugin': plugin,
    tier: 'analysis',
  };
}

/** The selector of one plugin's pods in one run. */
export function pluginSelector(plugin: string, uuid: string): string {
  return `${LABEL.plugin}=${plugin},${LABEL.run}=${uuid}`;
}

export const AGGREGATOR_SELECTOR = `${LABEL.role}=aggregator`;
export const COMPONENT_SELECTOR = `${LABEL.component}=${COMPONENT}`;

/** The results listener's route for `retrieve --partial`, and the headers that describe its answer. */
export const PARTIAL_PATH = '/partial';
export const PARTIAL_NAME_HEADER = 'x-fathom-tarball';
export const PARTIAL_SHA_HEADER = 'x-fathom-sha256';
