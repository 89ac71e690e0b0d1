import { describe, expect, it } from 'vitest';
import { buildPodStatus, exitCodeOf, podPhase, willRestart } from './status.js';
import type { ContainerRecord, ContainerState, TerminatedState } from './status.js';
import type { RestartPolicy } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const waiting = (reason = 'ContainerCreating'): ContainerState => ({ state: 'waiting', reason });
const running: ContainerState = { state: 'running', startedAt: T0 };
const exited = (exitCode: number): TerminatedState => ({
  state: 'terminated',
  exitCode,
  reason: exitCode === 0 ? 'Completed' : 'Error',
  startedAt: T0,
  finishedAt: T0 + 1000,
});
const rec = (
  name: string,
  current: ContainerState,
  extra: Partial<ContainerRecord> = {},
): ContainerRecord => ({
  name,
  image: 'img',
  init: false,
  current,
  restartCount: 0,
  ...extra,
});
const init = (name: string, current: ContainerState, extra: Partial<ContainerRecord> = {}) =>
  rec(name, current, { init: true, ...extra });

describe('willRestart', () => {
  it.each([
    ['Always', 0, false, true],
    ['Always', 1, false, true],
    ['OnFailure', 0, false, false],
    ['OnFailure', 1, false, true],
    ['Never', 1, false, false],
    ['Always', 0, true, false],
    ['Always', 1, true, true],
    ['OnFailure', 2, true, true],
    ['Never', 1, true, false],
  ] as [RestartPolicy, number, boolean, boolean][])(
    '%s, exit %i, init %s → %s',
    (policy, code, isInit, out) => {
      expect(willRestart(policy, code, isInit)).toBe(out);
    },
  );
});

describe('exitCodeOf', () => {
  it('reports 128 + n for signal n, as container runtimes do', () => {
    expect(exitCodeOf(null, 'SIGKILL')).toEqual({ exitCode: 137, signal: 9 });
    expect(exitCodeOf(null, 'SIGTERM')).toEqual({ exitCode: 143, signal: 15 });
    expect(exitCodeOf(3, null)).toEqual({ exitCode: 3 });
  });
});

describe('podPhase', () => {
  const restarting = (code: number) =>
    rec('c', waiting('CrashLoopBackOff'), { last: exited(code), restartCount: 1 });
  it.each([
    ['nothing started', [rec('c', waiting())], 'Always', 'Pending'],
    [
      'an init container running',
      [init('i', running), rec('c', waiting('PodInitializing'))],
      'Never',
      'Pending',
    ],
    [
      'an init container failed, Never',
      [init('i', exited(1)), rec('c', waiting())],
      'Never',
      'Failed',
    ],
    [
      'an init container failed and restarting',
      [init('i', waiting('CrashLoopBackOff'), { last: exited(1) }), rec('c', waiting())],
      'OnFailure',
      'Pending',
    ],
    ['running', [init('i', exited(0)), rec('c', running)], 'Never', 'Running'],
    [
      'one running, one not yet started',
      [rec('a', running), rec('b', waiting())],
      'Always',
      'Pending',
    ],
    ['all succeeded', [rec('a', exited(0)), rec('b', exited(0))], 'Never', 'Succeeded'],
    ['one failed, one running', [rec('a', exited(1)), rec('b', running)], 'Never', 'Running'],
    ['all ended, one failed', [rec('a', exited(1)), rec('b', exited(0))], 'Never', 'Failed'],
    ['crash-looping', [restarting(1)], 'Always', 'Running'],
    // Just exited, not yet in CrashLoopBackOff: the container will be started again.
    ['killed, to be restarted (OnFailure)', [rec('c', exited(137))], 'OnFailure', 'Running'],
    ['exited, to be restarted (Always)', [rec('c', exited(0))], 'Always', 'Running'],
    [
      'one failed, one succeeded (OnFailure)',
      [rec('a', exited(1)), rec('b', exited(0))],
      'OnFailure',
      'Running',
    ],
    ['all succeeded (OnFailure)', [rec('a', exited(0))], 'OnFailure', 'Succeeded'],
    ['restarting after success', [restarting(0)], 'Always', 'Running'],
  ] as [string, ContainerRecord[], RestartPolicy, string][])(
    '%s → %s',
    (_what, records, policy, phase) => {
      expect(podPhase(records, policy)).toBe(phase);
    },
  );

  it('a terminal pod that did not finish cleanly is Failed', () => {
    expect(podPhase([restarting(1)], 'Always', true)).toBe('Failed');
    expect(podPhase([rec('c', waiting())], 'Always', true)).toBe('Failed');
    expect(podPhase([rec('c', exited(0))], 'Always', true)).toBe('Succeeded');
    expect(podPhase([rec('c', exited(143))], 'Always', true)).toBe('Failed');
  });
});

