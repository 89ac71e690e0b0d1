import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isFathomError } from '../../../core/errors.js';
import type { KubeObject } from '../api/types.js';
import { generateChecksYaml } from './gen.js';
import {
  agentCommand,
  checksManifests,
  dispatcherCommand,
  type ChecksSecrets,
} from './manifests.js';
import { checksSpec, parseToleration, type RawChecksOptions } from './options.js';
import { generateChecksSecrets } from './secrets.js';

const secrets: ChecksSecrets = {
  token: 'tok-3f9a1c0e5b',
  caPem: 'CA PEM',
  certPem: 'CERT PEM',
  keyPem: 'KEY PEM',
};

function objects(raw: RawChecksOptions = {}, s = secrets): KubeObject[] {
  return checksManifests(checksSpec({ namespace: 'mon', ...raw }), s);
}

interface ContainerV {
  command: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: unknown } }[];
  envFrom?: unknown;
  securityContext: unknown;
  volumeMounts: { name: string; mountPath: string }[];
  readinessProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  resources: { requests: unknown };
}
interface PodSpecV {
  containers: ContainerV[];
  volumes: { name: string; secret?: { secretName: string; defaultMode: number } }[];
  securityContext: unknown;
  tolerations: unknown;
  nodeSelector?: unknown;
  serviceAccountName: string;
}
/** The parts of the generated objects the tests read. */
interface View extends KubeObject {
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  subjects: unknown;
  stringData: Record<string, string>;
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    ports: unknown;
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: PodSpecV;
    };
  };
}

