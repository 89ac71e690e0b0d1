import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { resolveKubeconfig } from './kubeconfig.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-kubeconfig-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface FileSpec {
  clusters?: [string, string][];
  contexts?: [string, string, string, string?][];
  users?: string[];
  current?: string;
}

/** Writes a kubeconfig: clusters [name, server], contexts [name, cluster, user, namespace?]. */
async function kubeconfig(name: string, spec: FileSpec): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: (spec.clusters ?? []).map(([n, server]) => ({
        name: n,
        cluster: { server, 'certificate-authority': 'ca.crt' },
      })),
      users: (spec.users ?? []).map((u) => ({ name: u, user: { token: `token-of-${u}` } })),
      contexts: (spec.contexts ?? []).map(([n, cluster, user, namespace]) => ({
        name: n,
        context: { cluster, user, ...(namespace ? { namespace } : {}) },
      })),
      ...(spec.current ? { 'current-context': spec.current } : {}),
    }),
  );
  return path;
}

const noHome = (): string => join(dir, 'no-home');

describe('resolveKubeconfig', () => {
  it('--kubeconfig reads only that file and makes relative paths absolute against it', async () => {
    const a = await kubeconfig('a', {
      clusters: [['c', 'https://a.example:6443']],
      users: ['u'],
      contexts: [['ctx', 'c', 'u', 'team-a']],
      current: 'ctx',
    });
    const other = await kubeconfig('b', { clusters: [['c', 'https://b.example']], current: 'x' });
    const r = resolveKubeconfig({ kubeconfig: a, env: { KUBECONFIG: other }, homeDir: noHome() });
    expect([r.source, r.files, r.context, r.server, r.namespace]).toEqual([
      'flag',
      [a],
      'ctx',
      'https://a.example:6443',
      'team-a',
    ]);
    expect(r.kubeConfig.getCurrentCluster()?.caFile).toBe(join(dir, 'ca.crt'));
    expect(() => resolveKubeconfig({ kubeconfig: join(dir, 'missing') })).toThrow(
      /--kubeconfig .*missing: no such file/,
    );
  });

  it('merges $KUBECONFIG as kubectl: the first file to define a name or current-context wins', async () => {
    const a = await kubeconfig('a', {
      clusters: [['shared', 'https://from-a']],
      users: ['ua'],
      contexts: [['ctx-a', 'shared', 'ua']],
      current: 'ctx-a',
    });
    const b = await kubeconfig('b', {
      clusters: [
        ['shared', 'https://from-b'],
        ['only-b', 'https://only-b'],
      ],
      users: ['ub'],
      contexts: [
        ['ctx-a', 'only-b', 'ub'],
        ['ctx-b', 'only-b', 'ub', 'nb'],
        ['ctx-shared', 'shared', 'ub'],
      ],
      current: 'ctx-b',
    });
    const env = { KUBECONFIG: [a, join(dir, 'absent'), b, a].join(delimiter) };
    const r = resolveKubeconfig({ env, homeDir: noHome() });
    expect([r.source, r.files, r.context, r.server]).toEqual([
      'env',
      [a, b],
      'ctx-a',
      'https://from-a',
    ]);
    const rb = resolveKubeconfig({ env, homeDir: noHome(), context: 'ctx-b' });
    expect([rb.server, rb.namespace]).toEqual(['https://only-b', 'nb']);
    // A context from b that names a cluster a defined gets a's cluster.
    expect(resolveKubeconfig({ env, homeDir: noHome(), context: 'ctx-shared' }).server).toBe(
      'https://from-a',
    );
  });

  it('falls back to ~/.kube/config when $KUBECONFIG is unset or empty', async () => {
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    const home = await kubeconfig(join('home', '.kube', 'config'), {
      clusters: [['c', 'https://home']],
      users: ['u'],
      contexts: [['ctx', 'c', 'u']],
      current: 'ctx',
    });
    for (const env of [{}, { KUBECONFIG: '' }]) {
      const r = resolveKubeconfig({ env, homeDir: join(dir, 'home') });
      expect([r.source, r.files, r.server, r.namespace]).toEqual([
        'home',
        [home],
        'https://home',
        'default',
      ]);
    }
  });

  it('falls back to the pod service account when no file is found', async () => {
    const sa = join(dir, 'sa');
    await mkdir(sa);
    await writeFile(join(sa, 'token'), 'sa-token');
    await writeFile(join(sa, 'ca.crt'), 'CA');
    await writeFile(join(sa, 'namespace'), 'runs\n');
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const r = resolveKubeconfig({ env, homeDir: noHome(), serviceAccountDir: sa });
    expect([r.source, r.server, r.namespace, r.files]).toEqual([
      'in-cluster',
      'https://[fd00::1]:443',
      'runs',
      [],
    ]);
    const headers: Record<string, string> = {};
    await r.kubeConfig.applyToHTTPSOptions({ headers });
    expect(headers.Authorization).toBe('Bearer sa-token');
    expect(
      resolveKubeconfig({ env, homeDir: noHome(), serviceAccountDir: sa, namespace: 'x' })
        .namespace,
    ).toBe('x');
    // The test pod runner relocates the mount and says where.
    const relocated = resolveKubeconfig({
      env: { ...env, FATHOM_SERVICEACCOUNT_DIR: sa },
      homeDir: noHome(),
    });
    expect([relocated.source, relocated.namespace]).toEqual(['in-cluster', 'runs']);
  });

  it('says what to do when there is nothing at all', () => {
    expect(() =>
      resolveKubeconfig({ env: {}, homeDir: noHome(), serviceAccountDir: noHome() }),
    ).toThrow(
      /no kubeconfig found: pass --kubeconfig, set \$KUBECONFIG, create ~\/.kube\/config, or run in a pod/,
    );
  });

  it('names a missing context, a context without current-context and a dangling cluster', async () => {
    const a = await kubeconfig('a', {
      clusters: [['c', 'https://a']],
      users: ['u'],
      contexts: [
        ['one', 'c', 'u'],
        ['dangling', 'gone', 'u'],
      ],
    });
    expect(() => resolveKubeconfig({ kubeconfig: a })).toThrow(
      /sets no current-context: pass --context/,
    );
    expect(() => resolveKubeconfig({ kubeconfig: a, context: 'two' })).toThrow(
      /context "two" is not in .* \(contexts: one, dangling\)/,
    );
    expect(() => resolveKubeconfig({ kubeconfig: a, context: 'dangling' })).toThrow(
      /context "dangling" names cluster "gone"/,
    );
    try {
      resolveKubeconfig({ kubeconfig: a, context: 'two' });
    } catch (err) {
      expect((err as { code: string }).code).toBe('FATHOM_CONFIG_INVALID');
    }
  });

  it('reads --request-timeout as kubectl does', async () => {
    const a = await kubeconfig('a', {
      clusters: [['c', 'https://a']],
      users: ['u'],
      contexts: [['x', 'c', 'u']],
      current: 'x',
    });
    expect(resolveKubeconfig({ kubeconfig: a, requestTimeout: '5s' }).requestTimeoutMs).toBe(5000);
    expect(resolveKubeconfig({ kubeconfig: a, requestTimeout: '2' }).requestTimeoutMs).toBe(2000);
    expect(resolveKubeconfig({ kubeconfig: a, requestTimeout: '0' }).requestTimeoutMs).toBe(0);
    expect(resolveKubeconfig({ kubeconfig: a }).requestTimeoutMs).toBe(0);
    expect(() => resolveKubeconfig({ kubeconfig: a, requestTimeout: 'soon' })).toThrow(
      /--request-timeout: invalid duration/,
    );
  });

  it('reports a file the client cannot read as FATHOM_CONFIG_INVALID naming it', async () => {
    const bad = join(dir, 'bad');
    await writeFile(bad, stringify({ clusters: [{ name: 'c' }] }));
    expect(() => resolveKubeconfig({ kubeconfig: bad })).toThrow(
      /kubeconfig .*bad: clusters\[0\]\.cluster is missing/,
    );
  });
});
