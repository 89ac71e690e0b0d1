import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectLookup } from './env.js';
import type { ConfigMap, Pod, Volume } from './types.js';
import { planVolume, tokenRequests, writeVolume } from './volumes.js';
import type { TokenSpec, VolumePlan } from './volumes.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', labels: { b: '2', a: 'x"y' } },
  spec: { containers: [] },
};
const objects: ObjectLookup = {
  secret: (n) =>
    n === 'certs'
      ? { metadata: { name: n }, data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } }
      : undefined,
  configMap: (n): ConfigMap | undefined =>
    n === 'kube-root-ca.crt'
      ? { metadata: { name: n }, data: { 'ca.crt': 'CA' } }
      : n === 'cfg'
        ? {
            metadata: { name: n },
            data: { 'config.json': '{}' },
            binaryData: { blob: b64('\u0001\u0002') },
          }
        : undefined,
};
const tokens: TokenSpec[] = [];
const token = (spec: TokenSpec): string => {
  tokens.push(spec);
  return 'jwt';
};
const plan = (v: Omit<Volume, 'name'>): VolumePlan =>
  planVolume(pod, { name: 'v', ...v }, objects, token);
const files = (p: VolumePlan): [string, string, string][] =>
  p.kind === 'files'
    ? p.files.map((f) => [f.path, f.content.toString('utf8'), f.mode.toString(8)])
    : [];

describe('planVolume', () => {
  it('emptyDir is a dir and hostPath is the host', () => {
    expect(plan({ emptyDir: {} })).toEqual({ kind: 'dir' });
    expect(plan({ hostPath: { path: '/var/log' } })).toEqual({ kind: 'host' });
  });

  it('writes every key of a secret, or only the items, with their modes', () => {
    expect(files(plan({ secret: { secretName: 'certs' } }))).toEqual([
      ['tls.crt', 'CERT', '644'],
      ['tls.key', 'KEY', '644'],
    ]);
    expect(
      files(
        plan({
          secret: {
            secretName: 'certs',
            defaultMode: 0o400,
            items: [{ key: 'tls.key', path: 'k/key.pem' }],
          },
        }),
      ),
    ).toEqual([['k/key.pem', 'KEY', '400']]);
  });

  it('writes configMap data and binaryData', () => {
    const p = plan({ configMap: { name: 'cfg' } });
    expect(files(p).map((f) => f[0])).toEqual(['config.json', 'blob']);
    expect(p.kind === 'files' && [...p.files[1]!.content]).toEqual([1, 2]);
  });

  it('an optional missing object is an empty volume; a required one or a missing key is an error', () => {
    expect(plan({ configMap: { name: 'gone', optional: true } })).toEqual({
      kind: 'files',
      files: [],
    });
    expect(plan({ secret: { secretName: 'gone' } })).toEqual({
      kind: 'error',
      message: 'MountVolume.SetUp failed for volume "v": secret "gone" not found',
    });
    expect(plan({ configMap: { name: 'cfg', items: [{ key: 'nope', path: 'x' }] } })).toEqual({
      kind: 'error',
      message:
        'MountVolume.SetUp failed for volume "v": configmap cfg references non-existent config key: nope',
    });
  });

  it('projects a service-account token, the root CA and the namespace like kube-api-access', () => {
    const v: Volume = {
      name: 'kube-api-access-x',
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    };
    expect(tokenRequests({ ...pod, spec: { containers: [], volumes: [v] } })).toEqual([
      { expirationSeconds: 3607 },
    ]);
    expect(files(planVolume(pod, v, objects, token))).toEqual([
      ['token', 'jwt', '644'],
      ['ca.crt', 'CA', '644'],
      ['namespace', 'ns', '644'],
    ]);
    expect(tokens.at(-1)).toEqual({ expirationSeconds: 3607 });
  });

  it('writes whole label maps as sorted key="value" lines', () => {
    const p = plan({
      downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
    });
    expect(files(p)).toEqual([['labels', 'a="x\\"y"\nb="2"', '644']]);
  });

  it('refuses volume types it cannot provide', () => {
    expect(plan({})).toMatchObject({ kind: 'error' });
  });
});

describe('writeVolume', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podrunner-volumes-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('puts files with their modes under the volume dir', async () => {
    const target = join(dir, 'certs');
    await writeVolume(
      target,
      plan({
        secret: {
          secretName: 'certs',
          items: [{ key: 'tls.key', path: 'k/key.pem', mode: 0o600 }],
        },
      }),
    );
    expect(await readFile(join(target, 'k/key.pem'), 'utf8')).toBe('KEY');
    expect((await stat(join(target, 'k/key.pem'))).mode & 0o777).toBe(0o600);
    await writeVolume(join(dir, 'empty'), { kind: 'dir' });
    expect((await stat(join(dir, 'empty'))).isDirectory()).toBe(true);
  });

  it('refuses a file that would land outside the volume', async () => {
    const evil: VolumePlan = {
      kind: 'files',
      files: [{ path: '../escape', content: Buffer.from('x'), mode: 0o644 }],
    };
    await expect(writeVolume(join(dir, 'evil'), evil)).rejects.toThrow('escapes the volume');
  });
});
