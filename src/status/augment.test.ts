import { describe, expect, it } from 'vitest';
import { augment } from './compute.js';
import { cond, obj } from './test-helpers.js';

const now = (): number => Date.UTC(2026, 2, 4, 5, 6, 7, 890);
const T = '2026-03-04T05:06:07Z';
const pendingDeployment = (conditions?: unknown[]): Record<string, unknown> =>
  obj('apps/v1', 'Deployment', {
    spec: { replicas: 2 },
    status: { replicas: 1, ...(conditions ? { conditions } : {}) },
  });

describe('augment', () => {
  it('appends a missing Reconciling condition with both times, in UTC to the second', () => {
    const input = pendingDeployment();
    const { object, result } = augment(input, { now });
    expect(result.status).toBe('InProgress');
    expect((object.status as { conditions: unknown[] }).conditions).toEqual([
      {
        lastTransitionTime: T,
        lastUpdateTime: T,
        message: 'Replicas: 1/2',
        reason: 'LessReplicas',
        status: 'True',
        type: 'Reconciling',
      },
    ]);
    // The input is not touched.
    expect((input.status as Record<string, unknown>).conditions).toBeUndefined();
  });

  it('overwrites an existing entry; lastTransitionTime moves only when the status changes', () => {
    const old = {
      type: 'Reconciling',
      status: 'False',
      reason: 'Old',
      message: 'old',
      lastTransitionTime: 'a',
      lastUpdateTime: 'b',
    };
    const other = cond('Available', 'True');
    const { object } = augment(pendingDeployment([other, old]), { now });
    expect((object.status as { conditions: unknown[] }).conditions).toEqual([
      other,
      {
        type: 'Reconciling',
        status: 'True',
        reason: 'LessReplicas',
        message: 'Replicas: 1/2',
        lastTransitionTime: T,
        lastUpdateTime: T,
      },
    ]);

    // Reconciling True is read back by compute (step 3): its own reason stays, the status does not change.
    const same = { ...old, status: 'True' };
    const again = augment(pendingDeployment([same]), { now }).object;
    expect((again.status as { conditions: unknown[] }).conditions[0]).toEqual({
      ...same,
      lastUpdateTime: T,
    });
  });

  it('adds a Stalled condition for a Failed result', () => {
    const o = obj('batch/v1', 'Job', { status: { conditions: [cond('Failed', 'True')] } });
    const { object } = augment(o, { now });
    const conds = (object.status as { conditions: Record<string, unknown>[] }).conditions;
    expect(conds[1]).toMatchObject({ type: 'Stalled', status: 'True', reason: 'JobFailed' });
  });

  it('a Current result adds no condition, but writes the list back as kstatus does', () => {
    const { object, result } = augment(obj('v1', 'ConfigMap'), { now });
    expect(result.status).toBe('Current');
    expect(object.status).toEqual({ conditions: [] });
  });

  it('a compute error leaves the object alone and reports Unknown', () => {
    const bad = obj('v1', 'Pod', { metadata: { generation: 'x' } });
    const { object, result } = augment(bad, { now });
    expect(object).toBe(bad);
    expect(result.status).toBe('Unknown');
  });

  it('rejects an existing condition of the wrong shape, as kstatus does', () => {
    // compute reads a missing type as '', but Augment wants a string there.
    const typeless = pendingDeployment([{ status: 'True' }]);
    expect(augment(typeless, { now }).result).toMatchObject({
      status: 'Unknown',
      error: 'condition type does not have the expected type',
    });
  });
});
