import { describe, expect, it } from 'vitest';
import type { WorkloadState } from '../core/workload.js';
import type { Judgement, ObservedContainer } from './health.js';
import { componentHealth, diagnose, judgeSession, timeoutJudgement } from './health.js';
import type { Instance } from './health.js';

const running: ObservedContainer = { name: 'main', restarts: 0, state: 'running' };
const waiting = (reason: string, message = 'm'): ObservedContainer => ({
  name: 'main',
  restarts: 0,
  state: 'waiting',
  reason,
  message,
});
const ended = (exitCode: number | null, reason = 'Completed', message = ''): ObservedContainer => ({
  name: 'main',
  restarts: 0,
  state: 'terminated',
  exitCode,
  reason,
  message,
});

describe("diagnose: the original watcher's rules in order", () => {
  const cases: [string, ObservedContainer[], ReturnType<typeof diagnose>][] = [
    [
      'no statuses yet',
      [],
      { health: 'NotReady', error: 'pod has 0 container statuses, expected 1' },
    ],
    [
      'two containers',
      [running, running],
      { health: 'NotReady', error: 'pod has 2 container statuses, expected 1' },
    ],
    ['exited 0', [ended(0)], { health: 'Succeeded' }],
    [
      'exited 3',
      [ended(3, 'Error', 'boom')],
      { health: 'Failed', error: 'container terminated unexpectedly: [Error] boom' },
    ],
    [
      'exited 3 saying nothing: the exit code is the message',
      [ended(3, 'Error', '')],
      { health: 'Failed', error: 'container terminated unexpectedly: [Error] exit code 3' },
    ],
    [
      'exit unknown',
      [ended(null, 'Lost', 'gone')],
      { health: 'Failed', error: 'container terminated unexpectedly: [Lost] gone' },
    ],
    [
      'last state before state: failed before, running now',
      [
        {
          ...running,
          restarts: 1,
          lastTerminated: { exitCode: 1, reason: 'Error', message: 'first run' },
        },
      ],
      { health: 'Failed', error: 'container terminated unexpectedly: [Error] first run' },
    ],
    [
      'last state before state: succeeded before, failed now',
      [
        {
          ...ended(2, 'Error', 'now'),
          lastTerminated: { exitCode: 0, reason: 'Completed', message: '' },
        },
      ],
      { health: 'Succeeded' },
    ],
    [
      'CrashLoopBackOff',
      [waiting('CrashLoopBackOff', 'back-off 10s')],
      { health: 'Failed', error: 'container crashed: [CrashLoopBackOff] back-off 10s' },
    ],
    [
      'CrashLoopBackoff is not the exact reason',
      [waiting('CrashLoopBackoff')],
      { health: 'Unknown' },
    ],
    ['image pull falls through', [waiting('ImagePullBackOff')], { health: 'Unknown' }],
    ['ContainerCreating', [waiting('ContainerCreating')], { health: 'Unknown' }],
    ['running', [running], { health: 'Ready' }],
  ];
  it.each(cases)('%s', (_, containers, want) => {
    expect(diagnose(containers)).toEqual(want);
  });
});

const workload = (containers: ObservedContainer[], addresses = {}): WorkloadState => ({
  name: 'w',
  owner: 's',
  node: 'n',
  phase: 'Running',
  containers,
  addresses,
});

