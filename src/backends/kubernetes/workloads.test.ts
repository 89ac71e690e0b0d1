import { describe, expect, it } from 'vitest';
import { isFathomError } from '../../core/errors.js';
import type { ContainerStatus, WorkloadSpec } from '../../core/workload.js';
import {
  checkedPod,
  isWorkloadPod,
  ownerSelector,
  workloadPod,
  workloadStateOf,
} from './workload-pod.js';

const labels = { component: 'fathom', 'fathom-component': 'workload', 'fathom.dev/owner': 's1' };

/** A Pod as the API returns it, with the given status. */
const pod = (status: unknown, ports: Record<string, number> = {}): unknown => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'w', namespace: 'ns', uid: 'u1', labels },
  spec: {
    nodeName: 'node-a',
    containers: ['main', 'side'].map((name) => ({
      name,
      image: 'x:1',
      ...(ports[name] ? { ports: [{ containerPort: ports[name], protocol: 'TCP' }] } : {}),
    })),
  },
  ...(status === undefined ? {} : { status }),
});

const stateOf = (status: unknown, ports?: Record<string, number>) =>
  workloadStateOf(checkedPod(pod(status, ports), 'Pod ns/w'));

const creating = (name: string): ContainerStatus => ({
  name,
  restarts: 0,
  state: 'waiting',
  reason: 'ContainerCreating',
  message: '',
});

describe('workloadStateOf', () => {
  const cases: [string, unknown, string, ContainerStatus[]][] = [
    ['no status at all (just created)', undefined, 'Pending', [creating('main'), creating('side')]],
    [
      'Pending without containerStatuses',
      { phase: 'Pending' },
      'Pending',
      [creating('main'), creating('side')],
    ],
    [
      'an image that cannot be pulled',
      {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'main',
            restartCount: 0,
            state: {
              waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x:1"' },
            },
          },
          { name: 'side', restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } },
        ],
      },
      'Pending',
      [
        {
          name: 'main',
          restarts: 0,
          state: 'waiting',
          reason: 'ImagePullBackOff',
          message: 'Back-off pulling image "x:1"',
        },
        { name: 'side', restarts: 0, state: 'waiting', reason: 'ErrImagePull', message: '' },
      ],
    ],
    [
      'a container backing off after crashes, its sibling running',
      {
        phase: 'Running',
        podIP: '10.1.2.3',
        containerStatuses: [
          { name: 'side', restartCount: 0, state: { running: { startedAt: 't' } } },
          {
            name: 'main',
            restartCount: 4,
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: 'back-off 40s restarting failed container=main',
              },
            },
          },
        ],
      },
      'Running',
      [
        {
          name: 'main',
          restarts: 4,
          state: 'waiting',
          reason: 'CrashLoopBackOff',
          message: 'back-off 40s restarting failed container=main',
        },
        { name: 'side', restarts: 0, state: 'running' },
      ],
    ],
    [
      'terminated, one without an exit code, one with an empty state',
      {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'main',
            restartCount: 0,
            state: { terminated: { exitCode: 3, reason: 'Error', message: 'broken' } },
          },
          { name: 'side', state: { terminated: { reason: 'ContainerStatusUnknown' } } },
        ],
      },
      'Failed',
      [
        {
          name: 'main',
          restarts: 0,
          state: 'terminated',
          exitCode: 3,
          reason: 'Error',
          message: 'broken',
        },
        {
          name: 'side',
          restarts: 0,
          state: 'terminated',
          exitCode: null,
          reason: 'ContainerStatusUnknown',
          message: '',
        },
      ],
    ],
    [
      'a phase from a newer API and a state with no field set',
      { phase: 'Evicting', containerStatuses: [{ name: 'main', restartCount: 0, state: {} }] },
      'Unknown',
      [creating('main'), creating('side')],
    ],
  ];
  it.each(cases)('%s', (_what, status, phase, containers) => {
    const s = stateOf(status);
    expect(s).toMatchObject({ name: 'w', owner: 's1', node: 'node-a', phase, addresses: {} });
    expect(s.containers).toEqual(containers);
    expect(Object.isFrozen(s.containers[0])).toBe(true);
  });

  it('names an address per container with a port, once the pod IP is known', () => {
    expect(stateOf({ phase: 'Pending' }, { side: 8080 }).addresses).toEqual({});
    expect(stateOf({ phase: 'Running', podIP: '10.1.2.3' }, { side: 8080 }).addresses).toEqual({
      side: '10.1.2.3:8080',
    });
    expect(stateOf({ phase: 'Running', podIP: 'fd00::5' }, { main: 80 }).addresses).toEqual({
      main: '[fd00::5]:80',
    });
  });

  it.each([
    [
      'a restart count that is not a number',
      { containerStatuses: [{ name: 'main', restartCount: 'x' }] },
      'status.containerStatuses[0].restartCount: must be integer',
    ],
    [
      'an exit code that is text',
      { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: '3' } } }] },
      'status.containerStatuses[0].state.terminated.exitCode: must be integer',
    ],
    ['a status that is a list', [], 'status: must be object'],
  ])('refuses a Pod with %s, naming it and the field', (_what, status, message) => {
    let caught: unknown;
    try {
      stateOf(status);
    } catch (err) {
      caught = err;
    }
    expect(isFathomError(caught, 'FATHOM_STATE_INVALID')).toBe(true);
    expect((caught as Error).message).toBe(`Pod ns/w: ${message}`);
  });
});

