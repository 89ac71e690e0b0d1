import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import {
  RUNNER_LABEL,
  heartbeat,
  leaseManifest,
  microTime,
  nodeConditions,
  runnerNodeManifest,
} from './node.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 250);

describe('runner nodes', () => {
  it('are labelled as runner, linux and by hostname, Ready, with their loopback address', () => {
    const node = runnerNodeManifest('runner-0', '127.0.7.1', T0, {
      labels: { extra: 'yes' },
      taints: [{ key: 'k', effect: 'NoSchedule' }],
      kubeletPort: 40123,
    });
    expect(node.metadata).toMatchObject({
      name: 'runner-0',
      labels: {
        extra: 'yes',
        [RUNNER_LABEL]: 'true',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': 'runner-0',
      },
    });
    expect(node.spec).toEqual({ taints: [{ key: 'k', effect: 'NoSchedule' }] });
    expect(node.status).toMatchObject({
      addresses: [{ type: 'InternalIP', address: '127.0.7.1' }],
      allocatable: { pods: '250' },
      daemonEndpoints: { kubeletEndpoint: { Port: 40123 } },
    });
    expect(runnerNodeManifest('n', '127.0.7.2', T0).spec).toEqual({});
    // An endpoint off the node IP is named first, as the Hostname the API server dials.
    expect(
      runnerNodeManifest('n', '127.0.7.2', T0, { kubeletHost: '192.0.2.9' }).status,
    ).toMatchObject({
      addresses: [
        { type: 'Hostname', address: '192.0.2.9' },
        { type: 'InternalIP', address: '127.0.7.2' },
      ],
    });
  });

  it('report Ready with a fresh heartbeat and the original transition time', () => {
    const ready = nodeConditions(T0 + 60_000, T0).find(
      (c) => (c as { type: string }).type === 'Ready',
    );
    expect(ready).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
      lastHeartbeatTime: '2026-01-01T12:01:00Z',
      lastTransitionTime: '2026-01-01T12:00:00Z',
    });
  });

  it('hold a Lease owned by the Node with a microsecond renew time', () => {
    expect(microTime(T0)).toBe('2026-01-01T12:00:00.250000Z');
    expect(leaseManifest('runner-0', 'uid-1', T0)).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'runner-0',
        namespace: 'kube-node-lease',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'runner-0', uid: 'uid-1' }],
      },
      spec: {
        holderIdentity: 'runner-0',
        leaseDurationSeconds: 40,
        renewTime: '2026-01-01T12:00:00.250000Z',
      },
    });
  });
});

describe('heartbeat', () => {
  it('beats once per interval on the injected clock until aborted', async () => {
    const clock = new ManualClock(T0);
    const beats: number[] = [];
    const abort = new AbortController();
    const loop = heartbeat(clock, 10_000, abort.signal, () => {
      beats.push(clock.now() - T0);
      return Promise.resolve();
    });
    await clock.advance(9_999);
    expect(beats).toEqual([]);
    await clock.advance(1);
    await clock.advance(25_000);
    expect(beats).toEqual([10_000, 20_000, 30_000]);
    abort.abort();
    await loop;
    await clock.advance(50_000);
    expect(beats).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });
});
