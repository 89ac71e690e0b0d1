/**
 * Everything `fathom run --backend kubernetes` creates, as Sonobuoy's `gen` makes it: the
 * namespace, service accounts and least-privilege RBAC, the run's ConfigMaps, the aggregator
 * Pod and its Service. Pure: data in, objects out, in the order they must be created.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FathomError } from '../../core/errors.js';
import { renderGoYaml } from '../../plugin/render.js';
import type { PluginDefinition } from '../../plugin/types.js';
import type { RunSpec } from '../backend.js';
import {
  AGGREGATOR_CONFIG_DIR,
  AGGREGATOR_CONTAINER,
  AGGREGATOR_OUTPUT_DIR,
  AGGREGATOR_PLUGINS_DIR,
  AGGREGATOR_POD,
  AGGREGATOR_ROLE,
  AGGREGATOR_SA,
  AGGREGATOR_SERVICE,
  CONFIG_MAP,
  DEFAULT_IMAGE,
  LABEL,
  PLUGIN_ROLE,
  PLUGIN_SA,
  PLUGINS_CONFIG_MAP,
  RESULTS_PORT,
  RETRIEVE_SECRET,
  RETRIEVE_TOKEN_KEY,
  UPLOAD_PORT,
  clusterRoleName,
  daemonSetName,
  jobPodName,
  pluginConfigMapName,
  pluginSecretName,
  runLabels,
} from './names.js';
import { CONFIG_KEY, type ImagePullPolicy, type KubeRunConfig } from './runconfig.js';
import { DEFAULT_SNAPSHOT_CONFIG, type SnapshotConfig } from '../../snapshot/config.js';
import { snapshotRules } from '../../snapshot/plan.js';
import type { KubeObject } from './api/types.js';

export {
  pluginObjects,
  pluginPodSpec,
  pluginSecretData,
  usesHostNetwork,
  type PluginLaunch,
  type PluginObjects,
} from './pod-spec.js';

export interface RunManifestInput {
  readonly config: KubeRunConfig;
  readonly plugins: readonly PluginDefinition[];
  /** The secret the aggregator's results listener asks for. */
  readonly retrieveToken: string;
  /** False when the namespace exists already: fathom then neither creates nor deletes it. */
  readonly createNamespace: boolean;
  /** `--aggregator-node-selector`: labels a node needs to run the aggregator pod (none by default). */
  readonly aggregatorNodeSelector?: Readonly<Record<string, string>>;
}

/** A policy rule; an absent resourceNames means every object of the resource. */
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Plugin names become label values, which Kubernetes caps at 63 characters. */
export function checkPluginsForKubernetes(plugins: readonly PluginDefinition[]): void {
  for (const p of plugins) {
    if (p.name.length > 63) {
      throw new FathomError(
        'FATHOM_PLUGIN_INVALID',
        `${p.source.file}: plugin name "${p.name}" is longer than 63 characters, the limit of a Kubernetes label value`,
        { details: { plugin: p.name } },
      );
    }
  }
}

/**
 * What the aggregator may do, and no more: read nodes, and read what the cluster snapshot is
 * configured to collect; create pods, DaemonSets and Secrets in its namespace but delete only the
 * ones this run names; patch only its own pod (the status annotation). The names are known up
 * front because they derive from the run's uuid.
 */
export function aggregatorRules(
  plugins: readonly PluginDefinition[],
  uuid: string,
  snapshot: SnapshotConfig = DEFAULT_SNAPSHOT_CONFIG,
): { cluster: Rule[]; namespaced: Rule[] } {
  const jobPods = plugins.filter((p) => p.driver === 'Job').map((p) => jobPodName(p.name, uuid));
  const sets = plugins
    .filter((p) => p.driver === 'DaemonSet')
    .map((p) => daemonSetName(p.name, uuid));
  const secrets = plugins.map((p) => pluginSecretName(p.name, uuid));
  const named = (group: string, resource: string, verbs: string[], names: string[]): Rule[] =>
    names.length > 0
      ? [{ apiGroups: [group], resources: [resource], verbs, resourceNames: names }]
      : [];
  return {
    cluster: [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      // Read-only, for the cluster snapshot in the tarball. By default `list` on everything (the
      // resources are known only after discovery); Secrets are still never listed unless named.
      ...snapshotRules(snapshot),
    ],
    namespaced: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create'] },
      ...named('', 'pods', ['patch'], [AGGREGATOR_POD]),
      ...named('', 'pods', ['delete'], jobPods),
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'list', 'watch', 'create'] },
      ...named('apps', 'daemonsets', ['delete'], sets),
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      // patch: certificate renewal rewrites a plugin's Secret.
      ...named('', 'secrets', ['delete', 'patch'], secrets),
    ],
  };
}

