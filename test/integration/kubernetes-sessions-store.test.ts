/**
 * Sessions on the Kubernetes backend against the real API server:
 *
 * - every object `fathom gen sessions` prints passes a server-side dry run with strict field
 *   validation, and a broken one is refused;
 * - the Session CRD installs and becomes Established; credentials that may not install it get
 *   the hint to apply `fathom gen sessions` as a cluster admin;
 * - the controller's service account may do exactly what the controller does (access reviews);
 * - the store over Session CRs: create once, status through the subresource with
 *   compare-and-swap under concurrent writers, read-back validated and frozen, kubectl's CRs
 *   (no annotation: queued by creation time; refused by the schema or, past it, by the parser
 *   and then ended Errored/InvalidSpec), Kubernetes Events on the Session, remove of everything.
 *   The invalid-CR and remove steps run with the controller's own service account.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';
import { applyObject } from '../../src/backends/kubernetes/apply.js';
import { configMapName } from '../../src/backends/kubernetes/durable-store.js';
import { deleteRun, kindPath } from '../../src/backends/kubernetes/objects.js';
import {
  createKubeSessionStore,
  ensureCrd,
  ensureSessionCrd,
  sessionCrd,
  sessionsManifests,
  sessionsSpec,
  type KubeSessionStore,
} from '../../src/backends/kubernetes/sessions/index.js';
import { systemClock } from '../../src/core/clock.js';
import { isFathomError } from '../../src/core/errors.js';
import {
  nextStatus,
  parseSessionText,
  withStatus,
  type Session,
} from '../../src/sessions/index.js';
import { can, serviceAccountClient } from './kube-checks.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const hex = (): string => randomBytes(3).toString('hex');
const SA = 'fathom-session-controller';

function sessionYaml(name: string, drivers = 1): string {
  const driver = (i: number) =>
    `    - {name: drv${i}, kind: driver, pool: small, command: [drive], image: img}\n`;
  return `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: {name: ${name}}
spec:
  components:
    - {name: srv, kind: server, pool: big, replicas: 2, command: [serve], image: img, port: 9000}
${Array.from({ length: drivers }, (_, i) => driver(i)).join('')}`;
}
const parsed = (name: string): Session =>
  parseSessionText(sessionYaml(name), 'x.yaml', { requireImage: true })[0]!;

interface Cr extends KubeObject {
  metadata: KubeObject['metadata'] & { generation?: number };
  spec: { components: Record<string, unknown>[]; timeout: string; priority: number };
  status?: { state: string; reason: string; message: string };
}

describe.skipIf(!cluster)(
  `sessions on the real API server${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `sess-${hex()}`;
    const objects = sessionsManifests(
      sessionsSpec({
        namespace: ns,
        replicas: 2,
        executors: 3,
        toleration: ['dedicated=infra:NoSchedule'],
        nodeSelector: ['kubernetes.io/os=linux'],
      }),
    );
    // A CRD of its own for the 403 and install steps: the real one may be there already.
    const probe = ((): KubeObject => {
      const crd = sessionCrd();
      const group = `t${hex()}.fathom.dev`;
      return {
        ...crd,
        metadata: { ...crd.metadata, name: `sessions.${group}` },
        spec: { ...(crd.spec as object), group },
      };
    })();
    const logged: string[] = [];
    let admin: KubeClient;
    let sa: KubeClient;
    let dir: string;
    let store: KubeSessionStore;
    let saStore: KubeSessionStore;
    const path = (name: string): string => kindPath({ kind: 'Session', name, namespace: ns });
    const read = (name: string): Promise<Cr> => admin.get<Cr>(path(name), `reading ${name}`);
    const kubeEvents = async (name: string) =>
      (
        await admin.list<
          KubeObject & {
            involvedObject: Record<string, string>;
            reason: string;
            type: string;
            message: string;
          }
        >(resourcePath('', 'events', ns), 'listing events', {
          fieldSelector: `involvedObject.name=${name}`,
        })
      ).items;

    beforeAll(async () => {
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      dir = await mkdtemp(join(tmpdir(), 'fathom-ksess-'));
    });
    afterAll(async () => {
      if (admin) {
        for (const o of [...objects.slice(1).reverse(), probe]) {
          const ref = { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
          await admin.remove(kindPath(ref), `deleting ${o.kind}`).catch(() => false);
        }
        admin.close();
      }
      sa?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('passes a server-side dry run with strict field validation, object by object', async () => {
      const [crd, namespace, ...rest] = objects;
      expect([crd!.kind, namespace!.kind]).toEqual(['CustomResourceDefinition', 'Namespace']);
      await applyObject(admin, crd!, true);
      await applyObject(admin, namespace!); // namespaced dry runs need it to exist
      for (const o of rest) await applyObject(admin, o, true);
      expect(rest.map((o) => o.kind)).toEqual([
        'ServiceAccount',
        'Role',
        'RoleBinding',
        'ClusterRole',
        'ClusterRoleBinding',
        'Deployment',
      ]);
      const deployment = rest.at(-1)!;
      const broken = { ...deployment, spec: { ...(deployment.spec as object), replica: 2 } };
      const err = await applyObject(admin, broken, true).catch((e: unknown) => e);
      expect(isFathomError(err)).toBe(true);
      expect((err as Error).message).toMatch(/replica/);
      const badCrd = structuredClone(probe) as KubeObject & {
        spec: { versions: { schema: { openAPIV3Schema: { type: string } } }[] };
      };
      badCrd.spec.versions[0]!.schema.openAPIV3Schema.type = 'strin';
      await expect(applyObject(admin, badCrd, true)).rejects.toThrow(/strin/);
    });

    it('installs the Session CRD, Established, once', async () => {
      const o = { client: admin, clock: systemClock, timeoutMs: 60_000, pollMs: 100 };
      expect(['created', 'present']).toContain(await ensureSessionCrd(o));
      const crd = await admin.get<{ status: { conditions: { type: string; status: string }[] } }>(
        kindPath({ kind: 'CustomResourceDefinition', name: 'sessions.fathom.dev' }),
        'reading the CRD',
      );
      expect(crd.status.conditions).toContainEqual(
        expect.objectContaining({ type: 'Established', status: 'True' }),
      );
      expect(await ensureSessionCrd(o)).toBe('present');
    });

    it('sends credentials that may not install a CRD to a cluster admin; an admin installs it', async () => {
      for (const o of objects.slice(2, 7)) await applyObject(admin, o);
      sa = await serviceAccountClient(cluster!, admin, dir, ns, SA);
      const o = { clock: systemClock, timeoutMs: 60_000, pollMs: 100 };
      const err = await ensureCrd(probe, { ...o, client: sa }).catch((e: unknown) => e);
      expect(isFathomError(err, 'FATHOM_SESSION_CRD_MISSING')).toBe(true);
      expect((err as Error).message).toMatch(/fathom gen sessions \| kubectl apply -f -/);
      expect(await ensureCrd(probe, { ...o, client: admin })).toBe('created');
      expect(await ensureCrd(probe, { ...o, client: sa })).toBe('present'); // discovery only
    });

    it('lets the controller do its work in its namespace and read nodes, nothing more', async () => {
      const f = { group: 'fathom.dev' };
      const lease = { group: 'coordination.k8s.io', resource: 'leases', namespace: ns };
      const expectations: [Record<string, string>, boolean][] = [
        [{ ...f, verb: 'watch', resource: 'sessions', namespace: ns }, true],
        [
          { ...f, verb: 'update', resource: 'sessions', subresource: 'status', namespace: ns },
          true,
        ],
        [{ ...f, verb: 'delete', resource: 'sessions', namespace: ns }, true],
        [{ ...f, verb: 'create', resource: 'sessions', namespace: ns }, false],
        [{ ...f, verb: 'update', resource: 'sessions', namespace: ns }, false],
        [{ ...f, verb: 'list', resource: 'sessions', namespace: 'default' }, false],
        [{ verb: 'update', resource: 'configmaps', namespace: ns }, true],
        [{ verb: 'watch', resource: 'configmaps', namespace: ns }, true],
        // The run-ended probe reads a run's namespace and aggregator pod by name, lists none.
        [{ verb: 'get', resource: 'namespaces' }, true],
        [{ verb: 'list', resource: 'namespaces' }, false],
        [{ verb: 'get', resource: 'pods', namespace: 'default' }, true],
        [{ verb: 'list', resource: 'pods', namespace: 'default' }, false],
        [{ verb: 'create', resource: 'events', namespace: ns }, true],
        [{ verb: 'create', resource: 'pods', namespace: ns }, true],
        [{ verb: 'get', resource: 'pods', subresource: 'log', namespace: ns }, true],
        [{ verb: 'create', resource: 'pods', namespace: 'default' }, false],
        [{ verb: 'get', resource: 'secrets', namespace: ns }, false],
        [{ ...lease, verb: 'update', name: SA }, true],
        [{ ...lease, verb: 'update', name: 'other' }, false],
        [{ verb: 'watch', resource: 'nodes' }, true],
        [{ verb: 'delete', resource: 'nodes', name: cluster!.nodeNames[0]! }, false],
        [{ verb: 'patch', resource: 'nodes', name: cluster!.nodeNames[0]! }, false],
        [
          {
            group: 'apiextensions.k8s.io',
            verb: 'create',
            resource: 'customresourcedefinitions',
          },
          false,
        ],
      ];
      const answers = [];
      for (const [attrs] of expectations) answers.push(await can(sa, attrs));
      expect(answers).toEqual(expectations.map(([, want]) => want));
      store = createKubeSessionStore({ client: admin, namespace: ns, clock: systemClock });
      saStore = createKubeSessionStore({
        client: sa,
        namespace: ns,
        clock: systemClock,
        instance: 'test-pod',
        log: (l) => logged.push(l),
      });
    });

    it('creates once, writes the status through its subresource, reads back frozen', async () => {
      const t = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
      const queued = withStatus(
        parsed('one'),
        nextStatus(undefined, 'Queued', 'Submitted', 'waiting', t),
      );
      expect(await store.create({ session: queued, submittedAt: t })).toBe(true);
      expect(await store.create({ session: queued, submittedAt: t + 1 })).toBe(false);
      const got = (await store.get('one'))!;
      expect(got.submittedAt).toBe(t);
      expect(got.session.status).toEqual(queued.status);
      expect(got.session.spec).toEqual(queued.spec);
      expect(Object.isFrozen(got.session.spec.components)).toBe(true);
      const cr = await read('one');
      expect(cr.metadata.annotations?.['fathom.dev/submitted-at']).toBe(String(t));
      expect(cr.status?.state).toBe('Queued');
      const running = nextStatus(queued.status, 'Running', 'Running', 'all ready', t + 1000);
      const after = await saStore.update('one', (s) => withStatus(s, running));
      expect(after?.status).toEqual(running);
      expect((await read('one')).metadata.generation).toBe(cr.metadata.generation); // status only
      expect(await saStore.update('one', () => undefined)).toEqual(after);
      await expect(
        saStore.update('one', (s) => ({ ...s, spec: { ...s.spec, priority: 5 } })),
      ).rejects.toThrow(expect.objectContaining({ code: 'FATHOM_INTERNAL' }));
      expect(await saStore.update('absent', (s) => s)).toBeUndefined();
      expect((await store.list()).map((s) => s.session.metadata.name)).toEqual(['one']);
    });

    it('loses no update when two writers race on the resourceVersion', async () => {
      const client = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      const other = createKubeSessionStore({ client, namespace: ns, clock: systemClock });
      const append = (s: KubeSessionStore, mark: string) => async () => {
        for (let i = 0; i < 5; i++) {
          await s.update('one', (cur) =>
            withStatus(cur, { ...cur.status!, message: `${cur.status!.message}${mark}` }),
          );
        }
      };
      await Promise.all([append(store, 'a')(), append(other, 'b')()]);
      client.close();
      const message = (await store.get('one'))!.session.status!.message;
      expect(message.startsWith('all ready')).toBe(true);
      const marks = message.slice('all ready'.length).split('').sort().join('');
      expect(marks).toBe('aaaaabbbbb');
    });

    it("queues kubectl's CR by its creation time; the schema refuses malformed ones", async () => {
      const doc = parseSessionText(sessionYaml('kubectl'), 'k.yaml')[0]!;
      const raw = { ...doc, metadata: { name: 'kubectl', namespace: ns } };
      const made = await admin.create<Cr>(
        resourcePath('fathom.dev', 'sessions', ns),
        raw,
        'kubectl',
      );
      expect(made.spec.timeout).toBe('15m'); // the CRD's default, the parser's
      const got = (await store.list()).find((s) => s.session.metadata.name === 'kubectl')!;
      expect(got.submittedAt).toBe(Date.parse(made.metadata.creationTimestamp!));
      expect(got.session.status).toBeUndefined();
      const bad = structuredClone(raw) as unknown as Cr;
      bad.metadata.name = 'strings';
      bad.spec.components[0]!.replicas = 'two';
      await expect(
        admin.create(resourcePath('fathom.dev', 'sessions', ns), bad, 'kubectl'),
      ).rejects.toThrow(expect.objectContaining({ code: 'FATHOM_KUBE_INVALID' }));
      await expect(
        admin.mergePatch(path('kubectl'), { spec: { priority: 7 } }, 'editing the spec'),
      ).rejects.toThrow(/immutable/);
    });

    it('shows a CR the parser refuses, ends it Errored/InvalidSpec with Events, then lets it go', async () => {
      const raw = parse(sessionYaml('twodrivers', 2)) as KubeObject;
      const made = await admin.create<Cr>(
        resourcePath('fathom.dev', 'sessions', ns),
        { ...raw, metadata: { name: 'twodrivers', namespace: ns } },
        'kubectl apply',
      );
      expect(await saStore.get('twodrivers')).toBeUndefined();
      expect((await saStore.list()).map((s) => s.session.metadata.name)).not.toContain(
        'twodrivers',
      );
      const message = `Session ${ns}/twodrivers: spec.components[2].kind is a second driver (components[1] is one)`;
      expect(await saStore.invalid()).toEqual([{ name: 'twodrivers', message }]);
      const now = Date.now();
      expect(await saStore.endInvalid(now)).toEqual({ ended: ['twodrivers'], removed: [] });
      const cr = await read('twodrivers');
      expect(cr.status).toMatchObject({ state: 'Errored', reason: 'InvalidSpec', message });
      expect(await saStore.invalid()).toEqual([{ name: 'twodrivers', message, state: 'Errored' }]);
      expect(await saStore.events('twodrivers')).toEqual([
        { session: 'twodrivers', kind: 'errored', time: now, reason: 'InvalidSpec', message },
      ]);
      const [event, ...more] = await kubeEvents('twodrivers');
      expect(more).toEqual([]);
      expect(event).toMatchObject({
        reason: 'InvalidSpec',
        type: 'Warning',
        message,
        involvedObject: {
          apiVersion: 'fathom.dev/v1alpha1',
          kind: 'Session',
          name: 'twodrivers',
          namespace: ns,
          uid: made.metadata.uid,
        },
      });
      expect(logged).toEqual([]); // the service account may write Events
      // Ended already: not again; past its ttl (the default hour): deleted.
      expect(await saStore.endInvalid(now + 1000)).toEqual({ ended: [], removed: [] });
      expect(await saStore.endInvalid(now + 3_600_000 + 1000)).toEqual({
        ended: [],
        removed: ['twodrivers'],
      });
      expect(await admin.find(path('twodrivers'), 'reading')).toBeUndefined();
      expect(await saStore.invalid()).toEqual([]);
    });

    it('mirrors events as Kubernetes Events and removes a session with all it kept', async () => {
      const t = Date.now();
      await saStore.addEvent({
        session: 'one',
        kind: 'accepted',
        time: t,
        reason: 'Provisioning',
        message: 'executor 0 assigned session one',
      });
      await saStore.hold('one', { big: ['n1', 'n2'], small: ['n3'] });
      await saStore.saveLog({
        session: 'one',
        workload: 'one-srv-0',
        component: 'srv',
        replica: 0,
        text: 'served\n',
        truncated: 0,
      });
      const uid = (await read('one')).metadata.uid;
      const mirrored = await kubeEvents('one');
      expect(mirrored).toHaveLength(1);
      expect(mirrored[0]).toMatchObject({
        reason: 'Provisioning',
        type: 'Normal',
        involvedObject: { kind: 'Session', name: 'one', uid },
        reportingComponent: 'fathom-session-controller',
        reportingInstance: 'test-pod',
      });
      expect((await saStore.holdings()).get('one')).toEqual({ big: ['n1', 'n2'], small: ['n3'] });
      expect(await saStore.logs('one')).toHaveLength(1);
      await saStore.remove('one');
      expect(await store.get('one')).toBeUndefined();
      expect(await store.events('one')).toEqual([]);
      expect((await store.holdings()).has('one')).toBe(false);
      expect(await store.logs('one')).toEqual([]);
      for (const name of [
        configMapName('session-events', 'one'),
        configMapName('session-holdings', 'one'),
        configMapName('session-logs', 'one-srv-0'),
      ]) {
        expect(await admin.find(resourcePath('', 'configmaps', ns, name), name)).toBeUndefined();
      }
      // A Kubernetes Event for a session that is gone is dropped, not an error.
      await saStore.addEvent({
        session: 'one',
        kind: 'errored',
        time: t,
        reason: 'Cancelled',
        message: '',
      });
      expect(logged).toEqual([]);
    });

    it("is left alone by a run's delete in the same namespace", async () => {
      const events = resourcePath('', 'configmaps', ns, configMapName('session-events', 'one'));
      expect(await admin.find(events, 'reading')).toBeDefined(); // the last test's record
      const err = await deleteRun(admin, ns, {
        wait: false,
        clock: systemClock,
        pollMs: 100,
        timeoutMs: 0,
      }).catch((e: unknown) => e);
      expect(isFathomError(err, 'FATHOM_RUN_NOT_FOUND')).toBe(true);
      expect(await admin.find(events, 'reading')).toBeDefined();
      const role = kindPath({ kind: 'Role', name: SA, namespace: ns });
      expect(await admin.find(role, 'reading')).toBeDefined();
    });
  },
);
