/**
 * Pod status the way the kubelet reports it, computed from the runner's record of each
 * container: phase, conditions, container statuses. Pure; the pod worker owns the records.
 */
import { constants } from 'node:os';
import { rfc3339 } from './types.js';
import type { PodCondition, PodPhase, PodStatus, RestartPolicy } from './types.js';

export type TerminatedState = {
  readonly state: 'terminated';
  readonly exitCode: number;
  /** The signal number when a signal ended the process. */
  readonly signal?: number;
  readonly reason: string;
  readonly message?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
};

export type ContainerState =
  | { readonly state: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly state: 'running'; readonly startedAt: number }
  | TerminatedState;

/** What the runner knows about one container of a pod. */
export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly init: boolean;
  current: ContainerState;
  /** The previous run, once the container has restarted or is waiting to. */
  last?: TerminatedState;
  restartCount: number;
  containerID?: string;
}

/** Whether a container that exited with `exitCode` is started again. */
export function willRestart(policy: RestartPolicy, exitCode: number, init: boolean): boolean {
  if (init) return policy !== 'Never' && exitCode !== 0;
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** A process's exit as a container runtime reports it: 128 + n for signal n. */
export function exitCodeOf(
  code: number | null,
  signal: NodeJS.Signals | null,
): {
  exitCode: number;
  signal?: number;
} {
  if (signal) {
    const n = constants.signals[signal] ?? 0;
    return { exitCode: 128 + n, signal: n };
  }
  return { exitCode: code ?? 0 };
}

export const terminatedReason = (exitCode: number): string =>
  exitCode === 0 ? 'Completed' : 'Error';

const succeeded = (s: ContainerState): boolean => s.state === 'terminated' && s.exitCode === 0;

/**
 * The pod phase, after the kubelet's rules. `terminal`: nothing will run again (the pod is
 * being deleted); then a pod whose containers did not all succeed is Failed.
 */
export function podPhase(
  records: readonly ContainerRecord[],
  policy: RestartPolicy,
  terminal = false,
): PodPhase {
  const inits = records.filter((r) => r.init);
  const mains = records.filter((r) => !r.init);
  const failedInit = inits.some(
    (r) =>
      (r.current.state === 'terminated' && r.current.exitCode !== 0) ||
      (r.current.state === 'waiting' && r.last !== undefined && r.last.exitCode !== 0),
  );
  if (failedInit && policy === 'Never') return 'Failed';
  const initDone = inits.every((r) => succeeded(r.current));
  if (!initDone) return terminal ? 'Failed' : 'Pending';

  const ended = (r: ContainerRecord): boolean =>
    r.current.state === 'terminated' &&
    (terminal || !willRestart(policy, r.current.exitCode, false));
  // A kubelet keeps a pod whose containers will be restarted Running (OnFailure after a
  // crash, Always after any exit): Failed and Succeeded are final, and clients act on them.
  if (mains.every(ended)) return mains.every((r) => succeeded(r.current)) ? 'Succeeded' : 'Failed';
  if (mains.every((r) => r.current.state === 'terminated')) return 'Running';
  if (terminal) return 'Failed';
  const restarting = (r: ContainerRecord): boolean =>
    r.current.state === 'waiting' && r.last !== undefined;
  if (mains.some((r) => r.current.state === 'waiting' && !restarting(r))) return 'Pending';
  return 'Running';
}

function stateJson(s: ContainerState, containerID?: string): object {
  switch (s.state) {
    case 'waiting':
      return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
    case 'running':
      return { running: { startedAt: rfc3339(s.startedAt) } };
    case 'terminated':
      return {
        terminated: {
          exitCode: s.exitCode,
          ...(s.signal ? { signal: s.signal } : {}),
          reason: s.reason,
          ...(s.message ? { message: s.message } : {}),
          startedAt: rfc3339(s.startedAt),
          finishedAt: rfc3339(s.finishedAt),
          ...(containerID ? { containerID } : {}),
        },
      };
  }
}

/** One entry of `containerStatuses` / `initContainerStatuses`. */
export function containerStatusJson(r: ContainerRecord): object {
  const running = r.current.state === 'running';
  return {
    name: r.name,
    image: r.image,
    imageID: '',
    ...(r.containerID ? { containerID: r.containerID } : {}),
    ready: running || (r.init && succeeded(r.current)),
    started: running,
    restartCount: r.restartCount,
    state: stateJson(r.current, r.containerID),
    lastState: r.last ? stateJson(r.last) : {},
  };
}

export interface StatusInput {
  readonly records: readonly ContainerRecord[];
  readonly policy: RestartPolicy;
  readonly podIP: string;
  readonly hostIP: string;
  readonly startTime: number;
  readonly now: number;
  /** The pod's current conditions: others are kept, transition times carried over. */
  readonly previous?: readonly PodCondition[];
  readonly terminal?: boolean;
}

type Cond = Omit<PodCondition, 'lastTransitionTime' | 'lastProbeTime'>;

function listNames(records: readonly ContainerRecord[]): string {
  return `[${records.map((r) => r.name).join(' ')}]`;
}

/** The `status` the runner writes for a pod. */
export function buildPodStatus(input: StatusInput): PodStatus & Record<string, unknown> {
  const { records, now } = input;
  const phase = podPhase(records, input.policy, input.terminal);
  const done = phase === 'Succeeded' || phase === 'Failed';
  const inits = records.filter((r) => r.init);
  const mains = records.filter((r) => !r.init);
  const pendingInit = inits.filter((r) => !succeeded(r.current));
  const unready = mains.filter((r) => r.current.state !== 'running');

  const initialized: Cond =
    pendingInit.length === 0
      ? { type: 'Initialized', status: 'True' }
      : {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: ${listNames(pendingInit)}`,
        };
  const ready = (type: string): Cond =>
    done
      ? { type, status: 'False', reason: 'PodCompleted' }
      : unready.length === 0
        ? { type, status: 'True' }
        : {
            type,
            status: 'False',
            reason: 'ContainersNotReady',
            message: `containers with unready status: ${listNames(unready)}`,
          };
  const previous = input.previous ?? [];
  const mine: Cond[] = [
    // A pod bound by nodeName never saw the scheduler; the kubelet reports it scheduled anyway.
    ...(previous.some((p) => p.type === 'PodScheduled')
      ? []
      : [{ type: 'PodScheduled', status: 'True' } as const]),
    { type: 'PodReadyToStartContainers', status: done ? 'False' : 'True' },
    initialized,
    ready('ContainersReady'),
    ready('Ready'),
  ];
  const conditions: PodCondition[] = previous.filter((p) => !mine.some((m) => m.type === p.type));
  for (const c of mine) {
    const before = previous.find((p) => p.type === c.type);
    const since =
      before?.status === c.status && before.lastTransitionTime
        ? before.lastTransitionTime
        : rfc3339(now);
    conditions.push({ ...c, lastProbeTime: null, lastTransitionTime: since });
  }

  return {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    podIP: input.podIP,
    podIPs: [{ ip: input.podIP }],
    startTime: rfc3339(input.startTime),
    ...(inits.length ? { initContainerStatuses: inits.map(containerStatusJson) } : {}),
    containerStatuses: mains.map(containerStatusJson),
  };
}