function meta(name: string, config: KubeRunConfig, extra: Record<string, string> = {}) {
  return { name, namespace: config.namespace, labels: { ...runLabels(config.uuid), ...extra } };
}

function rbac(input: RunManifestInput): KubeObject[] {
  const { config } = input;
  const rules = aggregatorRules(input.plugins, config.uuid, config.snapshot);
  const clusterScoped = { ...runLabels(config.uuid), [LABEL.namespace]: config.namespace };
  const subject = (sa: string) => [
    { kind: 'ServiceAccount', name: sa, namespace: config.namespace },
  ];
  const roleRef = (kind: string, name: string) => ({
    apiGroup: 'rbac.authorization.k8s.io',
    kind,
    name,
  });
  const rbacApi = 'rbac.authorization.k8s.io/v1';
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(AGGREGATOR_SA, config) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(PLUGIN_SA, config) },
    {
      apiVersion: rbacApi,
      kind: 'ClusterRole',
      metadata: { name: clusterRoleName(config.namespace), labels: clusterScoped },
      rules: rules.cluster,
    },
    {
      apiVersion: rbacApi,
      kind: 'ClusterRoleBinding',
      metadata: { name: clusterRoleName(config.namespace), labels: clusterScoped },
      roleRef: roleRef('ClusterRole', clusterRoleName(config.namespace)),
      subjects: subject(AGGREGATOR_SA),
    },
    {
      apiVersion: rbacApi,
      kind: 'Role',
      metadata: meta(AGGREGATOR_ROLE, config),
      rules: rules.namespaced,
    },
    {
      apiVersion: rbacApi,
      kind: 'RoleBinding',
      metadata: meta(AGGREGATOR_ROLE, config),
      roleRef: roleRef('Role', AGGREGATOR_ROLE),
      subjects: subject(AGGREGATOR_SA),
    },
    // The worker reads its own pod for the no-done-file fallback (reference c.1).
    {
      apiVersion: rbacApi,
      kind: 'Role',
      metadata: meta(PLUGIN_ROLE, config),
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    },
    {
      apiVersion: rbacApi,
      kind: 'RoleBinding',
      metadata: meta(PLUGIN_ROLE, config),
      roleRef: roleRef('Role', PLUGIN_ROLE),
      subjects: subject(PLUGIN_SA),
    },
  ];
}

function aggregatorPod(
  config: KubeRunConfig,
  nodeSelector: Readonly<Record<string, string>> = {},
): KubeObject {
  const fieldEnv = (name: string, fieldPath: string) => ({
    name,
    valueFrom: { fieldRef: { fieldPath } },
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(AGGREGATOR_POD, config, {
      [LABEL.role]: 'aggregator',
      // Sonobuoy's tools find the aggregator by this label.
      'sonobuoy-component': 'aggregator',
    }),
    spec: {
      serviceAccountName: AGGREGATOR_SA,
      // Unlike Sonobuoy's: a crashed aggregator container comes back and resumes from the
      // journal on its emptyDir volume, which lives as long as the pod.
      restartPolicy: 'OnFailure',
      // As Sonobuoy's gen: only when asked for, so the aggregator may run on any node by default.
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector: { ...nodeSelector } } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000 },
      containers: [
        {
          name: AGGREGATOR_CONTAINER,
          image: config.image,
          imagePullPolicy: config.imagePullPolicy,
          command: ['fathom', 'aggregator'],
          env: [
            fieldEnv('POD_NAME', 'metadata.name'),
            fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
            fieldEnv('POD_UID', 'metadata.uid'),
            // Workers dial the pod IP: the advertise address, as Sonobuoy's gen sets it.
            fieldEnv('POD_IP', 'status.podIP'),
            {
              name: 'FATHOM_RETRIEVE_TOKEN',
              valueFrom: { secretKeyRef: { name: RETRIEVE_SECRET, key: RETRIEVE_TOKEN_KEY } },
            },
            // Each names a mount path exactly, so a test kubelet that relocates mounts can follow.
            { name: 'FATHOM_CONFIG_DIR', value: AGGREGATOR_CONFIG_DIR },
            { name: 'FATHOM_PLUGINS_DIR', value: AGGREGATOR_PLUGINS_DIR },
            { name: 'FATHOM_OUTPUT_DIR', value: AGGREGATOR_OUTPUT_DIR },
          ],
          ports: [
            { name: 'uploads', containerPort: config.uploadPort, protocol: 'TCP' },
            { name: 'results', containerPort: config.resultsPort, protocol: 'TCP' },
          ],
          volumeMounts: [
            { name: 'config', mountPath: AGGREGATOR_CONFIG_DIR, readOnly: true },
            { name: 'plugins', mountPath: AGGREGATOR_PLUGINS_DIR, readOnly: true },
            { name: 'output', mountPath: AGGREGATOR_OUTPUT_DIR },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: CONFIG_MAP } },
        { name: 'plugins', configMap: { name: PLUGINS_CONFIG_MAP } },
        { name: 'output', emptyDir: {} },
      ],
    },
  };
}

