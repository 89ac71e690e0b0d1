/**
 * The leader lease on the Kubernetes backend, against the real API server: a coordination.k8s.io
 * Lease created once, replaced only at the resourceVersion read, and two electors of which one
 * leads and the other follows it, with the leader's address.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { KubeLeaseStore } from '../../src/backends/kubernetes/lease.js';
import { ManualClock } from '../../src/core/clock.js';
import { elect, type Leadership } from '../../src/core/lease.js';
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

    it('one elector leads, the other follows it', async () => {
      const clock = new ManualClock(Date.UTC(2026, 11, 5, 2, 0, 0));
      const store = new KubeLeaseStore(client, ns);
      const options = { store, name: 'dispatch', clock, durationMs: 15_000, retryMs: 2_000 };
      const stop = new AbortController();
      const first = async (events: AsyncIterable<Leadership>): Promise<Leadership> => {
        for await (const l of events) return l;
        throw new Error('no leadership reported');
      };
      expect(
        await first(elect({ ...options, identity: 'a', address: '10.0.0.7:5005' }, stop.signal)),
      ).toEqual({
        role: 'leader',
        term: 0,
      });
      expect(await first(elect({ ...options, identity: 'b' }, stop.signal))).toEqual({
        role: 'follower',
        holder: 'a',
        address: '10.0.0.7:5005',
        term: 0,
      });
      stop.abort();
    });
  },
);
