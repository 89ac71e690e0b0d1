/**
 * charts/fathom against the real API server: every object `helm template` renders, with default
 * and non-default values, passes a server-side dry run with strict field validation (so the
 * chart is valid against the server's own schemas and admission, CRD included); the token and
 * certificate the chart makes are ones `fathom checks up` keeps, and ones the chart itself keeps
 * when rendered against the cluster (`lookup`, as install and upgrade render); a value past its
 * schema (`--skip-schema-validation`) renders a manifest the server refuses.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';
import { applyObject } from '../../src/backends/kubernetes/apply.js';
import { reusableChecksSecrets } from '../../src/backends/kubernetes/checks/secrets.js';
import { kindPath } from '../../src/backends/kubernetes/objects.js';
import { isFathomError } from '../../src/core/errors.js';
import { available } from '../support/required.js';
import { chartCases, keyOf, renderedSecrets } from '../helm/cases.js';
import { findHelm, helmRunner, type Helm } from '../helm/helm.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const found = await findHelm();
const haveHelm = available('path' in found, 'reason' in found ? found.reason : '');
const prefix = `chart-${randomBytes(3).toString('hex')}`;

describe.skipIf(!cluster || !haveHelm)(
  `charts/fathom on the real API server${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let admin: KubeClient;
    let helm: Helm;
    const created = new Set<string>();

    /** Namespaced objects need their namespace to exist, even in a dry run. */
    async function ensureNamespace(name: string, rendered?: KubeObject): Promise<void> {
      if (created.has(name)) return;
      if (await admin.find(resourcePath('', 'namespaces', undefined, name), `reading ${name}`))
        return;
      await applyObject(
        admin,
        rendered ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      );
      created.add(name);
    }

    async function dryRunAll(objects: readonly KubeObject[]): Promise<void> {
      for (const o of objects.filter((x) => x.kind === 'Namespace')) {
        await applyObject(admin, o, true);
        await ensureNamespace(o.metadata.name, o);
      }
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        if (o.metadata.namespace) await ensureNamespace(o.metadata.namespace);
        await applyObject(admin, o, true).catch((e: unknown) => {
          throw new Error(`${keyOf(o)}: ${(e as Error).message}`);
        });
      }
    }

    beforeAll(async () => {
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      helm = await helmRunner((found as { path: string }).path);
    });
    afterAll(async () => {
      if (!admin) return;
      for (const ns of created) {
        await admin
          .remove(resourcePath('', 'namespaces', undefined, ns), `deleting ${ns}`)
          .catch(() => false);
      }
      admin.close();
    });

    // The shipped defaults as they are (no test uses fathom-checks or fathom-sessions), then
    // every case in namespaces of this file's own.
    const asShipped = { ...chartCases()[0]!, name: 'default values, namespaces as shipped' };
    for (const c of [asShipped, ...chartCases(prefix)]) {
      it(`dry-runs every rendered object with strict validation: ${c.name}`, async () => {
        const objects = await helm.template(c.values);
        expect(objects.length).toBeGreaterThan(1);
        await dryRunAll(objects);
        // A dry run stores nothing.
        for (const o of objects.filter((x) => x.kind === 'Deployment')) {
          const ref = { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
          expect(await admin.find(kindPath(ref), keyOf(o)), keyOf(o)).toBeUndefined();
        }
      });
    }

    it('makes a token and certificate that `fathom checks up` and an upgrade keep', async () => {
      const [c] = chartCases(prefix);
      const objects = await helm.template(c!.values);
      const secrets = objects.filter((o) => o.kind === 'Secret');
      const namespace = secrets[0]!.metadata.namespace!;
      await ensureNamespace(namespace);
      // As Helm would have left them: owned by the release, so an upgrade may take them over.
      const owned = {
        'meta.helm.sh/release-name': 'fathom',
        'meta.helm.sh/release-namespace': 'default',
      };
      for (const s of secrets) {
        await applyObject(admin, { ...s, metadata: { ...s.metadata, annotations: owned } });
      }
      const kept = await reusableChecksSecrets(admin, { namespace, now: Date.now() });
      expect(kept).toEqual(renderedSecrets(objects));
      // Rendered against the cluster (as install and upgrade render), the chart keeps them too.
      // Without the CRD: fathom (not Helm) may have installed it already in this cluster, and an
      // install refuses to adopt it; the Secrets are what this render is about.
      const server = ['--dry-run=server', '--skip-crds', '--kubeconfig', cluster!.kubeconfig];
      const upgrade = { ...c!.values, createNamespace: false, sessions: { enabled: false } };
      expect(renderedSecrets(await helm.template(upgrade, server))).toEqual(kept);
      // And a render without the cluster makes new ones.
      expect(renderedSecrets(await helm.template(c!.values)).token).not.toBe(kept!.token);
    });

    it('a value past the schema renders a manifest the server refuses', async () => {
      const skip = ['--skip-schema-validation'];
      const namespace = `${prefix}-bad`;
      const cases: [object, string, RegExp][] = [
        [{ checks: { replicas: 'two', namespace } }, 'Deployment', /replicas/],
        [
          { checks: { namespace, agent: { tolerations: [{ key: 'a', effect: 'NoWay' }] } } },
          'DaemonSet',
          /effect/,
        ],
      ];
      await ensureNamespace(namespace);
      for (const [values, kind, message] of cases) {
        const objects = await helm.template(values, skip);
        const o = objects.find((x) => x.kind === kind)!;
        const err = await applyObject(admin, o, true).catch((e: unknown) => e);
        expect(isFathomError(err), JSON.stringify(values)).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
    });
  },
);
