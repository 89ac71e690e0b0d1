/**
 * charts/fathom rendered by the pinned Helm (test/helm/build.sh): it lints, and for default and
 * non-default values every object equals what `fathom gen checks` / `fathom gen sessions` print
 * for the same flags (Helm's labels aside; the chart's random token and certificate are handed
 * to the generator). The TLS material it makes is what the dispatcher and agents need, and a
 * value the flags would refuse is refused by the chart's schema. Applying the objects to a real
 * API server is test/integration/helm-chart.test.ts.
 */
import { X509Certificate, createPublicKey, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';
import { serviceHosts } from '../../src/backends/kubernetes/checks/names.js';
import { CERT_VALIDITY_MS } from '../../src/backends/kubernetes/checks/secrets.js';
import { sessionCrd } from '../../src/backends/kubernetes/sessions/crd.js';
import { VERSION } from '../../src/core/version.js';
import { available } from '../support/required.js';
import { chartCases, expectedObjects, keyOf, renderedSecrets, withoutHelmLabels } from './cases.js';
import { CHART_DIR, findHelm, helmRunner, parseObjects, type Helm } from './helm.js';

const found = await findHelm();
const here = dirname(fileURLToPath(import.meta.url));
const pinned = /^VERSION="(v[\d.]+)"/m.exec(await readFile(join(here, 'build.sh'), 'utf8'))![1]!;

it('build.sh and go.mod pin the same Helm release', async () => {
  const gomod = await readFile(join(here, 'go.mod'), 'utf8');
  expect(gomod).toContain('tool helm.sh/helm/v4/cmd/helm');
  expect(gomod).toMatch(
    new RegExp(`^\\s*helm\\.sh/helm/v4 ${pinned.replace(/\./g, '\\.')}\\b`, 'm'),
  );
});

const have = available('path' in found, 'reason' in found ? found.reason : '');

describe.skipIf(!have)('charts/fathom rendered by Helm', () => {
  let helm: Helm;
  beforeAll(async () => {
    helm = await helmRunner((found as { path: string }).path);
  });

  it('is the pinned release', async () => {
    const v = await helm(['version', '--template', '{{.Version}}']);
    expect(v.stdout.trim()).toBe(pinned);
  });

  it('passes helm lint --strict with default and non-default values', async () => {
    for (const c of chartCases()) {
      const lint = await helm.lint(c.values);
      expect(lint.stderr + lint.stdout, c.name).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(lint.code).toBe(0);
    }
    // Lint judges too: the schema's refusal is a lint failure.
    const bad = await helm.lint({ checks: { replicas: 'two' } });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr + bad.stdout).toMatch(/replicas/);
  });

  for (const c of chartCases()) {
    it(`renders what fathom gen prints: ${c.name}`, async () => {
      const rendered = await helm.template(c.values);
      const expected = expectedObjects(c, rendered);
      const byKey = (objects: readonly KubeObject[]) =>
        new Map(objects.map((o) => [keyOf(o), o] as const));
      const got = byKey(rendered.map(withoutHelmLabels));
      const want = byKey(expected);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [key, o] of want) expect(got.get(key), key).toEqual(o);
    });
  }

  it('makes a fresh token and a certificate for the Service names, signed by its CA', async () => {
    const [a, b] = [await helm.template(), await helm.template()];
    const s = renderedSecrets(a);
    expect(s.token).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(renderedSecrets(b).token).not.toBe(s.token);
    const ca = new X509Certificate(s.caPem);
    const cert = new X509Certificate(s.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(s.keyPem))).toBe(true);
    const names = (cert.subjectAltName ?? '').split(', ').map((n) => n.replace(/^DNS:/, ''));
    expect(names).toEqual(expect.arrayContaining(serviceHosts('fathom-checks')));
    // Valid for the generator's year (give or take the day Helm rounds to).
    const life = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(Math.abs(life - CERT_VALIDITY_MS)).toBeLessThan(2 * 86_400_000);
    // The CA's key is dropped: no Secret holds a second private key.
    const keys = a.flatMap((o) =>
      Object.values((o as { stringData?: Record<string, string> }).stringData ?? {}),
    );
    expect(keys.filter((v) => v.includes('PRIVATE KEY'))).toHaveLength(1);
    expect(createPublicKey(s.keyPem).asymmetricKeyType).toBe('rsa');
  });

  it('defaults the image to fathom:<package version>, as gen does', async () => {
    const chart = parse(await readFile(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
      version: string;
      appVersion: string;
    };
    expect(chart.appVersion).toBe(VERSION);
    expect(chart.version).toBe(VERSION);
    const images = (await helm.template())
      .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
      .map((o) => JSON.stringify(o).match(/"image":"([^"]+)"/)![1]);
    expect(images).toEqual([`fathom:${VERSION}`, `fathom:${VERSION}`, `fathom:${VERSION}`]);
  });

  it('ships the Session CRD exactly as gen sessions prints it', async () => {
    const text = await readFile(join(CHART_DIR, 'crds', 'sessions.fathom.dev.yaml'), 'utf8');
    expect(parseObjects(text)).toEqual([sessionCrd()]);
  });

  it('refuses values the gen flags refuse, naming the value', async () => {
    const bad: [object, RegExp][] = [
      [{ checks: { replicas: 'two' } }, /checks\.replicas|replicas/],
      [{ sessions: { executors: 0 } }, /executors/],
      [{ image: { pullPolicy: 'Sometimes' } }, /pullPolicy/],
      [{ namespace: 'Not_A_Label' }, /namespace/],
      [{ checks: { poll: 'soon' } }, /poll/],
      [{ tolerations: [{ key: 'a', effect: 'NoWay' }] }, /effect/],
      [{ checks: { replica: 2 } }, /replica/],
      // Helm reads values as YAML 1.1: an unquoted yes is a boolean, not a label value.
      [{ nodeSelector: { 'kubernetes.io/os': 'yes' } }, /nodeSelector.*got boolean, want string/],
    ];
    for (const [values, message] of bad) {
      const err = await helm.template(values).catch((e: unknown) => e as Error);
      expect(err, JSON.stringify(values)).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/values don't meet the specifications of the schema/);
      expect((err as Error).message).toMatch(message);
    }
  });
});
