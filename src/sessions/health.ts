/**
 * Health of components and sessions from what the workload port reports. Two layers:
 * `diagnose` is the original watcher's rule, in its exact order; `componentHealth` adds fathom's
 * fast failures on top (image pulls, crash loops, containers that cannot be created, a workload
 * gone); `judgeSession` decides a session from all its component instances. Pure.
 */
import type { ContainerStatus, WorkloadState } from '../core/workload.js';
import { formatDuration } from '../core/duration.js';
import type { ComponentKind, SessionReason } from './types.js';
import { driverKind } from './types.js';

/** The original's Health values. */
export type Health = 'Unknown' | 'Ready' | 'NotReady' | 'Succeeded' | 'Failed';

export interface Diagnosis {
  readonly health: Health;
  readonly error?: string;
}

export interface Terminated {
  readonly exitCode: number | null;
  readonly reason: string;
  readonly message: string;
}

/**
 * A container as the port reports it, plus Kubernetes' `lastState.terminated`. The port has no
 * such field: fathom's workloads never restart (restartPolicy Never), so a container has no
 * last state; it is here so the original's rule (last state first) stays whole and tested.
 */
export type ObservedContainer = ContainerStatus & { readonly lastTerminated?: Terminated };

const exitWords = (code: number | null): string =>
  code === null ? 'exit code unknown' : `exit code ${code}`;

/**
 * The original watcher's `diagnose`, rule for rule: (1) not exactly one container status:
 * NotReady; (2) the last terminated state, else the current one, if any: exit 0 Succeeded,
 * else Failed; (3) waiting in exactly `CrashLoopBackOff`: Failed; (4) running: Ready (its
 * readiness is not consulted); (5) else Unknown. Other waiting reasons (ContainerCreating,
 * ErrImagePull, ImagePullBackOff) fall through to Unknown: they waited for the timeout.
 */
export function diagnose(containers: readonly ObservedContainer[]): Diagnosis {
  if (containers.length !== 1) {
    return {
      health: 'NotReady',
      error: `pod has ${containers.length} container statuses, expected 1`,
    };
  }
  const c = containers[0]!;
  const t: Terminated | undefined = c.lastTerminated ?? (c.state === 'terminated' ? c : undefined);
  if (t) {
    if (t.exitCode === 0) return { health: 'Succeeded' };
    return {
      health: 'Failed',
      // The original's words; a container that said nothing is told by its exit code instead.
      error: `container terminated unexpectedly: [${t.reason}] ${t.message || exitWords(t.exitCode)}`,
    };
  }
  if (c.state === 'waiting' && c.reason === 'CrashLoopBackOff') {
    return { health: 'Failed', error: `container crashed: [${c.reason}] ${c.message}` };
  }
  if (c.state === 'running') return { health: 'Ready' };
  return { health: 'Unknown' };
}

/** Waiting reasons that never resolve by waiting: the component fails at once. */
export const imagePullReasons: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);
export const containerStartReasons: ReadonlySet<string> = new Set([
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
]);

export interface ComponentHealth extends Diagnosis {
  /** Why it failed, for the session's reason. */
  readonly reason?: SessionReason;
}

/**
 * A component instance's health: gone is PodsMissing; an image that cannot be pulled, a
 * container that cannot be created, or one that restarted (a crash loop, however the backend
 * words it) fail at once; then the original's `diagnose`.
 * @param needsAddress the component serves: Ready only once its address is known.
 */
export function componentHealth(
  workload: WorkloadState | undefined,
  needsAddress = false,
  containers: readonly ObservedContainer[] | undefined = workload?.containers,
): ComponentHealth {
  if (!workload) {
    return {
      health: 'Failed',
      reason: 'PodsMissing',
      error: 'its workload is gone (removed, or its node left the cluster)',
    };
  }
  for (const c of containers ?? []) {
    if (c.state === 'waiting' && imagePullReasons.has(c.reason)) {
      const error = `image cannot be pulled: [${c.reason}] ${c.message}`;
      return { health: 'Failed', reason: 'ImagePullError', error };
    }
    if (c.state === 'waiting' && containerStartReasons.has(c.reason)) {
      const error = `container cannot start: [${c.reason}] ${c.message}`;
      return { health: 'Failed', reason: 'ContainerError', error };
    }
    if (c.restarts > 0 && c.state !== 'terminated' && !c.lastTerminated) {
      const error = `container crashed: restarted ${c.restarts} times (crash loop)`;
      return { health: 'Failed', reason: 'ContainerError', error };
    }
  }
  const d = diagnose(containers ?? []);
  if (d.health === 'Failed') return { ...d, reason: 'ContainerError' };
  if (d.health === 'Ready' && needsAddress && Object.keys(workload.addresses).length === 0) {
    return { health: 'NotReady', error: 'running; its address is not known yet' };
  }
  return d;
}