describe('workloadPod', () => {
  const spec: WorkloadSpec = {
    name: 'agent-1',
    owner: 'check-agents',
    node: 'node-b',
    containers: [
      {
        name: 'main',
        image: 'fathom:1',
        command: ['/bin/sh', '-c', 'echo $(HOME) $HOME'],
        args: ['a$$b'],
        env: { GREETING: 'hi $(USER)', FATHOM_PORT: '1' },
        port: 9000,
      },
      { name: 'plain', image: 'fathom:1', command: ['true'], env: { FATHOM_PORT: 'mine' } },
    ],
  };

  it('binds one never-restarted Pod to the node, labelled for cluster get and its owner', () => {
    const p = workloadPod(spec);
    expect(p.metadata).toEqual({
      name: 'agent-1',
      labels: {
        component: 'fathom',
        'fathom-component': 'workload',
        'fathom.dev/owner': 'check-agents',
      },
    });
    expect(p.spec).toMatchObject({
      nodeName: 'node-b',
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
    });
    expect(isWorkloadPod(p)).toBe(true);
    expect(ownerSelector('check-agents')).toBe(
      'component=fathom,fathom-component=workload,fathom.dev/owner=check-agents',
    );
  });

  it('keeps text literal, and gives a serving container its port and pod IP', () => {
    const [main, plain] = ((p) => (p.spec as { containers: unknown[] }).containers)(
      workloadPod(spec),
    );
    expect(main).toEqual({
      name: 'main',
      image: 'fathom:1',
      command: ['/bin/sh', '-c', 'echo $$(HOME) $$HOME'],
      args: ['a$$$$b'],
      env: [
        { name: 'GREETING', value: 'hi $$(USER)' },
        { name: 'FATHOM_PORT', value: '9000' },
        { name: 'FATHOM_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
      ports: [{ containerPort: 9000, protocol: 'TCP' }],
    });
    // Without a port, FATHOM_PORT is the caller's own variable.
    expect(plain).toEqual({
      name: 'plain',
      image: 'fathom:1',
      command: ['true'],
      env: [{ name: 'FATHOM_PORT', value: 'mine' }],
    });
  });

  it('refuses a container without an image, naming the field', () => {
    const noImage: WorkloadSpec = {
      ...spec,
      containers: [spec.containers[0]!, { name: 'x', command: ['true'] }],
    };
    expect(() => workloadPod(noImage)).toThrow(
      expect.objectContaining({
        code: 'FATHOM_WORKLOAD_INVALID',
        message: 'workload agent-1: containers[1].image: is required on Kubernetes',
      }),
    );
  });
});
