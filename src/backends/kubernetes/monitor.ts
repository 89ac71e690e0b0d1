/**
 * Sonobuoy's Monitor rules (reference c.7), with its exact messages: when a plugin's pod is
 * failing and will not deliver results, and when a DaemonSet left a node without a pod. Pure:
 * pods and times in, messages out.
 */
import { formatDuration } from '../../core/duration.js';
import type { Pod } from './api/types.js';

export interface MonitorLimits {
  /** A container waiting on its image is an error once the pod started this long ago (Sonobuoy: 5 min). */
  readonly imagePullGraceMs: number;
  /** A terminated container without results is an error after this long (Sonobuoy: 5 min). */
  readonly terminatedGraceMs: number;
}

export const SONOBUOY_LIMITS: MonitorLimits = {
  imagePullGraceMs: 5 * 60_000,
  terminatedGraceMs: 5 * 60_000,
};

function since(now: number, timestamp: string | undefined): number | undefined {
  if (!timestamp) return undefined;
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? undefined : now - t;
}

/**
 * Why a plugin pod is failing and not likely to succeed, in Sonobuoy's words, or undefined
 * while it may still deliver. The checks run in Sonobuoy's order; the first match wins.
 */
export function podProblem(
  pod: Pod,
  now: number,
  limits: MonitorLimits = SONOBUOY_LIMITS,
): string | undefined {
  for (const cond of pod.status?.conditions ?? []) {
    if (cond.reason === 'Unschedulable') return `Can't schedule pod: ${cond.message ?? ''}`;
  }
  const started = since(now, pod.status?.startTime);
  for (const cs of pod.status?.containerStatuses ?? []) {
    const restarts = cs.restartCount ?? 0;
    if (restarts > 2) return `Container ${cs.name} has restarted unsuccessfully ${restarts} times`;
    const waiting = cs.state?.waiting;
    if (
      waiting &&
      (waiting.reason === 'ImagePullBackOff' || waiting.reason === 'ErrImagePull') &&
      started !== undefined &&
      started > limits.imagePullGraceMs
    ) {
      return `Failed to pull image ${cs.image ?? ''} for container ${cs.name} within ${formatDuration(limits.imagePullGraceMs)}. Container is in state ${waiting.reason}`;
    }
    const term = cs.state?.terminated;
    const ended = since(now, term?.finishedAt);
    if (term && ended !== undefined && ended > limits.terminatedGraceMs) {
      return `Container ${cs.name} is in a terminated state (exit code ${term.exitCode ?? 0}) due to reason: ${term.reason ?? ''}: ${term.message ?? ''}`;
    }
  }
  return undefined;
}

/** Sonobuoy's message for a node a DaemonSet put no pod on (taints the plugin does not tolerate). */
export function noPodMessage(node: string, elapsedMs: number, plugin: string): string {
  return `No pod was scheduled on node ${node} within ${formatDuration(elapsedMs)}. Check tolerations for plugin ${plugin}`;
}

/** Sonobuoy's message when a Job plugin's pod is missing. */
export function noJobPodMessage(plugin: string): string {
  return `no pods were created by plugin ${plugin}`;
}
