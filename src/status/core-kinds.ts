/** kstatus's rules for Pod, PVC, Service, Job, PDB, CRD and the always-ready kinds. */
import { current, failed, findCondition, inProgress, readConditions } from './conditions.js';
import {
  FieldError,
  boolField,
  formatInt as n,
  goTypeName,
  intField,
  isMap,
  nestedSlice,
  stringField,
} from './fields.js';
import type { Result } from './types.js';

/** How long a Pod may stay unschedulable before kstatus calls it Failed. */
export const SCHEDULE_WINDOW_MS = 15_000;

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** metav1.Time from a string: RFC 3339, anything else (or nothing) is time zero. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || !rfc3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function crashLoopingContainers(obj: unknown): string[] {
  const statuses = nestedSlice(obj, 'status', 'containerStatuses') ?? [];
  const names: string[] = [];
  // kstatus asserts these types (a malformed entry panics in Go); here it is an error instead.
  const expect = (v: unknown, what: string, ok: boolean): void => {
    if (!ok) {
      throw new FieldError(
        `status.containerStatuses: ${what} is of the type ${goTypeName(v)}, not the expected type`,
      );
    }
  };
  statuses.forEach((cs, i) => {
    expect(cs, `[${i}]`, isMap(cs));
    const m = cs as Record<string, unknown>;
    if (!Object.hasOwn(m, 'name')) return;
    expect(m.name, `[${i}].name`, typeof m.name === 'string');
    if (!Object.hasOwn(m, 'state')) return;
    expect(m.state, `[${i}].state`, isMap(m.state));
    const state = m.state as Record<string, unknown>;
    if (!Object.hasOwn(state, 'waiting')) return;
    expect(state.waiting, `[${i}].state.waiting`, isMap(state.waiting));
    const waiting = state.waiting as Record<string, unknown>;
    if (!Object.hasOwn(waiting, 'reason')) return;
    expect(waiting.reason, `[${i}].state.waiting.reason`, typeof waiting.reason === 'string');
    if (waiting.reason === 'CrashLoopBackOff') names.push(m.name as string);
  });
  return names;
}

export function podRule(obj: unknown, now: number): Result {
  const phase = stringField(obj, '.status.phase', '');
  const conditions = readConditions(obj);
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      // By design (cli-utils#329): kstatus reports reconcile status, not health.
      return current('Pod has completed, but not successfully');
    case 'Running': {
      if (findCondition(conditions, 'Ready', 'True')) return current('Pod is Ready');
      const names = crashLoopingContainers(obj);
      if (names.length > 0) {
        return failed('ContainerCrashLooping', `Containers in CrashLoop state: ${names.join(',')}`);
      }
      return inProgress('PodRunningNotReady', 'Pod is running but is not Ready');
    }
    case 'Pending': {
      const c = findCondition(conditions, 'PodScheduled', 'False');
      if (c && c.reason === 'Unschedulable') {
        const created = parseTimestamp(stringField(obj, '.metadata.creationTimestamp', '')) ?? 0;
        if (now - SCHEDULE_WINDOW_MS < created) {
          return inProgress('PodNotScheduled', 'Pod has not been scheduled');
        }
        return failed('PodUnschedulable', 'Pod could not be scheduled');
      }
      return inProgress('PodPending', 'Pod is in the Pending phase');
    }
    case '':
      return inProgress('PodNotObserved', 'Pod phase not available');
    default:
      throw new FieldError(`unknown phase ${phase}`);
  }
}

export function pvcRule(obj: unknown): Result {
  const phase = stringField(obj, '.status.phase', 'unknown');
  if (phase !== 'Bound') return inProgress('NotBound', `PVC is not Bound. phase: ${phase}`);
  return current('PVC is Bound');
}

export function serviceRule(obj: unknown): Result {
  const type = stringField(obj, '.spec.type', 'ClusterIP');
  if (type === 'LoadBalancer' && stringField(obj, '.spec.clusterIP', '') === '') {
    return inProgress('NoIPAssigned', 'ClusterIP not set. Service type: LoadBalancer');
  }
  return current('Service is ready');
}

export function jobRule(obj: unknown): Result {
  const parallelism = intField(obj, '.spec.parallelism', 1n);
  const completions = intField(obj, '.spec.completions', parallelism);
  const succeeded = intField(obj, '.status.succeeded', 0n);
  const active = intField(obj, '.status.active', 0n);
  const failedCount = intField(obj, '.status.failed', 0n);
  const startTime = stringField(obj, '.status.startTime', '');
  const suspended = boolField(obj, '.spec.suspend', false);

  for (const c of readConditions(obj)) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') {
      return current(`Job Completed. succeeded: ${n(succeeded)}/${n(completions)}`);
    }
    if (c.type === 'Failed') {
      return failed('JobFailed', `Job Failed. failed: ${n(failedCount)}/${n(completions)}`);
    }
    if (c.type === 'Suspended' && suspended) return current('Job is suspended');
  }
  if (startTime === '') return inProgress('JobNotStarted', 'Job not started');
  return current(
    `Job in progress. success:${n(succeeded)}, active: ${n(active)}, failed: ${n(failedCount)}`,
  );
}

export function alwaysReadyRule(): Result {
  return current('Resource is always ready');
}

export function pdbRule(): Result {
  return current('AllowedDisruptions has been computed.');
}

export function crdRule(obj: unknown): Result {
  for (const c of readConditions(obj)) {
    if (c.type === 'NamesAccepted' && c.status === 'False') return failed(c.reason, c.message);
    if (c.type === 'Established') {
      if (c.status === 'False' && c.reason !== 'Installing') return failed(c.reason, c.message);
      if (c.status === 'True') return current('CRD is established');
    }
  }
  return inProgress('Installing', 'Install in progress');
}