describe("componentHealth: fathom's fast failures, then the original's rules", () => {
  const cases: [string, WorkloadState | undefined, string, string?][] = [
    ['gone', undefined, 'Failed', 'PodsMissing'],
    ['ErrImagePull', workload([waiting('ErrImagePull', 'not found')]), 'Failed', 'ImagePullError'],
    ['ImagePullBackOff', workload([waiting('ImagePullBackOff')]), 'Failed', 'ImagePullError'],
    ['InvalidImageName', workload([waiting('InvalidImageName')]), 'Failed', 'ImagePullError'],
    [
      'CreateContainerConfigError',
      workload([waiting('CreateContainerConfigError')]),
      'Failed',
      'ContainerError',
    ],
    [
      'restarted: a crash loop',
      workload([{ ...running, restarts: 2 }]),
      'Failed',
      'ContainerError',
    ],
    ['CrashLoopBackOff', workload([waiting('CrashLoopBackOff')]), 'Failed', 'ContainerError'],
    [
      'exited non-zero',
      workload([ended(127, 'StartError', 'no such file')]),
      'Failed',
      'ContainerError',
    ],
    ['ContainerCreating waits', workload([waiting('ContainerCreating')]), 'Unknown'],
    ['running', workload([running]), 'Ready'],
  ];
  it.each(cases)('%s', (_, w, health, reason) => {
    const got = componentHealth(w);
    expect(got.health).toBe(health);
    expect(got.reason).toBe(reason);
  });

  it('says the image pull error in words', () => {
    expect(componentHealth(workload([waiting('ErrImagePull', 'manifest unknown')])).error).toBe(
      'image cannot be pulled: [ErrImagePull] manifest unknown',
    );
  });

  it('waits for the address of a component that serves', () => {
    expect(componentHealth(workload([running]), true).health).toBe('NotReady');
    expect(componentHealth(workload([running], { main: '127.0.0.1:4000' }), true).health).toBe(
      'Ready',
    );
  });
});

describe('judgeSession', () => {
  const inst = (
    component: string,
    kind: string,
    w: WorkloadState | undefined,
    placed = true,
  ): Instance => ({ component, kind, replica: 0, placed, workload: w });
  const ok = workload([running]);
  const cases: [string, Instance[], Judgement['outcome'], string?, string?][] = [
    [
      'nothing ready yet',
      [inst('srv', 'server', workload([waiting('ContainerCreating')]))],
      'waiting',
    ],
    [
      'servers ready, driver not placed',
      [inst('srv', 'server', ok), inst('drv', 'driver', undefined, false)],
      'ready',
    ],
    ['all ready', [inst('srv', 'server', ok), inst('drv', 'driver', ok)], 'ready'],
    [
      'driver exited 0: success even if a worker ended after it',
      [inst('srv', 'server', workload([ended(1)])), inst('drv', 'driver', workload([ended(0)]))],
      'succeeded',
      'DriverSucceeded',
    ],
    [
      'driver exited 2',
      [inst('srv', 'server', ok), inst('drv', 'driver', workload([ended(2, 'Error', 'bad qps')]))],
      'errored',
      'ContainerError',
      'driver has failed: container terminated unexpectedly: [Error] bad qps',
    ],
    [
      'a server exits 0 while the driver runs',
      [inst('srv', 'server', workload([ended(0)])), inst('drv', 'driver', ok)],
      'errored',
      'ComponentExited',
      'component srv (replica 0) exited with status 0 before the driver finished',
    ],
    [
      'a client fails while the driver runs: named before the driver',
      [
        inst('cli', 'client', workload([ended(1, 'Error', 'x')])),
        inst('drv', 'driver', workload([ended(1)])),
      ],
      'errored',
      'ContainerError',
      'component cli (replica 0) has failed: container terminated unexpectedly: [Error] x',
    ],
    [
      'an image pull fails during provisioning',
      [
        inst('srv', 'server', workload([waiting('ErrImagePull', 'nope')])),
        inst('drv', 'driver', undefined, false),
      ],
      'errored',
      'ImagePullError',
    ],
    [
      'a placed workload is gone',
      [inst('srv', 'server', ok), inst('cli', 'client', undefined), inst('drv', 'driver', ok)],
      'errored',
      'PodsMissing',
      'component cli (replica 0): its workload is gone (removed, or its node left the cluster)',
    ],
  ];
  it.each(cases)('%s', (_, instances, outcome, reason, message) => {
    const got = judgeSession(instances);
    expect(got.outcome).toBe(outcome);
    if (reason) expect('reason' in got ? got.reason : undefined).toBe(reason);
    if (message) expect('message' in got ? got.message : undefined).toBe(message);
  });

  it('words the timeout by phase', () => {
    expect(timeoutJudgement('provisioning', 900_000).message).toBe(
      'provision did not complete before timeout (15m0s)',
    );
    expect(timeoutJudgement('running', 90_000)).toEqual({
      outcome: 'errored',
      reason: 'TimeoutErrored',
      message: 'test did not complete before timeout (1m30s)',
    });
  });
});
