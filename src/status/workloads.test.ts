import { describe, expect, it } from 'vitest';
import { compute } from './compute.js';
import type { KubeObject, Result } from './types.js';
import { cond, cur, ip, obj } from './test-helpers.js';

type Case = [string, KubeObject, Result];

describe('Deployment', () => {
  const dep = (spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject =>
    obj('apps/v1', 'Deployment', { spec, status });
  const full = { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
  const available = [cond('Available', 'True')];
  const cases: Case[] = [
    [
      'ProgressDeadlineExceeded is Failed, whatever its status, before any count',
      dep(
        { replicas: 3 },
        {
          conditions: [
            cond('Progressing', 'False', 'ProgressDeadlineExceeded', 'RS "x" has timed out'),
          ],
        },
      ),
      {
        status: 'Failed',
        message: 'Progress deadline exceeded',
        conditions: [
          {
            type: 'Stalled',
            status: 'True',
            reason: 'ProgressDeadlineExceeded',
            message: 'RS "x" has timed out',
          },
        ],
      },
    ],
    [
      'ProgressDeadlineExceeded with status True too',
      dep(
        {},
        { ...full, conditions: [cond('Progressing', 'True', 'ProgressDeadlineExceeded', 'm')] },
      ),
      {
        status: 'Failed',
        message: 'Progress deadline exceeded',
        conditions: [
          { type: 'Stalled', status: 'True', reason: 'ProgressDeadlineExceeded', message: 'm' },
        ],
      },
    ],
    [
      '1 spec > replicas',
      dep({ replicas: 3 }, { replicas: 1 }),
      ip('LessReplicas', 'Replicas: 1/3'),
    ],
    ['spec.replicas defaults to 1', dep({}, {}), ip('LessReplicas', 'Replicas: 0/1')],
    [
      '2 spec > updated',
      dep({ replicas: 3 }, { replicas: 3, updatedReplicas: 2 }),
      ip('LessUpdated', 'Updated: 2/3'),
    ],
    [
      '3 extra pods',
      dep({ replicas: 3 }, { replicas: 5, updatedReplicas: 3 }),
      ip('ExtraPods', 'Pending termination: 2'),
    ],
    [
      '4 available below updated',
      dep({ replicas: 3 }, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
      ip('LessAvailable', 'Available: 2/3'),
    ],
    [
      '5 spec > ready',
      dep(
        { replicas: 3 },
        { replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 1 },
      ),
      ip('LessReady', 'Ready: 1/3'),
    ],
    [
      '6 a deadline and no NewReplicaSetAvailable: not progressing',
      dep({ replicas: 3, progressDeadlineSeconds: 600 }, { ...full, conditions: available }),
      ip('ReplicaSetNotAvailable', 'ReplicaSet not Available'),
    ],
    [
      '6 Progressing False with NewReplicaSetAvailable does not count',
      dep(
        { replicas: 3, progressDeadlineSeconds: 600 },
        {
          ...full,
          conditions: [cond('Progressing', 'False', 'NewReplicaSetAvailable'), ...available],
        },
      ),
      ip('ReplicaSetNotAvailable', 'ReplicaSet not Available'),
    ],
    [
      '7 not available',
      dep({ replicas: 3 }, { ...full, conditions: [cond('Available', 'False')] }),
      ip('DeploymentNotAvailable', 'Deployment not Available'),
    ],
    [
      '8 current without a deadline',
      dep({ replicas: 3 }, { ...full, conditions: available }),
      cur('Deployment is available. Replicas: 3'),
    ],
    [
      '8 current with a deadline and NewReplicaSetAvailable',
      dep(
        { replicas: 3, progressDeadlineSeconds: 600 },
        {
          ...full,
          conditions: [cond('Progressing', 'True', 'NewReplicaSetAvailable'), ...available],
        },
      ),
      cur('Deployment is available. Replicas: 3'),
    ],
    [
      'a deadline of MaxInt32 counts as unset',
      dep({ replicas: 3, progressDeadlineSeconds: 2147483647 }, { ...full, conditions: available }),
      cur('Deployment is available. Replicas: 3'),
    ],
    [
      'replicas 0 with zero counts depends on the conditions',
      dep({ replicas: 0 }, {}),
      ip('DeploymentNotAvailable', 'Deployment not Available'),
    ],
    [
      'non-integer counts use their defaults',
      dep({ replicas: '3' }, { replicas: 1.5, updatedReplicas: true, conditions: available }),
      ip('LessReplicas', 'Replicas: 0/1'),
    ],
    [
      'spec.paused is ignored',
      dep(
        { replicas: 1, paused: true },
        {
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          conditions: available,
        },
      ),
      cur('Deployment is available. Replicas: 1'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));

  it('Available uses updated as the denominator, not spec', () => {
    // spec 2, updated 3 is impossible in practice but shows which count is divided by.
    const o = dep({ replicas: 2 }, { replicas: 2, updatedReplicas: 3, availableReplicas: 1 });
    expect(compute(o)).toEqual(ip('LessAvailable', 'Available: 1/3'));
  });
});

describe('ReplicaSet', () => {
  const rs = (spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject =>
    obj('apps/v1', 'ReplicaSet', { spec, status });
  const full = { replicas: 2, fullyLabeledReplicas: 2, availableReplicas: 2, readyReplicas: 2 };
  const cases: Case[] = [
    [
      '0 ReplicaFailure True is InProgress, not Failed',
      rs(
        { replicas: 2 },
        { ...full, conditions: [cond('ReplicaFailure', 'True', 'FailedCreate', 'quota')] },
      ),
      ip('ReplicaFailure', 'Replica Failure condition. Check Pods'),
    ],
    [
      'ReplicaFailure False is ignored',
      rs({ replicas: 2 }, { ...full, conditions: [cond('ReplicaFailure', 'False')] }),
      cur('ReplicaSet is available. Replicas: 2'),
    ],
    [
      '1 labelled',
      rs({ replicas: 2 }, { fullyLabeledReplicas: 1 }),
      ip('LessLabelled', 'Labelled: 1/2'),
    ],
    [
      '2 available',
      rs({ replicas: 2 }, { fullyLabeledReplicas: 2, availableReplicas: 1 }),
      ip('LessAvailable', 'Available: 1/2'),
    ],
    [
      '3 ready',
      rs({ replicas: 2 }, { fullyLabeledReplicas: 2, availableReplicas: 2, readyReplicas: 0 }),
      ip('LessReady', 'Ready: 0/2'),
    ],
    [
      '4 extra pods',
      rs({ replicas: 2 }, { ...full, replicas: 4 }),
      ip('ExtraPods', 'Pending termination: 2'),
    ],
    ['5 current', rs({ replicas: 2 }, full), cur('ReplicaSet is available. Replicas: 2')],
    [
      'the extra-pod count is int64 arithmetic, wrapping as in Go',
      rs({ replicas: -1 }, { ...full, replicas: 9223372036854775807n }),
      ip('ExtraPods', 'Pending termination: -9223372036854775808'),
    ],
    [
      'a count beyond int64 is a float64 to Go: the default',
      rs({ replicas: 2 }, { ...full, availableReplicas: 1e21 }),
      ip('LessAvailable', 'Available: 0/2'),
    ],
    [
      'extensions group too',
      obj('extensions/v1beta1', 'ReplicaSet', { spec: {}, status: {} }),
      ip('LessLabelled', 'Labelled: 0/1'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('StatefulSet', () => {
  const sts = (spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject =>
    obj('apps/v1', 'StatefulSet', { spec, status });
  const full = {
    replicas: 3,
    readyReplicas: 3,
    currentReplicas: 3,
    updatedReplicas: 3,
    currentRevision: 'r1',
    updateRevision: 'r1',
  };
  const cases: Case[] = [
    [
      '0 OnDelete is Current at once',
      sts({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, {}),
      cur('StatefulSet is using the ondelete update strategy'),
    ],
    ['1 replicas', sts({ replicas: 3 }, { replicas: 2 }), ip('LessReplicas', 'Replicas: 2/3')],
    [
      '2 ready',
      sts({ replicas: 3 }, { replicas: 3, readyReplicas: 2 }),
      ip('LessReady', 'Ready: 2/3'),
    ],
    [
      '3 extra pods',
      sts({ replicas: 3 }, { ...full, replicas: 4 }),
      ip('ExtraPods', 'Pending termination: 1'),
    ],
    [
      '4 partition rollout (lowercase updated)',
      sts(
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: 1 } } },
        { ...full, updatedReplicas: 1 },
      ),
      ip('PartitionRollout', 'updated: 1/2'),
    ],
    [
      '4 partition complete, revision not checked',
      sts(
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: 1 } } },
        { ...full, updatedReplicas: 2, currentReplicas: 0, updateRevision: 'r2' },
      ),
      cur('Partition rollout complete. updated: 2'),
    ],
    [
      '4 an explicit partition 0 takes the partition branch',
      sts(
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: 0 } } },
        { ...full, currentReplicas: 0, updatedReplicas: 3 },
      ),
      cur('Partition rollout complete. updated: 3'),
    ],
    [
      // kstatus tests `partition != -1`: any other negative value asks for more than spec.
      '4 a partition below -1 takes the partition branch too',
      sts(
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: -2 } } },
        { ...full, currentReplicas: 3, updatedReplicas: 3 },
      ),
      ip('PartitionRollout', 'updated: 3/5'),
    ],
    [
      '4 spec - partition wraps around as Go int64 arithmetic does',
      sts(
        { replicas: 3, updateStrategy: { rollingUpdate: { partition: -9223372036854775808n } } },
        { ...full, updatedReplicas: 0 },
      ),
      cur('Partition rollout complete. updated: 0'),
    ],
    [
      '5 current (lowercase)',
      sts({ replicas: 3 }, { ...full, currentReplicas: 1 }),
      ip('LessCurrent', 'current: 1/3'),
    ],
    [
      '6 revision mismatch',
      sts({ replicas: 3 }, { ...full, updateRevision: 'r2' }),
      ip('RevisionMismatch', 'Waiting for updated revision to match current'),
    ],
    [
      '6 a missing revision counts as ""',
      sts({ replicas: 3 }, { ...full, currentRevision: undefined }),
      ip('RevisionMismatch', 'Waiting for updated revision to match current'),
    ],
    [
      '7 current',
      sts({ replicas: 3 }, full),
      cur('All replicas scheduled as expected. Replicas: 3'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));

  it('OnDelete short-circuits only the rule: the generic steps still run', () => {
    const o = obj('apps/v1', 'StatefulSet', {
      metadata: { generation: 2 },
      spec: { updateStrategy: { type: 'OnDelete' } },
      status: { observedGeneration: 1 },
    });
    expect(compute(o).status).toBe('InProgress');
  });
});

describe('DaemonSet', () => {
  const ds = (
    status: Record<string, unknown> | undefined,
    generation: number | 'none' = 1,
    group = 'apps',
  ): KubeObject =>
    obj(`${group}/v1`, 'DaemonSet', {
      metadata: generation === 'none' ? {} : { generation },
      status,
    });
  const full = {
    observedGeneration: 1,
    desiredNumberScheduled: 4,
    currentNumberScheduled: 4,
    updatedNumberScheduled: 4,
    numberAvailable: 4,
    numberReady: 4,
  };
  const cases: Case[] = [
    [
      '0a no generation (cli-utils#548)',
      ds(full, 'none'),
      ip('NoGeneration', 'DaemonSet metadata.generation not found'),
    ],
    [
      '0b no observedGeneration',
      ds({ ...full, observedGeneration: undefined }),
      ip('NoObservedGeneration', 'DaemonSet status.observedGeneration not found'),
    ],
    [
      '0b a fresh DaemonSet with all counts at 0',
      ds({ currentNumberScheduled: 0, numberReady: 0, desiredNumberScheduled: 0 }),
      ip('NoObservedGeneration', 'DaemonSet status.observedGeneration not found'),
    ],
    [
      '1 no desiredNumberScheduled',
      ds({ observedGeneration: 1 }),
      ip('NoDesiredNumber', 'Missing .status.desiredNumberScheduled'),
    ],
    ['2 current', ds({ ...full, currentNumberScheduled: 3 }), ip('LessCurrent', 'Current: 3/4')],
    ['3 updated', ds({ ...full, updatedNumberScheduled: 2 }), ip('LessUpdated', 'Updated: 2/4')],
    ['4 available', ds({ ...full, numberAvailable: 1 }), ip('LessAvailable', 'Available: 1/4')],
    ['5 ready', ds({ ...full, numberReady: 0 }), ip('LessReady', 'Ready: 0/4')],
    ['6 current', ds(full), cur('All replicas scheduled as expected. Replicas: 4')],
    [
      'extensions group too',
      ds(full, 1, 'extensions'),
      cur('All replicas scheduled as expected. Replicas: 4'),
    ],
    [
      'desired 0 is current',
      ds({ observedGeneration: 1, desiredNumberScheduled: 0 }),
      cur('All replicas scheduled as expected. Replicas: 0'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});