/** One instance of a component (one replica, one workload, one node). */
export interface Instance {
  readonly component: string;
  readonly kind: ComponentKind;
  readonly replica: number;
  /** Placed: its workload was created (provisioning goes servers, clients, then the driver). */
  readonly placed: boolean;
  /** Its workload as last seen; undefined when placed but gone. */
  readonly workload: WorkloadState | undefined;
  /** It declares a port: it is Ready once its address is known. */
  readonly serves?: boolean;
}

export type Judgement =
  | { readonly outcome: 'waiting' }
  /** Every placed instance is Ready: place the next group, or (driver placed) it runs. */
  | { readonly outcome: 'ready' }
  | { readonly outcome: 'succeeded'; readonly reason: 'DriverSucceeded'; readonly message: string }
  | { readonly outcome: 'errored'; readonly reason: SessionReason; readonly message: string };

const label = (i: Instance): string => `component ${i.component} (replica ${i.replica})`;

/**
 * The session's fate from its instances, checked in this order: the driver exited 0
 * (succeeded: the driver alone decides success, so workers that end after it do not matter);
 * an instance gone (PodsMissing); another component failed (its reason) or exited at all while
 * the driver ran or was still to come (ComponentExited: servers and clients serve until the
 * end); the driver failed; then ready when every placed instance is Ready, else waiting.
 */
export function judgeSession(instances: readonly Instance[]): Judgement {
  const health = instances.map((i) =>
    i.placed ? componentHealth(i.workload, i.serves ?? false) : undefined,
  );
  const driver = instances.findIndex((i) => i.kind === driverKind);
  const driverHealth = driver >= 0 ? health[driver] : undefined;
  if (driverHealth?.health === 'Succeeded') {
    const message = 'session completed, driver container had exit status of 0';
    return { outcome: 'succeeded', reason: 'DriverSucceeded', message };
  }
  for (let k = 0; k < instances.length; k++) {
    if (health[k]?.reason === 'PodsMissing') {
      return {
        outcome: 'errored',
        reason: 'PodsMissing',
        message: `${label(instances[k]!)}: ${health[k]!.error}`,
      };
    }
  }
  for (let k = 0; k < instances.length; k++) {
    const h = health[k];
    if (k === driver || !h) continue;
    const at = label(instances[k]!);
    if (h.health === 'Failed') {
      const reason = h.reason ?? 'ContainerError';
      return { outcome: 'errored', reason, message: `${at} has failed: ${h.error}` };
    }
    if (h.health === 'Succeeded') {
      const message = `${at} exited with status 0 before the driver finished`;
      return { outcome: 'errored', reason: 'ComponentExited', message };
    }
  }
  if (driverHealth?.health === 'Failed') {
    const reason = driverHealth.reason ?? 'ContainerError';
    return { outcome: 'errored', reason, message: `driver has failed: ${driverHealth.error}` };
  }
  const placed = health.filter((h) => h !== undefined);
  return placed.length > 0 && placed.every((h) => h.health === 'Ready')
    ? { outcome: 'ready' }
    : { outcome: 'waiting' };
}

/** The timeout's verdict, worded for where the session was (the original's two messages). */
export function timeoutJudgement(
  phase: 'provisioning' | 'running',
  timeoutMs: number,
): Extract<Judgement, { outcome: 'errored' }> {
  const what = phase === 'provisioning' ? 'provision' : 'test';
  return {
    outcome: 'errored',
    reason: 'TimeoutErrored',
    message: `${what} did not complete before timeout (${formatDuration(timeoutMs)})`,
  };
}
