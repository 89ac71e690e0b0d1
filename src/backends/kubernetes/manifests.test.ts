import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parsePluginDocuments } from '../../plugin/loader.js';
import type { PluginDefinition } from '../../plugin/types.js';
import {
  aggregatorRules,
  checkPluginsForKubernetes,
  generateRunYaml,
  pluginObjects,
  renderManifests,
  runManifests,
  usesHostNetwork,
  type PluginLaunch,
} from './manifests.js';
import { workerTlsMode } from './pod-spec.js';
import { parseRunConfig, type KubeRunConfig } from './runconfig.js';
import { readSnapshotConfig } from '../../snapshot/config.js';
import type { EnvEntry, KubeObject } from './api/types.js';

interface EnvT {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface ContainerT {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  command?: string[];
  env: EnvT[];
  volumeMounts?: unknown[];
  ports: { name: string; containerPort: number }[];
}
interface PodSpecT {
  containers: ContainerT[];
  volumes: { name: string }[];
  [field: string]: unknown;
}
/** The fields the assertions read. */
interface View extends KubeObject {
  spec: PodSpecT & {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpecT };
  };
  data: Record<string, string>;
  stringData: Record<string, string>;
  rules: unknown;
  subjects: unknown;
}

const UUID = '0123abcd-4567-89ef-0123-456789abcdef';
const SESSION = '0123abcd456789ef';

const config: KubeRunConfig = {
  uuid: UUID,
  namespace: 'fathom',
  createdAt: '2026-01-01T00:00:00.000Z',
  timeoutMs: 3_600_000,
  maxResultBytes: 1024,
  image: 'fathom:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  kubernetesVersion: 'v1.36.3',
  uploadPort: 8080,
  resultsPort: 8081,
};

function plugin(yaml: string): PluginDefinition {
  return parsePluginDocuments(yaml, 'test.yaml').plugins[0]!;
}

const job = plugin(`
sonobuoy-config: {driver: Job, plugin-name: smoke, result-format: junit}
spec:
  name: plugin
  image: busybox:1.36
  command: [./run.sh]
  env: [{name: LEVEL, value: full}, {name: RESULTS_DIR, value: /tmp/results}]
`);

const daemon = plugin(`
sonobuoy-config: {driver: DaemonSet, plugin-name: inventory, result-format: manual}
spec: {name: plugin, image: busybox:1.36, command: [/bin/sh, -c, 'sleep 1']}
config-map: {settings.yaml: 'a: 1'}
`);

const custom = plugin(`
sonobuoy-config: {driver: DaemonSet, plugin-name: gpu-check}
spec: {name: plugin, image: x:1}
podSpec:
  serviceAccountName: sonobuoy-serviceaccount
  nodeSelector: {pool: gpu}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
  tolerations: [{key: gpu, operator: Exists}]
  containers: [{name: helper, image: y:1}]
  volumes: [{name: host, hostPath: {path: /var}}]
extra-volumes: [{name: extra, emptyDir: {}}]
config-map: {x.txt: hello}
`);

const ownSa = plugin(`
sonobuoy-config: {driver: Job, plugin-name: own-sa}
spec: {name: plugin, image: x:1}
podSpec: {serviceAccountName: e2e-admin, restartPolicy: Always}
`);

const launch: PluginLaunch = {
  config,
  owner: { name: 'fathom-aggregator', uid: 'uid-1' },
  aggregatorUrl: 'https://10.0.0.5:8080',
  caPem: 'CA PEM',
  clientCert: { certPem: 'CERT PEM', keyPem: 'KEY PEM' },
};

const find = (objects: KubeObject[], kind: string, name: string): View =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as View;
const envOf = (c: ContainerT): Record<string, unknown> =>
  Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));

