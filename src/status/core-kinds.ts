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

/**
 * What Go's time.Parse(time.RFC3339, s) accepts: its general layout parser, which is laxer than
 * RFC 3339 (a one-digit hour, a comma before the fraction, a zone offset up to +24:60) while
 * still checking every range (month, day of that month, hour < 24, minute and second < 60).
 */
const goRfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysIn(month: number, year: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * metav1.Time from a string as Go parses it (see `goRfc3339`), in milliseconds since the epoch;
 * undefined for anything else, which kstatus reads as time zero.
 */
export function parseTimestamp(value: unknown): number | undefined {
  const m = typeof value === 'string' ? goRfc3339.exec(value) : null;
  if (!m) return undefined;
  const [year, month, day, hour, min, sec] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || min > 59 || sec > 59) return undefined;
  const [offHour, offMin] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (offHour > 24 || offMin > 60) return undefined;
  const offset = (m[8] === '-' ? -1 : 1) * (offHour * 60 + offMin) * 60_000;
  // Nanoseconds from the first nine digits, as Go keeps them.
  const nanos = Number((m[7] ?? '').slice(0, 9).padEnd(9, '0'));
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, years below 100 stay as they are
  d.setUTCHours(hour, min, sec, 0);
  return d.getTime() + nanos / 1e6 - offset;
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