/** The plugin definitions as the aggregator reads them back: `plugin-<i>.yaml`, as Sonobuoy names them. */
export function pluginFiles(plugins: readonly PluginDefinition[]): Record<string, string> {
  return Object.fromEntries(plugins.map((p, i) => [`plugin-${i}.yaml`, renderGoYaml(p.manifest)]));
}

/** Every object of a run, in creation order (the aggregator pod, which starts the run, last). */
export function runManifests(input: RunManifestInput): KubeObject[] {
  checkPluginsForKubernetes(input.plugins);
  const { config } = input;
  const out: KubeObject[] = [];
  if (input.createNamespace) {
    out.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: config.namespace,
        labels: {
          ...runLabels(config.uuid),
          [LABEL.createdBy]: 'fathom',
          // DaemonSet plugins use the host's network and PID namespace, as Sonobuoy's do.
          'pod-security.kubernetes.io/enforce': 'privileged',
        },
      },
    });
  }
  out.push(...rbac(input));
  out.push({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: meta(RETRIEVE_SECRET, config),
    stringData: { [RETRIEVE_TOKEN_KEY]: input.retrieveToken },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(CONFIG_MAP, config),
    data: { [CONFIG_KEY]: `${JSON.stringify(config, null, 2)}\n` },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(PLUGINS_CONFIG_MAP, config),
    data: pluginFiles(input.plugins),
  });
  for (const p of input.plugins) {
    if (Object.keys(p.configMap).length === 0) continue;
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(pluginConfigMapName(p.name), config, { [LABEL.plugin]: p.name }),
      data: { ...p.configMap },
    });
  }
  out.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(AGGREGATOR_SERVICE, config),
    spec: {
      selector: { [LABEL.role]: 'aggregator', [LABEL.run]: config.uuid },
      ports: [
        {
          name: 'uploads',
          port: config.uploadPort,
          targetPort: config.uploadPort,
          protocol: 'TCP',
        },
        {
          name: 'results',
          port: config.resultsPort,
          targetPort: config.resultsPort,
          protocol: 'TCP',
        },
      ],
    },
  });
  out.push(aggregatorPod(config, input.aggregatorNodeSelector));
  return out;
}

/** The objects as YAML documents for `kubectl apply -f -` (what `fathom gen` prints). */
export function renderManifests(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${renderGoYaml(o)}`).join('');
}

export interface GenOptions {
  readonly image?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  /** SONOBUOY_K8S_VERSION for the plugins; `gen` does not ask the cluster. */
  readonly kubernetesVersion?: string;
  /** Fixed for reproducible output; random by default. */
  readonly uuid?: string;
  readonly retrieveToken?: string;
  readonly now?: Date;
  readonly aggregatorNodeSelector?: Readonly<Record<string, string>>;
}

/**
 * `fathom gen` for Kubernetes: every object of a run as YAML documents for `kubectl apply -f -`.
 * The run then starts as if `fathom run` had made it, and `fathom status/retrieve/delete` work.
 */
export function generateRunYaml(spec: RunSpec, options: GenOptions = {}): string {
  const config: KubeRunConfig = {
    uuid: options.uuid ?? randomUUID(),
    namespace: spec.namespace,
    createdAt: (options.now ?? new Date()).toISOString(),
    timeoutMs: spec.timeoutMs,
    maxResultBytes: spec.maxResultBytes,
    image: options.image ?? DEFAULT_IMAGE,
    imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
    kubernetesVersion: options.kubernetesVersion ?? '',
    uploadPort: UPLOAD_PORT,
    resultsPort: RESULTS_PORT,
    ...(spec.snapshot ? { snapshot: spec.snapshot } : {}),
  };
  const retrieveToken = options.retrieveToken ?? randomBytes(32).toString('hex');
  return renderManifests(
    runManifests({
      config,
      plugins: spec.plugins,
      retrieveToken,
      createNamespace: true,
      ...(options.aggregatorNodeSelector
        ? { aggregatorNodeSelector: options.aggregatorNodeSelector }
        : {}),
    }),
  );
}