describe('runManifests', () => {
  const objects = runManifests({
    config,
    plugins: [job, daemon],
    retrieveToken: 'tok',
    createNamespace: true,
  });

  it('creates what Sonobuoy gen creates, in dependency order, the aggregator pod last', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/fathom',
      'ServiceAccount/fathom-aggregator',
      'ServiceAccount/fathom-plugin',
      'ClusterRole/fathom-aggregator-fathom',
      'ClusterRoleBinding/fathom-aggregator-fathom',
      'Role/fathom-aggregator',
      'RoleBinding/fathom-aggregator',
      'Role/fathom-plugin',
      'RoleBinding/fathom-plugin',
      'Secret/fathom-retrieve',
      'ConfigMap/fathom-config',
      'ConfigMap/fathom-plugins',
      'ConfigMap/fathom-plugin-inventory-cm',
      'Service/fathom-aggregator',
      'Pod/fathom-aggregator',
    ]);
    const reuse = runManifests({
      config,
      plugins: [job],
      retrieveToken: 't',
      createNamespace: false,
    });
    expect(reuse.some((o) => o.kind === 'Namespace')).toBe(false);
  });

  it('labels everything with the run; cluster-scoped objects also with the namespace', () => {
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({ component: 'fathom', 'fathom-run': UUID });
      if (o.kind.startsWith('Cluster'))
        expect(o.metadata.labels?.['fathom-namespace']).toBe('fathom');
      else if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('fathom');
    }
    expect(find(objects, 'Namespace', 'fathom').metadata.labels).toMatchObject({
      'fathom-created-by': 'fathom',
      'pod-security.kubernetes.io/enforce': 'privileged',
    });
  });

  it('gives the aggregator least privilege: named deletes, its own pod to patch, nodes and the snapshot read-only', () => {
    expect(aggregatorRules([job, daemon], UUID)).toEqual({
      cluster: [
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        // The snapshot's default: list on everything (secrets are still listed only when named).
        { apiGroups: ['*'], resources: ['*'], verbs: ['list'] },
        { apiGroups: [''], resources: ['nodes/proxy', 'pods/log'], verbs: ['get'] },
      ],
      namespaced: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create'] },
        {
          apiGroups: [''],
          resources: ['pods'],
          verbs: ['patch'],
          resourceNames: ['fathom-aggregator'],
        },
        {
          apiGroups: [''],
          resources: ['pods'],
          verbs: ['delete'],
          resourceNames: [`fathom-smoke-job-${SESSION}`],
        },
        {
          apiGroups: ['apps'],
          resources: ['daemonsets'],
          verbs: ['get', 'list', 'watch', 'create'],
        },
        {
          apiGroups: ['apps'],
          resources: ['daemonsets'],
          verbs: ['delete'],
          resourceNames: [`fathom-inventory-daemon-set-${SESSION}`],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['secrets'],
          verbs: ['delete', 'patch'],
          resourceNames: [`fathom-plugin-smoke-${SESSION}`, `fathom-plugin-inventory-${SESSION}`],
        },
      ],
    });
    // Without Job plugins there is no pod delete rule at all (an empty resourceNames would mean all pods).
    expect(
      aggregatorRules([daemon], UUID).namespaced.filter((r) => r.verbs.includes('delete')),
    ).toHaveLength(2);
    const binding = find(objects, 'ClusterRoleBinding', 'fathom-aggregator-fathom');
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'fathom-aggregator', namespace: 'fathom' },
    ]);
    expect(find(objects, 'Role', 'fathom-plugin').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
  });

  it('runs the aggregator pod with its service account, downward-API env and both ports', () => {
    const pod = find(objects, 'Pod', 'fathom-aggregator');
    expect(pod.metadata.labels).toMatchObject({
      'fathom-component': 'aggregator',
      'sonobuoy-component': 'aggregator',
    });
    expect(pod.spec.serviceAccountName).toBe('fathom-aggregator');
    // A crashed aggregator container restarts and resumes from its volume.
    expect(pod.spec.restartPolicy).toBe('OnFailure');
    const c = pod.spec.containers[0]!;
    expect([c.image, c.command]).toEqual(['fathom:0.1.0', ['fathom', 'aggregator']]);
    expect(envOf(c)).toMatchObject({
      POD_IP: { fieldRef: { fieldPath: 'status.podIP' } },
      POD_UID: { fieldRef: { fieldPath: 'metadata.uid' } },
      FATHOM_RETRIEVE_TOKEN: { secretKeyRef: { name: 'fathom-retrieve', key: 'token' } },
    });
    expect(c.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['uploads', 8080],
      ['results', 8081],
    ]);
    // Every directory the aggregator reads is named by an env var equal to its mount path.
    const mounts = new Map(
      (c.volumeMounts as { name: string; mountPath: string }[]).map((m) => [m.mountPath, m.name]),
    );
    const env = envOf(c);
    expect(
      ['FATHOM_CONFIG_DIR', 'FATHOM_PLUGINS_DIR', 'FATHOM_OUTPUT_DIR'].map((k) =>
        mounts.get(env[k] as string),
      ),
    ).toEqual(['config', 'plugins', 'output']);
    const svc = find(objects, 'Service', 'fathom-aggregator');
    expect(svc.spec.selector).toEqual({ 'fathom-component': 'aggregator', 'fathom-run': UUID });
  });

  it('pins the aggregator pod to nodes with the --aggregator-node-selector labels, only when given', () => {
    expect(find(objects, 'Pod', 'fathom-aggregator').spec.nodeSelector).toBeUndefined();
    const selector = { 'fathom.test/runner': 'true', pool: 'tools' };
    const pinned = runManifests({
      config,
      plugins: [job],
      retrieveToken: 'tok',
      createNamespace: true,
      aggregatorNodeSelector: selector,
    });
    const pod = find(pinned, 'Pod', 'fathom-aggregator');
    expect(pod.spec.nodeSelector).toEqual(selector);
    expect(pod.spec.nodeSelector).not.toBe(selector); // a copy: the objects are data
    // Nothing else moves: the plugins' pods keep their own podSpecs.
    const plugins = find(pinned, 'ConfigMap', 'fathom-plugins').data['plugin-0.yaml'];
    expect(plugins).not.toContain('fathom.test/runner');
    const yaml = generateRunYaml(
      { namespace: 'fathom', plugins: [job], timeoutMs: 0, maxResultBytes: 1 },
      { aggregatorNodeSelector: selector },
    );
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as View);
    expect(find(docs, 'Pod', 'fathom-aggregator').spec.nodeSelector).toEqual(selector);
  });

  it('stores the run config and the plugins so the aggregator reads back the same run', () => {
    const cm = find(objects, 'ConfigMap', 'fathom-config');
    expect(parseRunConfig(cm.data['config.json']!)).toEqual(config);
    const plugins = find(objects, 'ConfigMap', 'fathom-plugins').data;
    expect(Object.keys(plugins)).toEqual(['plugin-0.yaml', 'plugin-1.yaml']);
    const back = Object.values(plugins).map((y) => parsePluginDocuments(y, 'cm').plugins[0]!);
    expect(back.map((p) => [p.name, p.driver, p.resultFormat, p.container.env])).toEqual([
      ['smoke', 'Job', 'junit', job.container.env],
      ['inventory', 'DaemonSet', 'manual', []],
    ]);
    expect(find(objects, 'ConfigMap', 'fathom-plugin-inventory-cm').data).toEqual({
      'settings.yaml': 'a: 1',
    });
    const token = find(objects, 'Secret', 'fathom-retrieve');
    expect(token.stringData).toEqual({ token: 'tok' });
  });

  it('renders YAML documents that read back as the same objects', () => {
    const docs = parseAllDocuments(renderManifests(objects)).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(objects);
  });

  it('generates the same objects as YAML for kubectl apply, reproducibly when pinned', () => {
    const spec = {
      namespace: 'fathom',
      plugins: [job, daemon],
      timeoutMs: 3_600_000,
      maxResultBytes: 1024,
    };
    const pinned = {
      uuid: UUID,
      retrieveToken: 'tok',
      now: new Date(config.createdAt),
      image: 'fathom:0.1.0',
      kubernetesVersion: 'v1.36.3',
    };
    const text = generateRunYaml(spec, pinned);
    expect(parseAllDocuments(text).map((d) => d.toJS() as unknown)).toEqual(objects);
    expect(generateRunYaml(spec, pinned)).toBe(text);
    expect(generateRunYaml(spec)).toMatch(/image: fathom:\d+\.\d+\.\d+/);
  });

  it('refuses plugin names that cannot be label values', () => {
    const long = plugin(
      `sonobuoy-config: {driver: Job, plugin-name: ${'a'.repeat(64)}}\nspec: {name: p, image: x}`,
    );
    expect(() => checkPluginsForKubernetes([long])).toThrow(/longer than 63 characters/);
  });
});

