/** Reading `status.conditions` and building kstatus's standard results. */
import { FieldError, goTypeName, isMap } from './fields.js';
import type { Condition, Result } from './types.js';

/** kstatus's BasicCondition: every field a string ('' when absent or null). */
export interface BasicCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

const conditionFields = ['type', 'status', 'reason', 'message'] as const;

/**
 * kstatus's GetObjectWithConditions: decodes `status.conditions` strictly. A status that is not
 * a map, conditions that are not a list, an entry that is not a map, or a field that is not a
 * string fail (FieldError); absent or null parts decode as empty.
 */
export function readConditions(obj: unknown): BasicCondition[] {
  if (!isMap(obj)) return [];
  const status = obj.status;
  if (status === null || status === undefined) return [];
  if (!isMap(status)) {
    throw new FieldError(`status: cannot decode ${goTypeName(status)} into a status object`);
  }
  const list = status.conditions;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) {
    throw new FieldError(`status.conditions: cannot decode ${goTypeName(list)} into a list`);
  }
  return list.map((item: unknown, i): BasicCondition => {
    if (item === null || item === undefined)
      return { type: '', status: '', reason: '', message: '' };
    if (!isMap(item)) {
      throw new FieldError(
        `status.conditions[${i}]: cannot decode ${goTypeName(item)} into a condition`,
      );
    }
    const out: Record<string, string> = {};
    for (const f of conditionFields) {
      const v = item[f];
      if (v === null || v === undefined) out[f] = '';
      else if (typeof v === 'string') out[f] = v;
      else {
        throw new FieldError(
          `status.conditions[${i}].${f}: cannot decode ${goTypeName(v)} into a string`,
        );
      }
    }
    return out as unknown as BasicCondition;
  });
}

export function findCondition(
  conditions: readonly BasicCondition[],
  type: string,
  status: string,
): BasicCondition | undefined {
  return conditions.find((c) => c.type === type && c.status === status);
}

function reconciling(reason: string, message: string): Condition {
  return { type: 'Reconciling', status: 'True', reason, message };
}

/** kstatus's newInProgressStatus: InProgress with a Reconciling condition. */
export function inProgress(reason: string, message: string): Result {
  return { status: 'InProgress', message, conditions: [reconciling(reason, message)] };
}

/** kstatus's newFailedStatus: Failed with a Stalled condition. */
export function failed(reason: string, message: string): Result {
  return {
    status: 'Failed',
    message,
    conditions: [{ type: 'Stalled', status: 'True', reason, message }],
  };
}

/** Current never carries a condition. */
export function current(message: string): Result {
  return { status: 'Current', message, conditions: [] };
}

/** A compute error, as the poller reports it: Unknown with the reason. */
export function unknown(error: string): Result {
  return { status: 'Unknown', message: error, conditions: [], error };
}
