import { describe, expect, it } from 'vitest';
import { expandVars, fieldValue, referencedObjects, resolveEnv } from './env.js';
import type { ObjectLookup } from './env.js';
import type { Container, Pod } from './types.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const pod: Pod = {
  metadata: {
    name: 'agg',
    namespace: 'fathom',
    uid: 'u-1',
    labels: { app: 'fathom', 'fathom.dev/run': 'r1' },
    annotations: { note: 'hi' },
  },
  spec: { nodeName: 'runner-0', serviceAccountName: 'fathom-sa', containers: [] },
  status: { podIP: '127.0.3.4', hostIP: '127.0.3.1' },
};

const objects: ObjectLookup = {
  secret: (n) =>
    n === 'creds'
      ? { metadata: { name: n }, data: { token: b64('s3cr3t'), pem: b64('/tmp/x') } }
      : undefined,
  configMap: (n) =>
    n === 'cfg'
      ? { metadata: { name: n }, data: { MODE: 'fast', LEVEL: '3', 'bad=key': 'x' } }
      : undefined,
};

const resolve = (
  c: Partial<Container>,
  base: Record<string, string> = {},
  rewrite?: (s: string) => string,
) => resolveEnv(pod, { name: 'c', ...c }, objects, base, rewrite);

describe('fieldValue', () => {
  it.each([
    ['metadata.name', 'agg'],
    ['metadata.namespace', 'fathom'],
    ['metadata.uid', 'u-1'],
    ['spec.nodeName', 'runner-0'],
    ['spec.serviceAccountName', 'fathom-sa'],
    ['status.podIP', '127.0.3.4'],
    ['status.hostIP', '127.0.3.1'],
    ["metadata.labels['fathom.dev/run']", 'r1'],
    ["metadata.annotations['note']", 'hi'],
    ["metadata.labels['absent']", ''],
  ])('%s is %s', (path, value) => {
    expect(fieldValue(pod, path)).toBe(value);
  });

  it('does not know made-up fields', () => {
    expect(fieldValue(pod, 'spec.whatever')).toBeUndefined();
  });
});

describe('expandVars', () => {
  const vars: Record<string, string> = { A: 'x', B: 'y' };
  it.each([
    ['$(A)-$(B)', 'x-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['cost $5', 'cost $5'],
    ['tail $', 'tail $'],
    ['$(A', '$(A'],
  ])('%s → %s', (text, out) => {
    expect(expandVars(text, (n) => vars[n])).toBe(out);
  });
});

describe('resolveEnv', () => {
  it('layers base, envFrom (with prefix) and env, in that order of precedence', () => {
    const r = resolve(
      {
        envFrom: [
          { configMapRef: { name: 'cfg' } },
          { prefix: 'S_', secretRef: { name: 'creds' } },
        ],
        env: [
          { name: 'LEVEL', value: '9' },
          { name: 'WHERE', value: '$(POD_NAME) in $(NS)' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'AGAIN', value: '$(POD_NAME)/$(MODE)/$(HOME)' },
        ],
      },
      { HOME: '/h', MODE: 'base' },
    );
    expect(r).toEqual({
      ok: true,
      env: {
        HOME: '/h',
        MODE: 'fast',
        LEVEL: '9',
        S_token: 's3cr3t',
        S_pem: '/tmp/x',
        WHERE: '$(POD_NAME) in $(NS)', // only variables defined earlier expand
        POD_NAME: 'agg',
        NS: 'fathom',
        AGAIN: 'agg/fast//h',
      },
    });
  });

  it('reads Secret (decoded) and ConfigMap keys', () => {
    const r = resolve({
      env: [
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
      ],
    });
    expect(r).toEqual({ ok: true, env: { TOKEN: 's3cr3t', MODE: 'fast' } });
  });

  it('skips optional references that do not resolve', () => {
    const r = resolve({
      envFrom: [{ secretRef: { name: 'gone', optional: true } }],
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
        {
          name: 'B',
          valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nokey', optional: true } },
        },
      ],
    });
    expect(r).toEqual({ ok: true, env: {} });
  });

  it.each([
    [
      { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] },
      'secret "gone" not found',
    ],
    [
      { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] },
      'configmap "gone" not found',
    ],
    [
      { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'nokey' } } }] },
      "couldn't find key nokey in Secret fathom/creds",
    ],
    [{ envFrom: [{ configMapRef: { name: 'gone' } }] }, 'configmap "gone" not found'],
    [
      { env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] },
      'unsupported fieldPath spec.bogus',
    ],
  ] as [Partial<Container>, string][])('fails like the kubelet: %j', (c, message) => {
    expect(resolve(c)).toEqual({ ok: false, message });
  });

  it('rewrites literal values only, never data from Secrets', () => {
    const rewrite = (s: string): string => s.replace('/tmp/x', '/pod/volumes/x');
    const r = resolve(
      {
        env: [
          { name: 'DIR', value: '/tmp/x' },
          { name: 'PEM', valueFrom: { secretKeyRef: { name: 'creds', key: 'pem' } } },
        ],
      },
      {},
      rewrite,
    );
    expect(r).toEqual({ ok: true, env: { DIR: '/pod/volumes/x', PEM: '/tmp/x' } });
  });
});

describe('referencedObjects', () => {
  it('collects names from env, envFrom and volumes of all containers', () => {
    const p: Pod = {
      metadata: { name: 'p' },
      spec: {
        initContainers: [{ name: 'i', envFrom: [{ secretRef: { name: 's1' } }] }],
        containers: [
          {
            name: 'c',
            env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c1', key: 'k' } } }],
          },
        ],
        volumes: [
          { name: 'v1', secret: { secretName: 's2' } },
          { name: 'v2', configMap: { name: 'c1' } },
          {
            name: 'v3',
            projected: {
              sources: [{ configMap: { name: 'kube-root-ca.crt' } }, { secret: { name: 's1' } }],
            },
          },
        ],
      },
    };
    expect(referencedObjects(p)).toEqual({
      secrets: ['s1', 's2'],
      configMaps: ['c1', 'kube-root-ca.crt'],
    });
  });
});