describe('pluginObjects', () => {
  it('a Job plugin is a bare pod with the default podSpec, the plugin and the worker', () => {
    const { secret, workload } = pluginObjects(job, launch);
    expect(secret).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: `fathom-plugin-smoke-${SESSION}` },
      data: {
        'ca.crt': Buffer.from('CA PEM').toString('base64'),
        'tls.crt': Buffer.from('CERT PEM').toString('base64'),
        'tls.key': Buffer.from('KEY PEM').toString('base64'),
      },
    });
    const w = workload as View;
    expect([w.kind, w.metadata.name]).toEqual(['Pod', `fathom-smoke-job-${SESSION}`]);
    expect(w.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name: 'fathom-aggregator', uid: 'uid-1' },
    ]);
    expect(w.metadata.labels).toMatchObject({
      'fathom-plugin': 'smoke',
      'fathom-run': UUID,
      'fathom-component': 'plugin',
    });
    expect(w.metadata.annotations).toEqual({
      'sonobuoy-driver': 'Job',
      'sonobuoy-plugin': 'smoke',
    });
    const spec = w.spec;
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.serviceAccountName).toBe('fathom-plugin');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toHaveLength(3);
    expect(spec.containers.map((c) => c.name)).toEqual(['plugin', 'sonobuoy-worker']);
    expect(spec.volumes).toEqual([
      { name: 'results', emptyDir: {} },
      {
        name: 'fathom-worker-tls',
        secret: { secretName: `fathom-plugin-smoke-${SESSION}`, defaultMode: 0o400 },
      },
    ]);
    const [pluginC, worker] = spec.containers;
    expect(pluginC!.volumeMounts).toEqual([
      { name: 'results', mountPath: '/tmp/sonobuoy/results' },
    ]);
    expect(envOf(pluginC!)).toMatchObject({
      LEVEL: 'full',
      RESULTS_DIR: '/tmp/sonobuoy/results', // fathom's value wins: the volume is there
      SONOBUOY: 'true',
      SONOBUOY_K8S_VERSION: 'v1.36.3',
      SONOBUOY_CONFIG_DIR: '/tmp/sonobuoy/config',
      SONOBUOY_PROGRESS_PORT: '8099',
      NODE_NAME: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(worker!.command).toEqual(['fathom', 'worker', 'global']);
    expect([worker!.image, worker!.imagePullPolicy]).toEqual(['fathom:0.1.0', 'IfNotPresent']);
    // The key is a file in the worker's container only: not in any env, not in the plugin's mounts.
    expect(worker!.volumeMounts).toEqual([
      { name: 'results', mountPath: '/tmp/sonobuoy/results' },
      { name: 'fathom-worker-tls', mountPath: '/etc/fathom/worker-tls', readOnly: true },
    ]);
    for (const c of spec.containers) {
      expect(JSON.stringify(c.env)).not.toMatch(/KEY PEM|secretKeyRef/);
      expect((c as { envFrom?: unknown }).envFrom).toBeUndefined();
    }
    expect(envOf(worker!)).toEqual({
      LEVEL: 'full',
      NODE_NAME: { fieldRef: { fieldPath: 'spec.nodeName' } },
      AGGREGATOR_URL: 'https://10.0.0.5:8080',
      RESULT_TYPE: 'smoke',
      RESULTS_DIR: '/tmp/sonobuoy/results',
      SONOBUOY_RESULTS_DIR: '/tmp/sonobuoy/results',
      SONOBUOY_DIR: '/tmp/sonobuoy',
      SONOBUOY_PROGRESS_PORT: '8099',
      FATHOM_TLS_DIR: '/etc/fathom/worker-tls',
      SONOBUOY_NS: { fieldRef: { fieldPath: 'metadata.namespace' } },
      SONOBUOY_PLUGIN_POD: { fieldRef: { fieldPath: 'metadata.name' } },
      SONOBUOY_WORKER_CONTAINER: 'sonobuoy-worker',
      FATHOM_EXIT_CODE_VERDICT: 'false',
    });
  });

  it("a DaemonSet plugin gets Sonobuoy's default DaemonSet podSpec and a single-node worker", () => {
    const w = pluginObjects(daemon, launch).workload as View;
    expect([w.apiVersion, w.kind, w.metadata.name]).toEqual([
      'apps/v1',
      'DaemonSet',
      `fathom-inventory-daemon-set-${SESSION}`,
    ]);
    expect(w.spec.selector.matchLabels).toEqual({
      'fathom-plugin': 'inventory',
      'fathom-run': UUID,
    });
    expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
    const spec = w.spec.template.spec;
    expect(spec).toMatchObject({
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      tolerations: [{ operator: 'Exists' }],
      restartPolicy: 'Always',
      serviceAccountName: 'fathom-plugin',
    });
    expect(spec.volumes.map((v) => v.name)).toEqual([
      'root',
      'results',
      'fathom-worker-tls',
      'fathom-plugin-config',
    ]);
    expect(spec.volumes[3]).toEqual({
      name: 'fathom-plugin-config',
      configMap: { name: 'fathom-plugin-inventory-cm' },
    });
    expect(spec.containers[0]!.volumeMounts).toContainEqual({
      name: 'fathom-plugin-config',
      mountPath: '/tmp/sonobuoy/config',
    });
    expect(spec.containers[1]!.command).toEqual(['fathom', 'worker', 'single-node']);
  });

  it("honours the plugin's podSpec: selectors, affinity, tolerations, sidecars and volumes", () => {
    const spec = (pluginObjects(custom, launch).workload as View).spec.template.spec;
    expect(spec.nodeSelector).toEqual({ pool: 'gpu' });
    expect(spec.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
          ],
        },
      },
    });
    expect(spec.tolerations).toEqual([{ key: 'gpu', operator: 'Exists' }]);
    expect(spec.serviceAccountName).toBe('fathom-plugin'); // Sonobuoy's account is fathom's here
    expect(spec.containers.map((c) => c.name)).toEqual(['helper', 'plugin', 'sonobuoy-worker']);
    expect(spec.containers[0]!.volumeMounts).toEqual([
      { name: 'fathom-plugin-config', mountPath: '/tmp/sonobuoy/config' },
    ]);
    expect(spec.volumes.map((v) => v.name)).toEqual([
      'host',
      'extra',
      'results',
      'fathom-worker-tls',
      'fathom-plugin-config',
    ]);
    // Neither the plugin nor its sidecars mount the worker's Secret.
    for (const c of spec.containers.slice(0, -1)) {
      expect(JSON.stringify(c.volumeMounts)).not.toContain('fathom-worker-tls');
    }
    // A Job plugin keeps its own service account but always runs once.
    const own = (pluginObjects(ownSa, launch).workload as View).spec;
    expect([own.serviceAccountName, own.restartPolicy]).toEqual(['e2e-admin', 'Never']);
  });

  it('a host-network plugin gets the progress port it is given, in the plugin and the worker', () => {
    expect([usesHostNetwork(daemon), usesHostNetwork(job), usesHostNetwork(custom)]).toEqual([
      true,
      false,
      false,
    ]);
    const port = (p: PluginDefinition, l: PluginLaunch): string[] =>
      (pluginObjects(p, l).workload as View).spec.template.spec.containers
        .slice(-2)
        .map((c) =>
          String((c.env as EnvEntry[]).find((e) => e.name === 'SONOBUOY_PROGRESS_PORT')?.value),
        );
    expect(port(daemon, launch)).toEqual(['8099', '8099']);
    expect(port(daemon, { ...launch, progressPort: 8101 })).toEqual(['8101', '8101']);
  });

  it('does not change the loaded definition', () => {
    const before = JSON.stringify(custom.manifest);
    pluginObjects(custom, launch);
    expect(JSON.stringify(custom.manifest)).toBe(before);
  });
});