describe('buildPodStatus', () => {
  const base = {
    policy: 'Never' as const,
    podIP: '127.0.9.9',
    hostIP: '127.0.9.1',
    startTime: T0,
    now: T0 + 5000,
  };

  it('reports IPs, start time, container states and the kubelet conditions', () => {
    const s = buildPodStatus({
      ...base,
      records: [init('i', exited(0)), rec('c', running, { containerID: 'podrunner://x' })],
    });
    expect(s).toMatchObject({
      phase: 'Running',
      podIP: '127.0.9.9',
      podIPs: [{ ip: '127.0.9.9' }],
      hostIP: '127.0.9.1',
      hostIPs: [{ ip: '127.0.9.1' }],
      startTime: '2026-01-01T00:00:00Z',
    });
    expect(s.initContainerStatuses).toEqual([
      expect.objectContaining({
        name: 'i',
        ready: true,
        started: false,
        state: {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            startedAt: '2026-01-01T00:00:00Z',
            finishedAt: '2026-01-01T00:00:01Z',
          },
        },
        lastState: {},
      }),
    ]);
    expect(s.containerStatuses).toEqual([
      {
        name: 'c',
        image: 'img',
        imageID: '',
        containerID: 'podrunner://x',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
        lastState: {},
      },
    ]);
    const conds = Object.fromEntries(s.conditions!.map((c) => [c.type, c.status]));
    expect(conds).toEqual({
      PodScheduled: 'True',
      PodReadyToStartContainers: 'True',
      Initialized: 'True',
      ContainersReady: 'True',
      Ready: 'True',
    });
  });

  it('says which containers hold the pod back, and marks a finished pod PodCompleted', () => {
    const pending = buildPodStatus({
      ...base,
      records: [init('i', running), rec('c', waiting('PodInitializing'))],
    });
    expect(pending.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Initialized',
        status: 'False',
        message: 'containers with incomplete status: [i]',
      }),
    );
    expect(pending.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [c]',
      }),
    );
    const done = buildPodStatus({ ...base, records: [rec('c', exited(0))] });
    expect(done.phase).toBe('Succeeded');
    expect(done.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'PodCompleted' }),
    );
  });

  it('keeps other conditions and carries transition times over while a status holds', () => {
    const previous = [
      { type: 'PodScheduled', status: 'True' as const, lastTransitionTime: '2025-12-31T00:00:00Z' },
      { type: 'Ready', status: 'True' as const, lastTransitionTime: '2025-12-31T00:00:01Z' },
      { type: 'Initialized', status: 'False' as const, lastTransitionTime: '2025-12-31T00:00:02Z' },
    ];
    const s = buildPodStatus({ ...base, previous, records: [rec('c', running)] });
    const byType = new Map(s.conditions!.map((c) => [c.type, c]));
    expect(byType.get('PodScheduled')?.lastTransitionTime).toBe('2025-12-31T00:00:00Z');
    expect(byType.get('Ready')?.lastTransitionTime).toBe('2025-12-31T00:00:01Z');
    expect(byType.get('Initialized')?.lastTransitionTime).toBe('2026-01-01T00:00:05Z');
    expect(s.conditions!.filter((c) => c.type === 'PodScheduled')).toHaveLength(1);
  });

  it('shows a crash loop: waiting with the last termination and the restart count', () => {
    const s = buildPodStatus({
      ...base,
      policy: 'Always',
      records: [
        rec(
          'c',
          { state: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 2s' },
          { last: exited(1), restartCount: 2 },
        ),
      ],
    });
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses).toEqual([
      expect.objectContaining({
        restartCount: 2,
        ready: false,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s' } },
        lastState: { terminated: expect.objectContaining({ exitCode: 1, reason: 'Error' }) },
      }),
    ]);
  });
});
