/**
 * The leader lease on the Kubernetes backend, against the real API server: a coordination.k8s.io
 * Lease created once, replaced only at the resourceVersion read, and two electors of which one
 * leads and the other follows it, with the leader's address, until the leader releases it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { KubeLeaseStore } from '../../src/backends/kubernetes/lease.js';
import { ManualClock } from '../../src/core/clock.js';
import { elect } from '../../src/core/lease.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

describe.skipIf(!cluster)(
  `leader lease on the Kubernetes backend${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const ns = `lease-${randomBytes(3).toString('hex')}`;
    let client: KubeClient;

    beforeAll(async () => {
      client = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      await client.create('/api/v1/namespaces', { metadata: { name: ns } }, `creating ${ns}`);
    });
    afterAll(async () => {
      await client?.remove(`/api/v1/namespaces/${ns}`, `deleting Namespace ${ns}`);
      client?.close();
    });

    it('creates once and replaces only at the version read (409 is a lost race)', async () => {
      const store = new KubeLeaseStore(client, ns);
      const now = Date.UTC(2026, 11, 5, 1, 0, 0, 123);
      const record = {
        holder: 'a',
        address: '10.0.0.1:5005',
        durationMs: 15_000,
        acquiredAt: now,
        renewedAt: now,
        transitions: 0,
      };
      expect(await store.get('cas')).toBeUndefined();
      expect(await store.create('cas', record)).toBe(true);
      expect(await store.create('cas', { ...record, holder: 'b' })).toBe(false);
      const read = (await store.get('cas'))!;
      expect(read.record).toEqual(record); // times survive the MicroTime round trip
      expect(await store.update('cas', { ...record, renewedAt: now + 2000 }, read.version)).toBe(
        true,
      );
      expect(await store.update('cas', { ...record, holder: 'b' }, read.version)).toBe(false);
      expect((await store.get('cas'))!.record).toMatchObject({
        holder: 'a',
        renewedAt: now + 2000,
      });
    });

    it('one elector leads, the other follows it; the leader stopping releases the Lease to it', async () => {
      const clock = new ManualClock(Date.UTC(2026, 11, 5, 2, 0, 0));
      const store = new KubeLeaseStore(client, ns);
      const options = { store, name: 'dispatch', clock, durationMs: 15_000, retryMs: 2_000 };
      const stopA = new AbortController();
      const stopB = new AbortController();
      const a = elect({ ...options, identity: 'a', address: '10.0.0.7:5005' }, stopA.signal)[
        Symbol.asyncIterator
      ]();
      const b = elect({ ...options, identity: 'b' }, stopB.signal)[Symbol.asyncIterator]();
      expect((await a.next()).value).toEqual({ role: 'leader', term: 0 });
      expect((await b.next()).value).toEqual({
        role: 'follower',
        holder: 'a',
        address: '10.0.0.7:5005',
        term: 0,
      });
      // a stops (as on SIGTERM): it writes the Lease with no holder, as client-go's
      // ReleaseOnCancel does, and b takes it on its next try rather than after 15 s.
      const aEnded = a.next();
      await clock.whenSleeping(1);
      stopA.abort();
      expect((await aEnded).done).toBe(true);
      const lease = await client.get<{
        spec: { holderIdentity?: string; leaseDurationSeconds: number };
      }>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/dispatch`, 'reading the Lease');
      expect(lease.spec.holderIdentity ?? '').toBe('');
      expect(lease.spec.leaseDurationSeconds).toBe(1);
      const bNext = b.next();
      await clock.whenSleeping(1);
      await clock.advance(2_000);
      expect((await bNext).value).toEqual({ role: 'leader', term: 1 });
      stopB.abort();
      await b.return?.(undefined);
    });
  },
);