describe('parseRunConfig', () => {
  it.each([
    ['not json', /^config\.json: not JSON \(/],
    ['[]', /^config\.json: must be object$/],
    [
      JSON.stringify({ ...config, imagePullPolicy: 'Sometimes' }),
      /^config\.json: imagePullPolicy: must be Always, IfNotPresent or Never$/,
    ],
    [
      JSON.stringify({ ...config, resultsPort: 70000 }),
      /^config\.json: resultsPort: must be a TCP port$/,
    ],
    [JSON.stringify({ ...config, uuid: '' }), /^config\.json: uuid: must be a non-empty string$/],
    [JSON.stringify({ ...config, image: undefined }), /^config\.json: image: is missing$/],
    [
      JSON.stringify({ ...config, snapshot: { Filters: { Namespaces: '(' } } }),
      /^config\.json: snapshot: Filters\.Namespaces: not a regular expression/,
    ],
  ])('rejects %s', (text, message) => {
    expect(() => parseRunConfig(text)).toThrow(message);
  });

  it('gives the config frozen', () => {
    const read = parseRunConfig(JSON.stringify(config));
    expect(Object.isFrozen(read)).toBe(true);
  });

  it("carries the snapshot's Resources, Filters and Limits to the aggregator, and its rules to the ClusterRole", () => {
    const snapshot = readSnapshotConfig(
      { Resources: ['pods', 'nodes'], Filters: { Namespaces: '^fathom$' } },
      { where: 'test', code: 'FATHOM_USAGE' },
    );
    const yaml = generateRunYaml(
      { namespace: 'fathom', plugins: [job], timeoutMs: 0, maxResultBytes: 1, snapshot },
      {},
    );
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as View);
    const read = parseRunConfig(find(docs, 'ConfigMap', 'fathom-config').data['config.json']!);
    expect(read.snapshot).toEqual(snapshot);
    const role = docs.find((d) => d.kind === 'ClusterRole') as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['*'], resources: ['namespaces', 'pods', 'nodes'], verbs: ['list'] },
      { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
    ]);
  });
});

describe('workerTlsMode', () => {
  it.each([
    ['no securityContext: the worker runs as root', {}, 0o400],
    ['root explicitly', { securityContext: { runAsUser: 0 } }, 0o400],
    [
      'another user with an fsGroup: the kubelet grants the group',
      { securityContext: { runAsUser: 1000, fsGroup: 2000 } },
      0o400,
    ],
    [
      'another user, no fsGroup: root-owned 0400 would be unreadable',
      { securityContext: { runAsUser: 1000 } },
      0o444,
    ],
    [
      'runAsNonRoot, user from the image, no fsGroup',
      { securityContext: { runAsNonRoot: true } },
      0o444,
    ],
  ])('%s', (_name, spec, mode) => {
    expect(workerTlsMode(spec)).toBe(mode);
  });
});
