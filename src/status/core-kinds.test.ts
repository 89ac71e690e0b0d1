import { describe, expect, it } from 'vitest';
import { compute } from './compute.js';
import { parseTimestamp, SCHEDULE_WINDOW_MS } from './core-kinds.js';
import type { KubeObject, Result } from './types.js';
import { cond, cur, failedResult, ip, obj, unknownResult } from './test-helpers.js';

type Case = [string, KubeObject, Result];

describe('Pod', () => {
  const pod = (status: Record<string, unknown> | undefined, metadata = {}): KubeObject =>
    obj('v1', 'Pod', { metadata, status });
  const waiting = (name: string, reason: string): Record<string, unknown> => ({
    name,
    state: { waiting: { reason } },
  });
  const cases: Case[] = [
    ['Succeeded', pod({ phase: 'Succeeded' }), cur('Pod has completed successfully')],
    [
      'Failed is Current (cli-utils#329)',
      pod({ phase: 'Failed' }),
      cur('Pod has completed, but not successfully'),
    ],
    [
      'Running and Ready',
      pod({ phase: 'Running', conditions: [cond('Ready', 'True')] }),
      cur('Pod is Ready'),
    ],
    [
      'Running, crash looping: names joined by a comma, in list order',
      pod({
        phase: 'Running',
        conditions: [cond('Ready', 'False')],
        containerStatuses: [
          waiting('web', 'CrashLoopBackOff'),
          waiting('ok', 'ContainerCreating'),
          { name: 'idle', state: { running: {} } },
          { name: 'nostate' },
          { state: { waiting: { reason: 'CrashLoopBackOff' } } },
          waiting('sidecar', 'CrashLoopBackOff'),
        ],
      }),
      failedResult('ContainerCrashLooping', 'Containers in CrashLoop state: web,sidecar'),
    ],
    [
      'Running, not ready, no crash loop',
      pod({ phase: 'Running', containerStatuses: [waiting('web', 'ImagePullBackOff')] }),
      ip('PodRunningNotReady', 'Pod is running but is not Ready'),
    ],
    [
      'Running, containerStatuses not a list is an error',
      pod({ phase: 'Running', containerStatuses: 'x' }),
      unknownResult(
        '.status.containerStatuses accessor error: x is of the type string, expected []interface{}',
      ),
    ],
    [
      'Running, a malformed containerStatus is an error (kstatus would panic)',
      pod({ phase: 'Running', containerStatuses: [{ name: 'a', state: 'waiting' }] }),
      unknownResult(
        'status.containerStatuses: [0].state is of the type string, not the expected type',
      ),
    ],
    ['Pending', pod({ phase: 'Pending' }), ip('PodPending', 'Pod is in the Pending phase')],
    [
      'Pending, PodScheduled False for another reason',
      pod({ phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'SchedulerError')] }),
      ip('PodPending', 'Pod is in the Pending phase'),
    ],
    [
      'Pending, unschedulable with no creationTimestamp: time zero, so Failed',
      pod({ phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable')] }),
      failedResult('PodUnschedulable', 'Pod could not be scheduled'),
    ],
    ['no phase', pod({}), ip('PodNotObserved', 'Pod phase not available')],
    ['no status', pod(undefined), ip('PodNotObserved', 'Pod phase not available')],
    [
      'a phase that is not a string counts as none',
      pod({ phase: 3 }),
      ip('PodNotObserved', 'Pod phase not available'),
    ],
    [
      'an unknown phase is an error',
      pod({ phase: 'Unknown' }),
      unknownResult('unknown phase Unknown'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));

  describe('the 15 s scheduling window', () => {
    const created = Date.UTC(2026, 0, 1, 12, 0, 0);
    const unschedulable = pod(
      {
        phase: 'Pending',
        conditions: [cond('PodScheduled', 'False', 'Unschedulable', '0/3 nodes')],
      },
      { creationTimestamp: '2026-01-01T12:00:00Z' },
    );
    const at = (ms: number): Result => compute(unschedulable, { now: () => ms });
    it('within the window: not scheduled yet', () => {
      expect(at(created)).toEqual(ip('PodNotScheduled', 'Pod has not been scheduled'));
      expect(at(created + SCHEDULE_WINDOW_MS - 1)).toEqual(
        ip('PodNotScheduled', 'Pod has not been scheduled'),
      );
    });
    it('at 15 s and after: could not be scheduled', () => {
      expect(at(created + SCHEDULE_WINDOW_MS)).toEqual(
        failedResult('PodUnschedulable', 'Pod could not be scheduled'),
      );
      expect(at(created + 60_000).status).toBe('Failed');
    });
    it('an unparsable creationTimestamp is time zero', () => {
      const o = pod(
        { phase: 'Pending', conditions: [cond('PodScheduled', 'False', 'Unschedulable')] },
        { creationTimestamp: 'yesterday' },
      );
      expect(compute(o, { now: () => 0 }).status).toBe('InProgress');
      expect(compute(o, { now: () => created }).status).toBe('Failed');
    });
    it('reads RFC 3339 as Go does', () => {
      expect(parseTimestamp('2026-01-01T12:00:00Z')).toBe(created);
      expect(parseTimestamp('2026-01-01T13:00:00.5+01:00')).toBe(created + 500);
      expect(parseTimestamp('2026-01-01 12:00:00Z')).toBeUndefined();
      expect(parseTimestamp('2026-01-01t12:00:00z')).toBeUndefined();
      expect(parseTimestamp(12)).toBeUndefined();
    });
    it("follows Go's layout parser, not Date.parse: its laxness and its range checks", () => {
      // Go accepts a one-digit hour, a comma before the fraction and a zone offset of 24 hours.
      expect(parseTimestamp('2026-01-01T9:00:00Z')).toBe(created - 3 * 3600_000);
      expect(parseTimestamp('2026-01-01T12:00:00,25Z')).toBe(created + 250);
      expect(parseTimestamp('2026-01-02T12:00:00+24:00')).toBe(created);
      // Go refuses what Date.parse would roll over or accept.
      expect(parseTimestamp('2026-02-29T00:00:00Z')).toBeUndefined();
      expect(parseTimestamp('2026-01-01T24:00:00Z')).toBeUndefined();
      expect(parseTimestamp('2026-01-01T12:00:60Z')).toBeUndefined();
      expect(parseTimestamp('2026-01-01T12:00:00+25:00')).toBeUndefined();
      expect(parseTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
      expect(parseTimestamp('0001-01-01T00:00:00Z')).toBe(-62135596800000);
    });
  });

  it('a Pod with observedGeneration set gets the generation check like any kind', () => {
    const o = pod({ phase: 'Running', observedGeneration: 1 }, { generation: 2 });
    expect(compute(o)).toEqual(
      ip('LatestGenerationNotObserved', 'Pod generation is 2, but latest observed generation is 1'),
    );
  });
});

describe('PersistentVolumeClaim', () => {
  const pvc = (status?: Record<string, unknown>): KubeObject =>
    obj('v1', 'PersistentVolumeClaim', { status });
  const cases: Case[] = [
    ['Bound', pvc({ phase: 'Bound' }), cur('PVC is Bound')],
    [
      'Pending (WaitForFirstConsumer stays here)',
      pvc({ phase: 'Pending' }),
      ip('NotBound', 'PVC is not Bound. phase: Pending'),
    ],
    ['no status', pvc(), ip('NotBound', 'PVC is not Bound. phase: unknown')],
    [
      'a phase that is not a string',
      pvc({ phase: 1 }),
      ip('NotBound', 'PVC is not Bound. phase: unknown'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('Service', () => {
  const svc = (spec?: Record<string, unknown>): KubeObject => obj('v1', 'Service', { spec });
  const cases: Case[] = [
    ['ClusterIP by default', svc(), cur('Service is ready')],
    [
      'LoadBalancer without a clusterIP',
      svc({ type: 'LoadBalancer' }),
      ip('NoIPAssigned', 'ClusterIP not set. Service type: LoadBalancer'),
    ],
    [
      'LoadBalancer with an empty clusterIP',
      svc({ type: 'LoadBalancer', clusterIP: '' }),
      ip('NoIPAssigned', 'ClusterIP not set. Service type: LoadBalancer'),
    ],
    [
      'LoadBalancer with a clusterIP, ingress never looked at',
      obj('v1', 'Service', {
        spec: { type: 'LoadBalancer', clusterIP: '10.0.0.1' },
        status: { loadBalancer: {} },
      }),
      cur('Service is ready'),
    ],
    ['NodePort without a clusterIP', svc({ type: 'NodePort' }), cur('Service is ready')],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('Job', () => {
  const job = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject =>
    obj('batch/v1', 'Job', { spec, status });
  const cases: Case[] = [
    [
      'Complete',
      job({ completions: 3 }, { succeeded: 3, conditions: [cond('Complete', 'True')] }),
      cur('Job Completed. succeeded: 3/3'),
    ],
    [
      'completions default to parallelism',
      job({ parallelism: 4 }, { succeeded: 4, conditions: [cond('Complete', 'True')] }),
      cur('Job Completed. succeeded: 4/4'),
    ],
    [
      'Failed',
      job({}, { failed: 6, conditions: [cond('Failed', 'True', 'BackoffLimitExceeded')] }),
      failedResult('JobFailed', 'Job Failed. failed: 6/1'),
    ],
    [
      'the first terminal condition in the list wins',
      job({}, { conditions: [cond('Failed', 'True'), cond('Complete', 'True')] }),
      failedResult('JobFailed', 'Job Failed. failed: 0/1'),
    ],
    [
      'Suspended with spec.suspend true',
      job({ suspend: true }, { conditions: [cond('Suspended', 'True', 'JobSuspended')] }),
      cur('Job is suspended'),
    ],
    [
      'Suspended condition but spec.suspend false: not suspended',
      job({ suspend: false }, { conditions: [cond('Suspended', 'True')] }),
      ip('JobNotStarted', 'Job not started'),
    ],
    [
      'spec.suspend true without the condition yet',
      job({ suspend: true }, {}),
      ip('JobNotStarted', 'Job not started'),
    ],
    [
      'spec.suspend that is not a bool is false',
      job({ suspend: 'true' }, { conditions: [cond('Suspended', 'True')] }),
      ip('JobNotStarted', 'Job not started'),
    ],
    ['not started', job({}, {}), ip('JobNotStarted', 'Job not started')],
    [
      'a running Job is Current (no space after success:)',
      job(
        { completions: 5 },
        { startTime: '2026-01-01T00:00:00Z', succeeded: 2, active: 3, failed: 1 },
      ),
      cur('Job in progress. success:2, active: 3, failed: 1'),
    ],
    [
      'Complete False is not terminal',
      job({}, { startTime: 't', conditions: [cond('Complete', 'False')] }),
      cur('Job in progress. success:0, active: 0, failed: 0'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('always-ready kinds, PDB and CRD', () => {
  const cases: Case[] = [
    [
      'CronJob',
      obj('batch/v1', 'CronJob', { status: { active: [] } }),
      cur('Resource is always ready'),
    ],
    ['ConfigMap', obj('v1', 'ConfigMap', { data: { a: 'b' } }), cur('Resource is always ready')],
    ['Secret', obj('v1', 'Secret'), cur('Resource is always ready')],
    [
      'ConfigMap still gets the generic steps',
      obj('v1', 'ConfigMap', { metadata: { deletionTimestamp: 't' } }),
      { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] },
    ],
    [
      'PodDisruptionBudget (with the trailing period)',
      obj('policy/v1', 'PodDisruptionBudget', { status: { disruptionsAllowed: 0 } }),
      cur('AllowedDisruptions has been computed.'),
    ],
    [
      'PDB not yet observed is InProgress through the generic step',
      obj('policy/v1', 'PodDisruptionBudget', {
        metadata: { generation: 2 },
        status: { observedGeneration: 1 },
      }),
      ip(
        'LatestGenerationNotObserved',
        'PodDisruptionBudget generation is 2, but latest observed generation is 1',
      ),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));

  const crd = (conditions?: unknown[]): KubeObject =>
    obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', {
      status: conditions ? { conditions } : undefined,
    });
  const crdCases: Case[] = [
    [
      'Established',
      crd([cond('NamesAccepted', 'True'), cond('Established', 'True')]),
      cur('CRD is established'),
    ],
    [
      'NamesAccepted False is Failed with its reason and message',
      crd([cond('NamesAccepted', 'False', 'MultipleNamesNotAllowed', 'plural clash')]),
      failedResult('MultipleNamesNotAllowed', 'plural clash'),
    ],
    [
      'Established False (not Installing) is Failed',
      crd([cond('Established', 'False', 'Broken', 'no')]),
      failedResult('Broken', 'no'),
    ],
    [
      'Established False while Installing',
      crd([cond('Established', 'False', 'Installing', 'wait')]),
      ip('Installing', 'Install in progress'),
    ],
    ['no conditions', crd(), ip('Installing', 'Install in progress')],
    [
      'in list order: Established True before a later NamesAccepted False',
      crd([cond('Established', 'True'), cond('NamesAccepted', 'False', 'X', 'y')]),
      cur('CRD is established'),
    ],
  ];
  it.each(crdCases)('CRD: %s', (_name, o, want) => expect(compute(o)).toEqual(want));
});
