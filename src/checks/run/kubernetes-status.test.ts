import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { createMemoryClusterReader } from '../../status/memory.js';
import { deployment, obj, pod, replicaSet } from '../../status/test-helpers.js';
import type { ClusterReader } from '../../status/index.js';
import { runCheck } from './index.js';
import type { RunOutcome } from './types.js';

function check(
  instance: Record<string, unknown>,
  statusReader?: ClusterReader,
  clock = new ManualClock(),
): Promise<RunOutcome> {
  return runCheck('kubernetes-status', instance, {
    clock,
    signal: new AbortController().signal,
    timeoutMs: 5000,
    ...(statusReader ? { statusReader } : {}),
  });
}

const web = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('kubernetes-status runner', () => {
  it('a Current Deployment is ok with kstatus’s message, read with one GET and its generated kinds', async () => {
    const reader = createMemoryClusterReader([
      deployment('shop', 'web', 2),
      deployment('shop', 'other', 0),
    ]);
    const out = await check(web, reader);
    expect(out).toEqual({
      status: 'ok',
      message: 'Deployment is available. Replicas: 2',
      metrics: {},
    });
    expect(reader.requests[0]).toBe('get Deployment.apps shop/web');
    expect(reader.requests.some((r) => r.startsWith('list Deployment'))).toBe(false);
  });

  it('InProgress is warning', async () => {
    const out = await check(web, createMemoryClusterReader([deployment('shop', 'web', 1)]));
    expect(out.status).toBe('warning');
    expect(out.message).toBe('Available: 1/2');
  });

  it('Failed (a ReplicaSet whose pod crashes) is critical, as the status engine says', async () => {
    const reader = createMemoryClusterReader([
      replicaSet('shop', 'web-1', 'web', 0, 1),
      pod('shop', 'web-1-a', 'web', 'crash'),
    ]);
    const out = await check(
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'shop', name: 'web-1' },
      reader,
    );
    expect(out).toEqual({ status: 'critical', message: '1 pods have failed', metrics: {} });
  });

  it('NotFound is critical and names the object', async () => {
    const out = await check(web, createMemoryClusterReader());
    expect(out).toEqual({
      status: 'critical',
      message: 'Deployment.apps shop/web: Resource not found',
      metrics: {},
    });
  });

  it('Terminating and read errors are unknown', async () => {
    const cm = obj('v1', 'ConfigMap', {
      metadata: { name: 'cfg', namespace: 'shop', deletionTimestamp: '2026-01-01T00:00:00Z' },
    });
    const terminating = await check(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'cfg' },
      createMemoryClusterReader([cm]),
    );
    expect(terminating).toEqual({
      status: 'unknown',
      message: 'Resource scheduled for deletion',
      metrics: {},
    });

    const reader = createMemoryClusterReader();
    reader.failGet(
      { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
      new Error('forbidden: RBAC'),
    );
    const denied = await check(web, reader);
    expect(denied).toEqual({
      status: 'unknown',
      message: 'Deployment.apps shop/web: forbidden: RBAC',
      metrics: {},
    });
  });

  it('without a cluster to read it is unknown, not a throw', async () => {
    expect(await check(web)).toMatchObject({
      status: 'unknown',
      message: expect.stringMatching(/needs a cluster/),
    });
  });
});
