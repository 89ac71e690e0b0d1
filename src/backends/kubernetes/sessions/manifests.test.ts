import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../core/duration.js';
import { parseSessionText, sessionDefaults } from '../../../sessions/index.js';
import { DEFAULT_IMAGE } from '../names.js';
import { DNS_LABEL_PATTERN, DURATION_PATTERN, LABEL_VALUE_PATTERN, sessionCrd } from './crd.js';
import { generateSessionsYaml } from './gen.js';
import { controllerRules, sessionsManifests } from './manifests.js';
import { sessionsSpec } from './options.js';

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: unknown;
}

type Schema = { properties: Record<string, Schema>; items: Schema; [k: string]: unknown };
const version = (sessionCrd().spec as { versions: Record<string, unknown>[] }).versions[0]!;
const root = (version.schema as { openAPIV3Schema: Schema }).openAPIV3Schema;
const spec = root.properties.spec!;
const component = spec.properties.components!.items;

describe('the Session CRD', () => {
  it('is the namespaced fathom.dev/v1alpha1 Session with a status subresource and columns', () => {
    const crd = sessionCrd();
    expect(crd.metadata.name).toBe('sessions.fathom.dev');
    expect(crd.spec).toMatchObject({
      group: 'fathom.dev',
      scope: 'Namespaced',
      names: { kind: 'Session', plural: 'sessions', singular: 'session', categories: ['fathom'] },
    });
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
    expect(version.subresources).toEqual({ status: {} });
    const columns = version.additionalPrinterColumns as { name: string; jsonPath: string }[];
    expect(columns.map((c) => [c.name, c.jsonPath])).toEqual([
      ['State', '.status.state'],
      ['Reason', '.status.reason'],
      ['Priority', '.spec.priority'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('defaults what the parser defaults, to the same values', () => {
    const props = spec.properties;
    expect(props.timeout!.default).toBe(sessionDefaults.timeout);
    expect(props.ttl!.default).toBe(sessionDefaults.ttl);
    expect(props.priority!.default).toBe(sessionDefaults.priority);
    expect(component.properties.replicas!.default).toBe(1);
    const parsed = parseSessionText(
      'apiVersion: fathom.dev/v1alpha1\nkind: Session\nmetadata: {name: a}\nspec:\n  components: [{name: d, kind: driver, pool: p, command: [x]}]\n',
      'a.yaml',
    )[0]!;
    expect(parsed.spec).toMatchObject({
      timeout: props.timeout!.default,
      ttl: props.ttl!.default,
      priority: props.priority!.default,
    });
    expect(parsed.spec.components[0]!.replicas).toBe(component.properties.replicas!.default);
  });

  it('refuses by type and range, and takes the durations the parser takes', () => {
    expect(component.properties.replicas).toMatchObject({ type: 'integer', minimum: 1 });
    expect(component.properties.port).toMatchObject({ type: 'integer', maximum: 65535 });
    expect(component.required).toEqual(['name', 'kind', 'pool', 'command', 'image']);
    expect(root.properties.status!.properties.state!.enum).toContain('Cancelled');
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ['90s', '15m', '1h30m', '250ms', '1.5h', '0', '600', ' 5m ']) {
      expect(pattern.test(text), text).toBe(true);
      expect(() => parseDuration(text)).not.toThrow();
    }
    for (const text of ['soon', '5 m', '-1s', '1d', '', 'm']) {
      expect(pattern.test(text), text).toBe(false);
      expect(() => parseDuration(text), text).toThrow();
    }
    expect(new RegExp(DNS_LABEL_PATTERN).test('a-1')).toBe(true);
    expect(new RegExp(DNS_LABEL_PATTERN).test('A')).toBe(false);
    expect(new RegExp(LABEL_VALUE_PATTERN).test('Big_pool.1')).toBe(true);
  });

  it('makes the spec immutable: the controller placed pods for it', () => {
    expect(spec['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ rule: 'self == oldSelf' }),
    ]);
  });
});

describe('fathom gen sessions objects', () => {
  it('are the CRD, namespace, RBAC and the controller, in an order that applies', () => {
    const objects = sessionsManifests(sessionsSpec({ namespace: 'sess' })) as Obj[];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'CustomResourceDefinition/sessions.fathom.dev',
      'Namespace/sess',
      'ServiceAccount/fathom-session-controller',
      'Role/fathom-session-controller',
      'RoleBinding/fathom-session-controller',
      'ClusterRole/fathom-session-controller-sess',
      'ClusterRoleBinding/fathom-session-controller-sess',
      'Deployment/fathom-session-controller',
    ]);
    for (const o of objects.slice(2, 5)) expect(o.metadata.namespace).toBe('sess');
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding')!;
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'fathom-session-controller', namespace: 'sess' },
    ]);
  });

  it('grants the controller its namespace’s work, nodes read-only, runs’ namespaces and pods by name, nothing else', () => {
    const { namespaced, cluster } = controllerRules();
    expect(cluster).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get'] },
    ]);
    const verbs = (resource: string, names?: string[]) =>
      namespaced
        .filter((r) => r.resources.includes(resource) && String(r.resourceNames) === String(names))
        .flatMap((r) => r.verbs)
        .sort();
    expect(verbs('sessions')).toEqual(['delete', 'get', 'list', 'watch']);
    expect(verbs('sessions/status')).toEqual(['get', 'patch', 'update']);
    expect(verbs('configmaps')).toEqual(['create', 'delete', 'get', 'list', 'update', 'watch']);
    expect(verbs('events')).toEqual(['create', 'patch']);
    expect(verbs('pods')).toEqual(['create', 'delete', 'get', 'list', 'watch']);
    expect(verbs('pods/log')).toEqual(['get']);
    expect(verbs('leases')).toEqual(['create']);
    expect(verbs('leases', ['fathom-session-controller'])).toEqual(['get', 'update']);
    expect(namespaced.flatMap((r) => r.resources)).not.toContain('secrets');
  });

  it('runs the controller restricted, with the flags given', () => {
    const s = sessionsSpec({
      namespace: 'sess',
      replicas: '3',
      executors: '5',
      poolLabel: 'example.com/pool',
      image: 'reg/fathom:1',
      imagePullPolicy: 'Always',
      nodeSelector: ['role=infra'],
      toleration: ['dedicated=infra:NoSchedule'],
    });
    const d = sessionsManifests(s).find((o) => o.kind === 'Deployment') as unknown as Obj & {
      spec: { replicas: number; template: { spec: Record<string, unknown> } };
    };
    expect(d.spec.replicas).toBe(3);
    const pod = d.spec.template.spec as {
      serviceAccountName: string;
      securityContext: { runAsNonRoot: boolean };
      nodeSelector: Record<string, string>;
      tolerations: unknown[];
      containers: {
        image: string;
        imagePullPolicy: string;
        command: string[];
        resources: { requests: object };
        securityContext: { readOnlyRootFilesystem: boolean };
      }[];
    };
    expect(pod.serviceAccountName).toBe('fathom-session-controller');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.nodeSelector).toEqual({ role: 'infra' });
    expect(pod.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' },
    ]);
    const c = pod.containers[0]!;
    expect([c.image, c.imagePullPolicy]).toEqual(['reg/fathom:1', 'Always']);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.resources.requests).toBeDefined();
    expect(c.command).toEqual([
      ...['fathom', 'session-controller', '--backend', 'kubernetes', '-n', 'sess'],
      ...['--executors', '5', '--pool-label', 'example.com/pool'],
    ]);
  });

  it('defaults as gen checks does: its image, two replicas, IfNotPresent, pool', () => {
    const s = sessionsSpec({});
    expect(s).toMatchObject({
      namespace: 'fathom-sessions',
      image: DEFAULT_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      replicas: 2,
      executors: 2,
      poolLabel: 'pool',
    });
    expect(generateSessionsYaml({})).toContain('kind: CustomResourceDefinition');
  });

  it('refuses a bad flag, naming it', () => {
    expect(() => sessionsSpec({ executors: '0' })).toThrow(/^--executors: expected a whole number/);
    expect(() => sessionsSpec({ replicas: 'two' })).toThrow(/^--replicas/);
    expect(() => sessionsSpec({ namespace: 'A_b' })).toThrow(/^--namespace/);
    expect(() => sessionsSpec({ poolLabel: 'a b' })).toThrow(/^--pool-label/);
    expect(() => sessionsSpec({ imagePullPolicy: 'Sometimes' })).toThrow(/^--image-pull-policy/);
    expect(() => sessionsSpec({ toleration: ['x:Never'] })).toThrow(/^--toleration/);
  });
});
