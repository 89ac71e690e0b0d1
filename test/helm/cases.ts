/**
 * The chart against the generators: each case is chart values beside the `fathom gen checks`
 * and `fathom gen sessions` flags that mean the same, and `expectedObjects` is what those
 * generators print, with the chart's own random material (token, CA, certificate) put in, so
 * everything else, the Secrets' digest annotation included, must match exactly.
 */
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';
import {
  checksManifests,
  type ChecksSecrets,
} from '../../src/backends/kubernetes/checks/manifests.js';
import { checksSpec, type RawChecksOptions } from '../../src/backends/kubernetes/checks/options.js';
import { sessionCrd } from '../../src/backends/kubernetes/sessions/crd.js';
import { sessionsManifests } from '../../src/backends/kubernetes/sessions/manifests.js';
import {
  sessionsSpec,
  type RawSessionsOptions,
} from '../../src/backends/kubernetes/sessions/options.js';

export interface ChartCase {
  readonly name: string;
  readonly values: object;
  /** The gen flags for the same settings; null: the component is disabled. */
  readonly checks: RawChecksOptions | null;
  readonly sessions: RawSessionsOptions | null;
}

const infra = 'node-role.kubernetes.io/infra';
const image = { repository: 'registry.example/team/fathom', tag: '1.2.3', pullPolicy: 'Always' };

/** Cases with namespaces of their own (`ns` prefixes them), so a cluster may hold them at once. */
export function chartCases(ns?: string): ChartCase[] {
  const name = (n: string) => (ns ? `${ns}-${n}` : n);
  const nsValues = (checks: string, sessions: string) =>
    ns ? { checks: { namespace: checks }, sessions: { namespace: sessions } } : {};
  return [
    {
      name: 'default values',
      values: ns ? nsValues(name('checks'), name('sessions')) : {},
      checks: ns ? { namespace: name('checks') } : {},
      sessions: ns ? { namespace: name('sessions') } : {},
    },
    {
      name: 'image, one namespace, node selectors, tolerations and every checks setting',
      values: {
        image,
        namespace: name('fathom'),
        nodeSelector: { [infra]: '' },
        tolerations: [
          { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' },
        ],
        checks: {
          replicas: 3,
          strategy: 'hashing',
          nodeExpiration: '30s',
          warmup: '5s',
          rebalancePeriod: '1m',
          poll: '2s',
          dispatcherNodeSelector: { 'kubernetes.io/os': 'linux', [infra]: '' },
          agent: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
          },
        },
        sessions: { replicas: 1, executors: 8, poolLabel: 'fathom.dev/pool' },
      },
      checks: {
        namespace: name('fathom'),
        image: 'registry.example/team/fathom:1.2.3',
        imagePullPolicy: 'Always',
        replicas: '3',
        strategy: 'hashing',
        nodeExpiration: '30s',
        warmup: '5s',
        rebalancePeriod: '1m',
        poll: '2s',
        dispatcherNodeSelector: ['kubernetes.io/os=linux', `${infra}=`],
        nodeSelector: ['kubernetes.io/os=linux'],
        toleration: ['gpu:NoSchedule'],
      },
      sessions: {
        namespace: name('fathom'),
        image: 'registry.example/team/fathom:1.2.3',
        imagePullPolicy: 'Always',
        replicas: '1',
        executors: '8',
        poolLabel: 'fathom.dev/pool',
        nodeSelector: [`${infra}=`],
        toleration: ['dedicated=infra:NoSchedule'],
      },
    },
    {
      name: 'the top-level node selector places the dispatcher and the controller, not the agents',
      values: { ...nsValues(name('checks'), name('sessions')), nodeSelector: { [infra]: 'infra' } },
      checks: {
        ...(ns ? { namespace: name('checks') } : {}),
        dispatcherNodeSelector: [`${infra}=infra`],
      },
      sessions: {
        ...(ns ? { namespace: name('sessions') } : {}),
        nodeSelector: [`${infra}=infra`],
      },
    },
    {
      name: 'sessions only, in a namespace that exists',
      values: {
        createNamespace: false,
        checks: { enabled: false },
        ...(ns ? { sessions: { namespace: name('only') } } : {}),
      },
      checks: null,
      sessions: ns ? { namespace: name('only') } : {},
    },
  ];
}

/** Helm's labels, on every templated object's metadata. */
export const HELM_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
];

export const keyOf = (o: KubeObject): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** The rendered object without Helm's labels; throws when one is missing (they are not optional). */
export function withoutHelmLabels(o: KubeObject): KubeObject {
  if (o.kind === 'CustomResourceDefinition') return o; // crds/ is not templated
  const labels = { ...(o.metadata.labels ?? {}) };
  for (const l of HELM_LABELS) {
    if (!(l in labels)) throw new Error(`${keyOf(o)}: no ${l} label`);
    delete labels[l];
  }
  return { ...o, metadata: { ...o.metadata, labels } };
}

const stringData = (objects: readonly KubeObject[], name: string): Record<string, string> => {
  const s = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (!s) throw new Error(`no Secret ${name} rendered`);
  return (s as KubeObject & { stringData: Record<string, string> }).stringData;
};

/** The material the chart made, read back from its Secrets. */
export function renderedSecrets(objects: readonly KubeObject[]): ChecksSecrets {
  const tls = stringData(objects, 'fathom-checks-tls');
  return {
    token: stringData(objects, 'fathom-checks-token').token!,
    caPem: tls['ca.crt']!,
    certPem: tls['tls.crt']!,
    keyPem: tls['tls.key']!,
  };
}

/** What the generators print for the case's flags (the namespace once when shared). */
export function expectedObjects(c: ChartCase, rendered: readonly KubeObject[]): KubeObject[] {
  const createNamespace = (c.values as { createNamespace?: boolean }).createNamespace !== false;
  const out: KubeObject[] = [];
  if (c.checks) out.push(...checksManifests(checksSpec(c.checks), renderedSecrets(rendered)));
  // crds/ is installed whether sessions are enabled or not.
  out.push(...(c.sessions ? sessionsManifests(sessionsSpec(c.sessions)) : [sessionCrd()]));
  const seen = new Set<string>();
  return out.filter((o) => {
    const k = keyOf(o);
    if (seen.has(k)) return false;
    seen.add(k);
    return o.kind !== 'Namespace' || createNamespace;
  });
}
