/**
 * Everything cluster checks run on Kubernetes, as `fathom gen checks` prints it and `fathom
 * checks up` applies it: the namespace, a service account and least-privilege RBAC for the
 * dispatcher and for the agents, the token and TLS Secrets, the dispatcher Deployment behind the
 * `fathom-checks` Service, and the agent DaemonSet. Pure: a spec and secrets in, objects out, in
 * the order they can be applied.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { CONTAINER_SECURITY, POD_SECURITY, spreadOverNodes } from '../pod-security.js';
import {
  AGENT,
  AGENT_PORT,
  AGENT_STATE_DIR,
  CA_DIR,
  CA_KEY,
  CA_SECRET,
  CHECKS_LEASE,
  CHECKS_SERVICE,
  CONFIGS_CONFIG_MAP,
  DISPATCHER,
  DISPATCHER_PORT,
  SECRETS_ANNOTATION,
  TLS_DIR,
  TLS_SECRET,
  TOKEN_DIR,
  TOKEN_KEY,
  TOKEN_SECRET,
  checksLabels,
  checksSelector,
  serviceHosts,
} from './names.js';
import { AGENT_DURATIONS, DISPATCHER_DURATIONS, type KubeChecksSpec } from './options.js';
import { meta, rbacObjects } from './rbac.js';

export { agentRules, dispatcherRules, type Rule } from './rbac.js';

/** The token and the dispatcher's TLS material, PEM. */
export interface ChecksSecrets {
  readonly token: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

function secrets(spec: KubeChecksSpec, s: ChecksSecrets): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: meta(TOKEN_SECRET, spec, 'checks'),
      stringData: { [TOKEN_KEY]: s.token },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: meta(TLS_SECRET, spec, 'checks-dispatcher'),
      stringData: { 'tls.crt': s.certPem, 'tls.key': s.keyPem, [CA_KEY]: s.caPem },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: meta(CA_SECRET, spec, 'checks-agent'),
      stringData: { [CA_KEY]: s.caPem },
    },
  ];
}

/** A digest of the Secrets' content: new material gives the pod templates a new annotation. */
export function secretsDigest(s: ChecksSecrets): string {
  return createHash('sha256')
    .update(JSON.stringify([s.token, s.caPem, s.certPem, s.keyPem]))
    .digest('hex')
    .slice(0, 16);
}

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/** Secret volumes readable by the pod's group (fsGroup) only. */
const secretVolume = (name: string, secretName: string) => ({
  name,
  secret: { secretName, defaultMode: 0o440 },
});

function durationArgs(spec: KubeChecksSpec, flags: readonly string[]): string[] {
  const d = spec.durations as Readonly<Record<string, string | undefined>>;
  return flags.flatMap((f) => (d[f] === undefined ? [] : [`--${f}`, d[f]]));
}

function podAnnotations(spec: KubeChecksSpec, port: number, scheme: string, digest: string) {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': '/metrics',
    'prometheus.io/scheme': scheme,
    [SECRETS_ANNOTATION]: digest,
  };
}

const withSelector = (selector: Readonly<Record<string, string>>) =>
  Object.keys(selector).length > 0 ? { nodeSelector: { ...selector } } : {};

/** The dispatcher's command line: its flags as the issue names them, durations passed through. */
export function dispatcherCommand(spec: KubeChecksSpec): string[] {
  return [
    'fathom',
    'dispatcher',
    // The cluster's check ConfigMaps and Services are sources only on this backend.
    '--backend',
    'kubernetes',
    '--lease',
    CHECKS_LEASE,
    '-n',
    spec.namespace,
    // The pod's own address, not 0.0.0.0: the same on a cluster, and pods that share one
    // network namespace (a test kubelet) do not collide.
    '--listen',
    `$(POD_IP):${DISPATCHER_PORT}`,
    '--advertise',
    `$(POD_IP):${DISPATCHER_PORT}`,
    // Followers reach the leader by pod IP; the shared certificate names the Service.
    '--peer-name',
    serviceHosts(spec.namespace)[0]!,
    '--identity',
    '$(POD_NAME)',
    '--token-file',
    `${TOKEN_DIR}/${TOKEN_KEY}`,
    '--tls-dir',
    TLS_DIR,
    '--ca-file',
    `${TLS_DIR}/${CA_KEY}`,
    ...durationArgs(spec, DISPATCHER_DURATIONS),
    ...(spec.strategy ? ['--strategy', spec.strategy] : []),
  ];
}

