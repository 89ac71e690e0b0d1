/**
 * Per-kind shapes for the differential generator: one builder per rule of the reference, each
 * biased towards counts that agree (so the deep branches, Current included, are reached) and
 * sometimes off by one, missing or of the wrong type. Workloads here, the rest in
 * kstatus-kinds-core.ts.
 */
import type { Gen } from './kstatus-gen.js';
import {
  base,
  put,
  someConditions,
  target,
  type Built,
  type KindBuilder,
  type Obj,
} from './kstatus-build.js';
import {
  alwaysReady,
  crd,
  generic,
  job,
  pdb,
  pod,
  pvc,
  service,
  unschedulablePod,
} from './kstatus-kinds-core.js';

function deployment(g: Gen, name: string): Built {
  const o = base(
    g.pick(['apps/v1', 'apps/v1', 'apps/v1beta2', 'extensions/v1beta1']),
    'Deployment',
    name,
  );
  const t = target(g);
  const spec: Obj = { selector: { matchLabels: { app: name } } };
  put(spec, 'replicas', t.spec);
  put(
    spec,
    'progressDeadlineSeconds',
    g.pick([undefined, 600, 2147483647, 2147483647, 0, '600', 1.5]),
  );
  if (g.chance(0.1)) spec.paused = true;
  o.spec = spec;
  if (g.chance(0.05)) return { object: o, tags: ['noStatus'] };
  const status: Obj = {};
  for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas']) {
    put(status, k, g.count(t.base));
  }
  const progressingReason = g.chance(0.1)
    ? 'ProgressDeadlineExceeded'
    : g.pick([
        'NewReplicaSetAvailable',
        'NewReplicaSetAvailable',
        'ReplicaSetUpdated',
        'FoundNewReplicaSet',
      ]);
  status.conditions = someConditions(g, [
    g.chance(0.75) ? g.condition('Progressing', g.conditionStatus(), progressingReason) : undefined,
    g.chance(0.75) ? g.condition('Available', g.pick(['True', 'True', 'False'])) : undefined,
    g.chance(0.1) ? g.condition('ReplicaFailure', 'True') : undefined,
  ]);
  o.status = status;
  return { object: o };
}

function replicaSet(g: Gen, name: string): Built {
  const o = base(g.pick(['apps/v1', 'apps/v1', 'extensions/v1beta1']), 'ReplicaSet', name);
  const t = target(g);
  const spec: Obj = { selector: { matchLabels: { app: name } } };
  put(spec, 'replicas', t.spec);
  o.spec = spec;
  const status: Obj = {};
  for (const k of ['replicas', 'fullyLabeledReplicas', 'availableReplicas', 'readyReplicas']) {
    put(status, k, g.count(t.base));
  }
  if (g.chance(0.15)) {
    status.conditions = [g.condition('ReplicaFailure', g.conditionStatus(), 'FailedCreate')];
  }
  o.status = status;
  return { object: o };
}

function statefulSet(g: Gen, name: string): Built {
  const o = base(g.pick(['apps/v1', 'apps/v1', 'apps/v1beta1']), 'StatefulSet', name);
  const t = target(g);
  const spec: Obj = {};
  put(spec, 'replicas', t.spec);
  // Below -1 too: kstatus tests `partition != -1`, so -2 or int64's minimum take that branch.
  const partition = g.pick<unknown>([
    0,
    1,
    2,
    -1,
    -2,
    -9223372036854775808n,
    t.base,
    1.5,
    '1',
    null,
  ]);
  const below = typeof partition === 'bigint' || (typeof partition === 'number' && partition < -1);
  put(
    spec,
    'updateStrategy',
    g.pick<unknown>([
      undefined,
      { type: 'OnDelete' },
      { type: 'RollingUpdate' },
      { type: 'RollingUpdate', rollingUpdate: { partition } },
      { type: 'RollingUpdate', rollingUpdate: { partition } },
      { rollingUpdate: { partition } },
      { type: 'ondelete' },
      'OnDelete',
    ]),
  );
  o.spec = spec;
  const status: Obj = {};
  for (const k of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas']) {
    put(status, k, g.count(t.base));
  }
  const rev = g.pick<[unknown, unknown]>([
    ['web-1', 'web-1'],
    ['web-1', 'web-1'],
    ['web-1', 'web-2'],
    [undefined, 'web-2'],
    ['web-1', undefined],
    [undefined, undefined],
    [5, 5],
    ['', null],
  ]);
  put(status, 'currentRevision', rev[0]);
  put(status, 'updateRevision', rev[1]);
  o.status = status;
  const strategy = spec.updateStrategy as { rollingUpdate?: unknown } | undefined;
  return { object: o, tags: below && strategy?.rollingUpdate ? ['partitionBelowMinusOne'] : [] };
}

function daemonSet(g: Gen, name: string): Built {
  const o = base(g.pick(['apps/v1', 'apps/v1', 'extensions/v1beta1']), 'DaemonSet', name);
  const meta = o.metadata as Obj;
  const status: Obj = {};
  if (g.chance(0.85)) meta.generation = 3;
  if (g.chance(0.85)) status.observedGeneration = 3;
  const desired = g.chance(0.1) ? g.pick<unknown>([undefined, -1, '3', 1.5]) : g.int(0, 5);
  put(status, 'desiredNumberScheduled', desired);
  const b = typeof desired === 'number' && desired >= 0 ? desired : 1;
  for (const k of [
    'currentNumberScheduled',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberReady',
  ]) {
    put(status, k, g.count(b));
  }
  o.status = status;
  return { object: o };
}

export const kindBuilders: readonly KindBuilder[] = [
  { name: 'Deployment', weight: 12, build: deployment },
  { name: 'ReplicaSet', weight: 8, build: replicaSet },
  { name: 'StatefulSet', weight: 10, build: statefulSet },
  { name: 'DaemonSet', weight: 8, build: daemonSet },
  { name: 'Pod', weight: 14, build: pod },
  { name: 'UnschedulablePod', weight: 4, build: unschedulablePod },
  { name: 'Job', weight: 10, build: job },
  { name: 'AlwaysReady', weight: 4, build: alwaysReady },
  { name: 'Service', weight: 5, build: service },
  { name: 'PersistentVolumeClaim', weight: 4, build: pvc },
  { name: 'PodDisruptionBudget', weight: 3, build: pdb },
  { name: 'CustomResourceDefinition', weight: 5, build: crd },
  { name: 'Generic', weight: 12, build: generic },
];
