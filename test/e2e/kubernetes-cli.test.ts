/**
 * The Kubernetes backend's CLI surface that needs no cluster: `fathom gen` for whole runs, and
 * the one-line errors kubectl users expect when the kubeconfig is missing or wrong. Runs against
 * a live API server are in test/integration/.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fathom, tempDir } from '../support/cli.js';

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { containers?: { image: string; imagePullPolicy?: string }[] };
}

describe('fathom gen (a whole run for kubectl apply -f -)', () => {
  it('prints every object of the run in the namespace, with the image it is given', async () => {
    const r = await fathom([
      'gen',
      '-n',
      'conformance',
      '-p',
      'smoke-junit',
      '-p',
      'node-inventory',
      '--image',
      'registry.example/fathom:test',
      '--image-pull-policy',
      'Never',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/conformance',
        'ServiceAccount/fathom-aggregator',
        'ConfigMap/fathom-plugins',
        'Service/fathom-aggregator',
        'Pod/fathom-aggregator',
      ]),
    );
    for (const d of docs.filter((x) => x.kind !== 'Namespace' && x.metadata.namespace)) {
      expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe('conformance');
    }
    const pod = docs.find((d) => d.kind === 'Pod')!;
    expect(pod.spec?.containers?.[0]).toMatchObject({
      image: 'registry.example/fathom:test',
      imagePullPolicy: 'Never',
    });
    // The plugins travel in the ConfigMap the aggregator reads.
    expect(r.stdout).toContain('plugin-name: smoke-junit');
    expect(r.stdout).toContain('plugin-name: node-inventory');
  });

  it('keeps `gen plugin -n NAME` apart from `gen -n NAMESPACE`', async () => {
    const r = await fathom(['gen', 'plugin', '-n', 'probe', '--cmd', 'true']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plugin-name: probe');
  });

  it('names the plugin file and line of bad input, and prints nothing', async () => {
    const dir = await tempDir('gen-bad');
    await writeFile(
      join(dir, 'bad.yaml'),
      'sonobuoy-config:\n  driver: Cron\n  plugin-name: x\nspec: {name: p, image: i}\n',
    );
    const r = await fathom(['gen', '-p', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.yaml:2:\d+: sonobuoy-config\.driver must be Job or DaemonSet/);
  });
});

describe('--backend kubernetes without a usable kubeconfig', () => {
  it.each([
    [['--kubeconfig', '/nonexistent/config'], /--kubeconfig \/nonexistent\/config: no such file/],
    [['--request-timeout', 'soon'], /--request-timeout: invalid duration "soon"/],
  ])('%j: one line, exit 2, nothing started', async (flags, message) => {
    const home = await tempDir('kube-home');
    const r = await fathom(['status', '--backend', 'kubernetes', ...flags], {
      HOME: home,
      KUBECONFIG: '',
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('says where it looked when there is no kubeconfig at all', async () => {
    const home = await tempDir('kube-home');
    const r = await fathom(['status', '--backend', 'kubernetes'], {
      HOME: home,
      KUBECONFIG: '',
      KUBERNETES_SERVICE_HOST: '',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no kubeconfig found: pass --kubeconfig/);
  });

  it('names a context the kubeconfig lacks', async () => {
    const dir = await tempDir('kube-ctx');
    const file = join(dir, 'config');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: a, context: {cluster: c, user: u}}]',
        'current-context: a',
      ].join('\n'),
    );
    const r = await fathom([
      'status',
      '--backend',
      'kubernetes',
      '--kubeconfig',
      file,
      '--context',
      'b',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/context "b" is not in .*config \(contexts: a\)/);
  });

  it('a refused connection is one line naming the server, exit 1', async () => {
    const dir = await tempDir('kube-down');
    const file = join(dir, 'config');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: a, context: {cluster: c, user: u}}]',
        'current-context: a',
      ].join('\n'),
    );
    const r = await fathom(['status', '--backend', 'kubernetes', '--kubeconfig', file, '-n', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
  });
});