function find(list: KubeObject[], kind: string, name?: string): View {
  const o = list.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''}`);
  return o as View;
}

const podSpec = (o: View): PodSpecV => o.spec.template.spec;

describe('checks manifests', () => {
  it('lists every object in the order they can be applied', () => {
    expect(objects().map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/mon',
      'ServiceAccount/fathom-checks-dispatcher',
      'ClusterRole/fathom-checks-dispatcher-mon',
      'ClusterRoleBinding/fathom-checks-dispatcher-mon',
      'ServiceAccount/fathom-checks-agent',
      'ClusterRole/fathom-checks-agent-mon',
      'ClusterRoleBinding/fathom-checks-agent-mon',
      'Role/fathom-checks-dispatcher',
      'RoleBinding/fathom-checks-dispatcher',
      'Secret/fathom-checks-token',
      'Secret/fathom-checks-tls',
      'Secret/fathom-checks-ca',
      'Service/fathom-checks',
      'Deployment/fathom-checks-dispatcher',
      'DaemonSet/fathom-checks-agent',
    ]);
    for (const o of objects()) {
      expect(o.metadata.labels).toMatchObject({
        component: 'fathom',
        'app.kubernetes.io/part-of': 'fathom-checks',
      });
      if (o.kind.startsWith('Cluster')) expect(o.metadata.labels!['fathom-namespace']).toBe('mon');
      else if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe('mon');
    }
  });

  it('grants the dispatcher exactly the check sources (read) and its own Lease', () => {
    const list = objects();
    expect(find(list, 'ClusterRole', 'fathom-checks-dispatcher-mon').rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps', 'services', 'endpoints'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['discovery.k8s.io'],
        resources: ['endpointslices'],
        verbs: ['get', 'list', 'watch'],
      },
    ]);
    expect(find(list, 'Role', 'fathom-checks-dispatcher').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'update'],
        resourceNames: ['fathom-checks'],
      },
    ]);
    for (const [kind, name] of [
      ['ClusterRoleBinding', 'fathom-checks-dispatcher-mon'],
      ['RoleBinding', 'fathom-checks-dispatcher'],
    ] as const) {
      expect(find(list, kind, name).subjects).toEqual([
        { kind: 'ServiceAccount', name: 'fathom-checks-dispatcher', namespace: 'mon' },
      ]);
    }
  });

  it('grants the agent read-only access: nodes, and the kinds kstatus reads, never Secrets', () => {
    const list = objects();
    const rules = find(list, 'ClusterRole', 'fathom-checks-agent-mon').rules;
    expect(rules[0]).toEqual({ apiGroups: [''], resources: ['nodes'], verbs: ['get'] });
    for (const r of rules.slice(1)) expect(r.verbs).toEqual(['get', 'list']);
    const granted = rules.flatMap((r) => r.resources);
    expect(granted).toEqual(
      expect.arrayContaining(['pods', 'deployments', 'replicasets', 'daemonsets', 'jobs']),
    );
    expect(granted).not.toContain('secrets');
    expect(granted).not.toContain('configmaps');
    expect(find(list, 'ClusterRoleBinding', 'fathom-checks-agent-mon').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'fathom-checks-agent', namespace: 'mon' },
    ]);
    // The agent has no namespaced Role: no Lease, no writes anywhere.
    expect(list.filter((o) => o.kind === 'Role').map((o) => o.metadata.name)).toEqual([
      'fathom-checks-dispatcher',
    ]);
  });

  it('keeps keys out of env: Secrets are mounted files, agents get the CA but not the key', () => {
    const list = objects();
    for (const o of [find(list, 'Deployment'), find(list, 'DaemonSet')]) {
      const spec = podSpec(o);
      for (const c of spec.containers) {
        expect(c.envFrom).toBeUndefined();
        for (const e of c.env) {
          expect(e.valueFrom?.secretKeyRef).toBeUndefined();
          expect(JSON.stringify(e)).not.toContain(secrets.token);
        }
        expect(JSON.stringify(c.command)).not.toContain(secrets.token);
        expect(c.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    }
    const secretsOf = (o: View) =>
      podSpec(o).volumes.flatMap((v) =>
        v.secret ? [[v.secret.secretName, v.secret.defaultMode]] : [],
      );
    expect(secretsOf(find(list, 'Deployment'))).toEqual([
      ['fathom-checks-token', 0o440],
      ['fathom-checks-tls', 0o440],
    ]);
    expect(secretsOf(find(list, 'DaemonSet'))).toEqual([
      ['fathom-checks-token', 0o440],
      ['fathom-checks-ca', 0o440],
    ]);
    expect(find(list, 'Secret', 'fathom-checks-ca').stringData).toEqual({ 'ca.crt': 'CA PEM' });
    expect(find(list, 'Secret', 'fathom-checks-tls')).toMatchObject({
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': 'CERT PEM', 'tls.key': 'KEY PEM', 'ca.crt': 'CA PEM' },
    });
    expect(find(list, 'Secret', 'fathom-checks-token').stringData).toEqual({
      token: secrets.token,
    });
  });

  it('runs the dispatcher with the lease, its pod address and identity, and the mounted files', () => {
    const list = objects({ replicas: '3' });
    const d = find(list, 'Deployment');
    expect(d.spec.replicas).toBe(3);
    const c = podSpec(d).containers[0]!;
    expect(c.command).toEqual([
      'fathom',
      'dispatcher',
      '--backend',
      'kubernetes',
      '--lease',
      'fathom-checks',
      '-n',
      'mon',
      '--listen',
      '$(POD_IP):5005',
      '--advertise',
      '$(POD_IP):5005',
      '--peer-name',
      'fathom-checks.mon.svc',
      '--identity',
      '$(POD_NAME)',
      '--token-file',
      '/etc/fathom/token/token',
      '--tls-dir',
      '/etc/fathom/tls',
      '--ca-file',
      '/etc/fathom/tls/ca.crt',
    ]);
    expect(c.env.map((e) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'POD_IP']);
    expect(c.env[2]?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
    const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.name, m.mountPath]));
    expect(mounts).toMatchObject({ token: '/etc/fathom/token', tls: '/etc/fathom/tls' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 5005, scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 5005, scheme: 'HTTPS' });
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(d.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '5005',
      'prometheus.io/path': '/metrics',
      'prometheus.io/scheme': 'https',
    });
    const svc = find(list, 'Service', 'fathom-checks');
    expect(svc.spec.ports).toEqual([
      { name: 'https', port: 5005, targetPort: 'https', protocol: 'TCP' },
    ]);
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
  });

  it('passes the duration and strategy flags through to the processes as given', () => {
    const spec = checksSpec({
      namespace: 'mon',
      nodeExpiration: '3s',
      warmup: '1s',
      rebalancePeriod: '2m30s',
      strategy: 'hashing',
      poll: '500ms',
    });
    expect(dispatcherCommand(spec).slice(-8)).toEqual([
      '--node-expiration',
      '3s',
      '--warmup',
      '1s',
      '--rebalance-period',
      '2m30s',
      '--strategy',
      'hashing',
    ]);
    expect(agentCommand(spec).slice(-2)).toEqual(['--poll', '500ms']);
    expect(dispatcherCommand(checksSpec({})).join(' ')).not.toMatch(/--warmup|--strategy/);
  });

  it('runs an agent per node: the Service URL, tolerating every taint unless told otherwise', () => {
    const ds = find(objects(), 'DaemonSet');
    const spec = podSpec(ds);
    expect(spec.containers[0]?.command).toEqual([
      'fathom',
      'agent',
      '--backend',
      'kubernetes',
      '--node',
      '$(NODE_NAME)',
      '--dispatcher',
      'https://fathom-checks.mon.svc:5005',
      '--token-file',
      '/etc/fathom/token/token',
      '--ca-file',
      '/etc/fathom/ca/ca.crt',
      '--listen',
      '$(POD_IP):5006',
      '--state-dir',
      '/var/lib/fathom-agent',
    ]);
    expect(spec.containers[0]?.env[0]).toEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.serviceAccountName).toBe('fathom-checks-agent');

    const given = podSpec(
      find(
        objects({
          toleration: ['dedicated=infra:NoSchedule', 'gpu'],
          nodeSelector: ['pool=web', 'kubernetes.io/os=linux'],
          dispatcherNodeSelector: ['role=control'],
          dispatcherUrl: 'https://127.0.0.1:7443',
        }),
        'DaemonSet',
      ),
    );
    expect(given.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' },
      { key: 'gpu', operator: 'Exists' },
    ]);
    expect(given.nodeSelector).toEqual({ pool: 'web', 'kubernetes.io/os': 'linux' });
    const command = given.containers[0]!.command;
    expect(command[command.indexOf('--dispatcher') + 1]).toBe('https://127.0.0.1:7443');
    const dep = podSpec(find(objects({ dispatcherNodeSelector: ['role=control'] }), 'Deployment'));
    expect(dep.nodeSelector).toEqual({ role: 'control' });
  });

  it('rolls the pods when the Secrets change, and only then', () => {
    const digest = (s: ChecksSecrets) =>
      find(objects({}, s), 'Deployment').spec.template.metadata.annotations[
        'fathom.dev/checks-secrets'
      ];
    expect(digest(secrets)).toBe(digest({ ...secrets }));
    expect(digest({ ...secrets, token: 'other' })).not.toBe(digest(secrets));
    expect(digest({ ...secrets, certPem: 'renewed' })).not.toBe(digest(secrets));
  });
});

describe('checks options', () => {
  const code = (raw: RawChecksOptions): string => {
    try {
      checksSpec(raw);
    } catch (err) {
      if (isFathomError(err)) return `${err.code}: ${err.message}`;
      throw err;
    }
    return 'ok';
  };

  it('refuses bad flags with one line naming the flag', () => {
    expect(code({ warmup: '1 minute' })).toMatch(/^FATHOM_BAD_DURATION: --warmup: /);
    expect(code({ nodeExpiration: 'x' })).toMatch(/^FATHOM_BAD_DURATION: --node-expiration: /);
    expect(code({ strategy: 'random' })).toMatch(/^FATHOM_BAD_FLAG_VALUE: --strategy: /);
    expect(code({ replicas: '0' })).toMatch(/^FATHOM_BAD_FLAG_VALUE: --replicas: /);
    expect(code({ replicas: 'two' })).toMatch(/--replicas/);
    expect(code({ namespace: 'Mon_1' })).toMatch(/^FATHOM_BAD_FLAG_VALUE: --namespace: /);
    expect(code({ nodeSelector: ['pool'] })).toMatch(/^FATHOM_BAD_FLAG_VALUE: --node-selector: /);
    expect(code({ nodeSelector: ['a=b c'] })).toMatch(/--node-selector/);
    expect(code({ toleration: ['k=v:Sometimes'] })).toMatch(
      /^FATHOM_BAD_FLAG_VALUE: --toleration: /,
    );
    expect(code({ imagePullPolicy: 'Maybe' })).toMatch(/--image-pull-policy/);
    expect(code({ dispatcherUrl: 'http://x:1' })).toMatch(/--dispatcher-url/);
    expect(code({ warmup: '1s', strategy: 'busyness', replicas: 1 })).toBe('ok');
  });

  it('reads tolerations as kubectl taint spells taints', () => {
    expect(parseToleration('k:NoExecute')).toEqual({
      key: 'k',
      operator: 'Exists',
      effect: 'NoExecute',
    });
    expect(parseToleration('example.com/k=')).toEqual({
      key: 'example.com/k',
      operator: 'Equal',
      value: '',
    });
  });

  it('freezes the spec', () => {
    const spec = checksSpec({ nodeSelector: ['a=b'] });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.nodeSelector)).toBe(true);
    expect(spec.namespace).toBe('fathom-checks');
    expect(spec.replicas).toBe(2);
  });
});

describe('gen checks', () => {
  it('prints applyable YAML with fresh material: a certificate for the Service under the CA', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const yaml = await generateChecksYaml({ namespace: 'mon' }, { now });
    const docs = parseAllDocuments(yaml).map((d) => d.toJSON() as View);
    expect(docs).toHaveLength(15);
    const tls = docs.find((d) => d.metadata.name === 'fathom-checks-tls')!;
    const cert = new X509Certificate(tls.stringData['tls.crt']!);
    expect(cert.verify(new X509Certificate(tls.stringData['ca.crt']!).publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('DNS:fathom-checks.mon.svc');
    expect(Date.parse(cert.validTo) - now).toBeGreaterThan(300 * 86_400_000);
    const token = docs.find((d) => d.metadata.name === 'fathom-checks-token')!.stringData.token!;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const again = await generateChecksYaml({ namespace: 'mon' }, { now });
    expect(again).not.toContain(token);
  });

  it('adds the hosts it is asked for to the certificate', async () => {
    const s = await generateChecksSecrets({
      namespace: 'mon',
      now: Date.now(),
      extraHosts: ['127.0.0.1'],
    });
    expect(new X509Certificate(s.certPem).subjectAltName).toContain('IP Address:127.0.0.1');
  });
});
