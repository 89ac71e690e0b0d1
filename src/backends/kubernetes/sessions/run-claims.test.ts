/**
 * The Kubernetes probe's decision (has a run on a pool ended?) from what it read: the run's
 * namespace, its aggregator pod with the status annotation as the aggregator writes it, and the
 * waiting CLI's heartbeat.
 */
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../aggregation/types.js';
import type { Pod } from '../api/types.js';
import { AGGREGATOR_POD, STATUS_ANNOTATION } from '../names.js';
import { encodeStatusAnnotation } from '../status-annotation.js';
import type { KubeRunSeen } from './run-claims.js';
import { kubeRunEndedFrom, waiterTiming } from './run-claims.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const tar = { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 };

function pod(o: { status?: RunStatus['status'] | 'garbage'; phase?: string; deleting?: boolean }) {
  const annotation =
    o.status === 'garbage'
      ? '{"plugins": "not a list"}'
      : o.status
        ? encodeStatusAnnotation({ plugins: [], status: o.status, 'tar-info': tar })
        : undefined;
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: AGGREGATOR_POD,
      namespace: 'r',
      ...(annotation ? { annotations: { [STATUS_ANNOTATION]: annotation } } : {}),
      ...(o.deleting ? { deletionTimestamp: '2026-03-01T00:00:00Z' } : {}),
    },
    status: { phase: o.phase ?? 'Running' },
  };
  return p;
}

const fresh = NOW - waiterTiming.graceMs;
const stale = NOW - waiterTiming.graceMs - 1;

describe('kubeRunEndedFrom', () => {
  it.each<{ why: string; seen: KubeRunSeen; ended: boolean }>([
    {
      why: 'waiting: nothing made yet, heartbeat fresh',
      seen: { namespace: 'absent', waiterAt: fresh },
      ended: false,
    },
    {
      why: 'granted, creating: namespace but no pod yet, heartbeat fresh',
      seen: { namespace: 'present', waiterAt: NOW },
      ended: false,
    },
    {
      why: 'its waiter died: heartbeat stale, nothing made',
      seen: { namespace: 'absent', waiterAt: stale },
      ended: true,
    },
    { why: 'deleted: no namespace, no heartbeat', seen: { namespace: 'absent' }, ended: true },
    {
      why: 'namespace being deleted',
      seen: { namespace: 'deleting', pod: pod({ status: 'running' }) },
      ended: true,
    },
    { why: 'aggregator pod gone', seen: { namespace: 'present' }, ended: true },
    {
      why: 'aggregator pod being deleted',
      seen: { namespace: 'present', pod: pod({ status: 'running', deleting: true }) },
      ended: true,
    },
    {
      why: 'running: annotation says running',
      seen: { namespace: 'present', pod: pod({ status: 'running' }) },
      ended: false,
    },
    {
      why: 'starting: no annotation yet',
      seen: { namespace: 'present', pod: pod({}) },
      ended: false,
    },
    {
      why: 'complete',
      seen: { namespace: 'present', pod: pod({ status: 'complete' }) },
      ended: true,
    },
    { why: 'failed', seen: { namespace: 'present', pod: pod({ status: 'failed' }) }, ended: true },
    {
      why: 'pod stopped (Failed) while the annotation says running',
      seen: { namespace: 'present', pod: pod({ status: 'running', phase: 'Failed' }) },
      ended: true,
    },
    {
      why: 'pod Succeeded',
      seen: { namespace: 'present', pod: pod({ phase: 'Succeeded' }) },
      ended: true,
    },
    {
      why: 'a malformed annotation on a live pod says nothing',
      seen: { namespace: 'present', pod: pod({ status: 'garbage' }) },
      ended: false,
    },
    {
      why: 'a stale heartbeat left behind does not end a running run',
      seen: { namespace: 'present', pod: pod({ status: 'running' }), waiterAt: stale },
      ended: false,
    },
  ])('$why: $ended', ({ seen, ended }) => {
    expect(kubeRunEndedFrom(seen, NOW)).toBe(ended);
  });

  it('a large status is read gzipped, as the aggregator writes it past 64 KiB', () => {
    const status: RunStatus = { plugins: [], status: 'complete', 'tar-info': tar };
    const p = pod({});
    p.metadata.annotations = { [STATUS_ANNOTATION]: encodeStatusAnnotation(status, 0) };
    expect(p.metadata.annotations[STATUS_ANNOTATION]).toMatch(/^gzip:/);
    expect(kubeRunEndedFrom({ namespace: 'present', pod: p }, NOW)).toBe(true);
  });
});