export function agentCommand(spec: KubeChecksSpec): string[] {
  return [
    'fathom',
    'agent',
    // The Node's labels (for nodeSelectors) and kubernetes-status checks read the API.
    '--backend',
    'kubernetes',
    '--node',
    '$(NODE_NAME)',
    '--dispatcher',
    spec.dispatcherUrl,
    '--token-file',
    `${TOKEN_DIR}/${TOKEN_KEY}`,
    '--ca-file',
    `${CA_DIR}/${CA_KEY}`,
    '--listen',
    `$(POD_IP):${AGENT_PORT}`,
    '--state-dir',
    AGENT_STATE_DIR,
    ...durationArgs(spec, AGENT_DURATIONS),
  ];
}

function probe(port: number, scheme: 'HTTP' | 'HTTPS', periodSeconds: number) {
  return { httpGet: { path: '/healthz', port, scheme }, periodSeconds, timeoutSeconds: 2 };
}

function dispatcherDeployment(spec: KubeChecksSpec, digest: string): KubeObject {
  const selector = checksSelector('checks-dispatcher');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(DISPATCHER, spec, 'checks-dispatcher'),
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector },
      // One replica at a time, so a leader is always there to hand over to.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
      template: {
        metadata: {
          labels: checksLabels('checks-dispatcher'),
          annotations: podAnnotations(spec, DISPATCHER_PORT, 'https', digest),
        },
        spec: {
          serviceAccountName: DISPATCHER,
          securityContext: POD_SECURITY,
          ...withSelector(spec.dispatcherNodeSelector),
          affinity: spreadOverNodes(selector),
          containers: [
            {
              name: 'dispatcher',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              command: dispatcherCommand(spec),
              env: [
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                fieldEnv('POD_IP', 'status.podIP'),
              ],
              ports: [{ name: 'https', containerPort: DISPATCHER_PORT, protocol: 'TCP' }],
              readinessProbe: probe(DISPATCHER_PORT, 'HTTPS', 5),
              livenessProbe: { ...probe(DISPATCHER_PORT, 'HTTPS', 10), failureThreshold: 3 },
              resources: { requests: { cpu: '100m', memory: '128Mi' } },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'token', mountPath: TOKEN_DIR, readOnly: true },
                { name: 'tls', mountPath: TLS_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            secretVolume('token', TOKEN_SECRET),
            secretVolume('tls', TLS_SECRET),
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

function agentDaemonSet(spec: KubeChecksSpec, digest: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(AGENT, spec, 'checks-agent'),
    spec: {
      selector: { matchLabels: checksSelector('checks-agent') },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: checksLabels('checks-agent'),
          annotations: podAnnotations(spec, AGENT_PORT, 'http', digest),
        },
        spec: {
          serviceAccountName: AGENT,
          securityContext: POD_SECURITY,
          ...withSelector(spec.nodeSelector),
          tolerations: spec.tolerations
            ? spec.tolerations.map((t) => ({ ...t }))
            : [{ operator: 'Exists' }],
          containers: [
            {
              name: 'agent',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              command: agentCommand(spec),
              env: [
                fieldEnv('NODE_NAME', 'spec.nodeName'),
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_IP', 'status.podIP'),
              ],
              ports: [{ name: 'metrics', containerPort: AGENT_PORT, protocol: 'TCP' }],
              readinessProbe: probe(AGENT_PORT, 'HTTP', 10),
              livenessProbe: { ...probe(AGENT_PORT, 'HTTP', 20), failureThreshold: 3 },
              resources: { requests: { cpu: '50m', memory: '64Mi' } },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'token', mountPath: TOKEN_DIR, readOnly: true },
                { name: 'ca', mountPath: CA_DIR, readOnly: true },
                // Command and plugin checks write their scratch files here.
                { name: 'state', mountPath: AGENT_STATE_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            secretVolume('token', TOKEN_SECRET),
            secretVolume('ca', CA_SECRET),
            { name: 'state', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** `checks up -f DIR`: the directory's YAML files as a check source the dispatcher watches. */
export function configsConfigMap(
  spec: KubeChecksSpec,
  files: Readonly<Record<string, string>>,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...meta(CONFIGS_CONFIG_MAP, spec, 'checks'),
      labels: { ...checksLabels('checks'), 'fathom.dev/checks': 'true' },
    },
    data: { ...files },
  };
}

/** Every object, in the order they can be applied (what pods mount before the pods). */
export function checksManifests(spec: KubeChecksSpec, s: ChecksSecrets): KubeObject[] {
  const digest = secretsDigest(s);
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: spec.namespace, labels: checksLabels('checks') },
    },
    ...rbacObjects(spec),
    ...secrets(spec, s),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(CHECKS_SERVICE, spec, 'checks-dispatcher'),
      spec: {
        selector: checksSelector('checks-dispatcher'),
        ports: [{ name: 'https', port: DISPATCHER_PORT, targetPort: 'https', protocol: 'TCP' }],
      },
    },
    dispatcherDeployment(spec, digest),
    agentDaemonSet(spec, digest),
  ];
}
