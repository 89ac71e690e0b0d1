/**
 * Builders for Pods (the 15 s scheduling window, crash loops, malformed container statuses) and
 * the smaller rules: Job, CronJob/ConfigMap/Secret, Service, PVC, PDB, CRD, and kinds without a
 * rule of their own.
 */
import type { ContainerStatusFault, Gen } from './kstatus-gen.js';
import { base, put, someConditions, type Built, type Obj } from './kstatus-build.js';

/** Far from any "now" the tests run at, so the Pod scheduling window cannot flip. */
const PAST_TIMES = [
  '2020-01-01T00:00:00Z',
  '2001-09-09T01:46:40.123Z',
  '2020-06-01T12:00:00+02:00',
  '1970-01-01T00:00:00Z',
  '0001-01-01T00:00:00Z',
];
const FUTURE_TIMES = [
  '2099-01-01T00:00:00Z',
  '2199-12-31T23:59:59.999999999Z',
  '2099-06-01T12:00:00-07:00',
  '9999-12-31T23:59:59Z',
];
/** Not RFC 3339 (or not a string): Go reads time zero, so an unschedulable Pod is Failed. */
const BAD_TIMES: readonly unknown[] = [
  '',
  'yesterday',
  'null',
  '2099-13-01T00:00:00Z',
  '2099-02-30T00:00:00Z',
  '2099-01-01 00:00:00Z',
  '2099-01-01t00:00:00z',
  '2099-01-01T00:00:00',
  '2099-01-01T24:00:00Z',
  '2099-01-01T00:00:60Z',
  '2099-01-01T00:00:00+24:00',
  '+002099-01-01T00:00:00Z',
  '2099-1-1T00:00:00Z',
  12345,
  null,
  true,
];

/**
 * A timestamp built from parts that are each sometimes out of range or oddly written (leap days,
 * hour 24, a comma before the fraction, zone +24:00...). Every year is far from now, so whether
 * Go parses it is the only thing that decides the Pod's verdict.
 */
function oddTimestamp(g: Gen): string {
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  const year = pad(g.pick([0, 1, 1969, 2000, 2020, 2096, 2099, 2100, 2400, 9999]), 4);
  const month = pad(g.pick([1, 2, 2, 2, 4, 12, 0, 13]), 2);
  const day = pad(g.pick([1, 28, 29, 29, 30, 31, 0, 32]), 2);
  const hour = g.pick(['00', '09', '9', '23', '24', '1']);
  const min = g.pick(['00', '59', '60']);
  const sec = g.pick(['00', '59', '60']);
  const frac = g.pick(['', '', '.5', '.123456789', '.1234567891234', ',5', '.']);
  const zone = g.pick([
    'Z',
    'Z',
    '+00:00',
    '-07:00',
    '+23:59',
    '+24:00',
    '+24:60',
    '+25:00',
    '-24:00',
    '+05:61',
    'z',
    '+0500',
    '',
  ]);
  const sep = g.pick(['T', 'T', 'T', 't', ' ']);
  return `${year}-${month}-${day}${sep}${hour}:${min}:${sec}${frac}${zone}`;
}

/** containerStatuses: crash loops among other states; sometimes entries of the wrong shape. */
function containerStatuses(g: Gen): { value: unknown; fault?: ContainerStatusFault } {
  if (g.chance(0.04)) return { value: g.pick(['x', {}, 5, null]) };
  const list: unknown[] = [];
  for (let i = g.int(0, 3); i > 0; i--) {
    const cs: Obj = {};
    put(cs, 'name', g.pick([undefined, 'app', 'sidecar', 'a,b', '', 'init-db']));
    put(
      cs,
      'state',
      g.pick<unknown>([
        undefined,
        {},
        { running: { startedAt: '2020-01-01T00:00:00Z' } },
        { terminated: { exitCode: 1 } },
        { waiting: {} },
        { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
        { waiting: { reason: 'CrashLoopBackOff' } },
        { waiting: { reason: 'ImagePullBackOff' } },
        { waiting: { reason: 'crashloopbackoff' } },
      ]),
    );
    list.push(cs);
  }
  if (!g.chance(0.08)) return { value: list };
  // The Go rule type-asserts these without checking: it panics. Each with the field that is wrong.
  const [bad, path] = g.pick<[unknown, string]>([
    [5, ''],
    ['x', ''],
    [null, ''],
    [{ name: 5, state: {} }, '.name'],
    [{ name: null }, '.name'],
    [{ name: 'm', state: 'x' }, '.state'],
    [{ name: 'm', state: null }, '.state'],
    [{ name: 'm', state: { waiting: 'x' } }, '.state.waiting'],
    [{ name: 'm', state: { waiting: null } }, '.state.waiting'],
    [{ name: 'm', state: { waiting: { reason: 5 } } }, '.state.waiting.reason'],
    [{ name: 'm', state: { waiting: { reason: null } } }, '.state.waiting.reason'],
  ]);
  const index = g.int(0, list.length);
  list.splice(index, 0, bad);
  return { value: list, fault: { index, path } };
}

export function pod(g: Gen, name: string): Built {
  const o = base(g.pick(['v1', 'v1', '/v1']), 'Pod', name);
  const meta = o.metadata as Obj;
  const r = g.random();
  const created =
    r < 0.3
      ? g.pick(PAST_TIMES)
      : r < 0.6
        ? g.pick(FUTURE_TIMES)
        : r < 0.7
          ? undefined
          : r < 0.8
            ? g.pick(BAD_TIMES)
            : oddTimestamp(g);
  put(meta, 'creationTimestamp', created);
  if (g.chance(0.05)) return { object: o, tags: ['noStatus'] };
  const status: Obj = {};
  put(
    status,
    'phase',
    g.pick<unknown>([
      'Running',
      'Running',
      'Running',
      'Pending',
      'Pending',
      'Succeeded',
      'Failed',
      '',
      undefined,
      'Unknown',
      'running',
      5,
    ]),
  );
  status.conditions = someConditions(g, [
    g.chance(0.6) ? g.condition('Ready', g.conditionStatus(), 'ContainersNotReady') : undefined,
    g.chance(0.5)
      ? g.condition(
          'PodScheduled',
          g.pick(['False', 'False', 'True']),
          g.pick(['Unschedulable', 'Unschedulable', 'SchedulerError', '']),
        )
      : undefined,
    g.chance(0.3) ? g.condition('Initialized', 'True') : undefined,
  ]);
  const cs = containerStatuses(g);
  if (g.chance(0.8)) status.containerStatuses = cs.value;
  o.status = status;
  const malformed = cs.fault && status.containerStatuses === cs.value;
  return {
    object: o,
    ...(malformed
      ? {
          tags: ['malformedContainerStatus'],
          deliberate: 'go-panics-on-malformed-container-status' as const,
          containerStatusFault: cs.fault,
        }
      : {}),
  };
}

/** A Pod waiting on the scheduler: only its creationTimestamp decides (the 15 s window). */
export function unschedulablePod(g: Gen, name: string): Built {
  const o = base('v1', 'Pod', name);
  const created = g.chance(0.7)
    ? oddTimestamp(g)
    : g.pick([...PAST_TIMES, ...FUTURE_TIMES, ...BAD_TIMES]);
  (o.metadata as Obj).creationTimestamp = created;
  o.status = {
    phase: 'Pending',
    conditions: [g.condition('PodScheduled', 'False', 'Unschedulable')],
  };
  return { object: o };
}

export function job(g: Gen, name: string): Built {
  const o = base(g.pick(['batch/v1', 'batch/v1', 'batch/v1beta1']), 'Job', name);
  const spec: Obj = {};
  const p = g.chance(0.8) ? g.int(1, 3) : g.weirdNumber();
  put(spec, 'parallelism', g.chance(0.7) ? p : undefined);
  put(spec, 'completions', g.pick<unknown>([undefined, 1, 3, p, g.weirdNumber()]));
  put(spec, 'suspend', g.pick<unknown>([undefined, undefined, true, true, false, 'true', 1]));
  o.spec = spec;
  const status: Obj = {};
  for (const k of ['succeeded', 'active', 'failed']) put(status, k, g.count(g.int(0, 3)));
  put(
    status,
    'startTime',
    g.pick<unknown>(['2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', '', undefined, 5, null]),
  );
  status.conditions = someConditions(g, [
    g.chance(0.3) ? g.condition('Complete', g.conditionStatus()) : undefined,
    g.chance(0.25) ? g.condition('Failed', g.conditionStatus(), 'BackoffLimitExceeded') : undefined,
    g.chance(0.3) ? g.condition('Suspended', g.conditionStatus(), 'JobSuspended') : undefined,
    g.chance(0.15) ? g.condition('FailureTarget', 'True') : undefined,
    g.chance(0.15) ? g.condition('SuccessCriteriaMet', 'True') : undefined,
  ]);
  o.status = status;
  return { object: o };
}

export function alwaysReady(g: Gen, name: string): Built {
  const [apiVersion, kind] = g.pick([
    ['batch/v1', 'CronJob'],
    ['batch/v1beta1', 'CronJob'],
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
  ] as const);
  const o = base(apiVersion, kind, name);
  if (kind === 'CronJob') {
    o.spec = { schedule: '*/5 * * * *', suspend: g.chance(0.2) };
    if (g.chance(0.5)) o.status = { lastScheduleTime: '2020-01-01T00:00:00Z' };
  } else {
    o.data = { key: 'value' };
  }
  return { object: o, tags: [kind] };
}

export function service(g: Gen, name: string): Built {
  const o = base('v1', 'Service', name);
  const spec: Obj = {};
  put(
    spec,
    'type',
    g.pick<unknown>([
      'ClusterIP',
      'LoadBalancer',
      'LoadBalancer',
      'NodePort',
      'ExternalName',
      undefined,
      'loadbalancer',
      5,
    ]),
  );
  put(spec, 'clusterIP', g.pick<unknown>(['10.0.0.1', 'None', '', undefined, undefined, 5, null]));
  o.spec = spec;
  if (g.chance(0.3)) o.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  return { object: o };
}

export function pvc(g: Gen, name: string): Built {
  const o = base('v1', 'PersistentVolumeClaim', name);
  o.spec = { accessModes: ['ReadWriteOnce'] };
  const phase = g.pick<unknown>(['Bound', 'Bound', 'Pending', 'Lost', undefined, '', 'bound', 5]);
  if (g.chance(0.9)) o.status = phase === undefined ? {} : { phase };
  return { object: o };
}

export function pdb(g: Gen, name: string): Built {
  const o = base(g.pick(['policy/v1', 'policy/v1beta1']), 'PodDisruptionBudget', name);
  (o.metadata as Obj).generation = 2;
  o.spec = { minAvailable: 1 };
  o.status = { observedGeneration: g.pick([1, 2, 2, 3]), disruptionsAllowed: g.int(0, 2) };
  return { object: o };
}

export function crd(g: Gen, name: string): Built {
  const o = base(
    g.pick(['apiextensions.k8s.io/v1', 'apiextensions.k8s.io/v1beta1']),
    'CustomResourceDefinition',
    name,
    false,
  );
  o.status = {
    conditions: someConditions(g, [
      g.chance(0.6)
        ? g.condition(
            'NamesAccepted',
            g.pick(['True', 'True', 'False', 'Unknown']),
            g.pick(['NoConflicts', 'NameConflict']),
          )
        : undefined,
      g.chance(0.7)
        ? g.condition(
            'Established',
            g.pick(['True', 'True', 'False', 'Unknown']),
            g.pick(['InitialNamesAccepted', 'Installing', 'NotEstablished', '']),
          )
        : undefined,
      g.chance(0.2) ? g.condition('NonStructuralSchema', 'True') : undefined,
    ]),
  };
  return { object: o };
}

/** Kinds with no rule of their own: custom resources, and built-in kinds kstatus leaves generic. */
export function generic(g: Gen, name: string): Built {
  const [apiVersion, kind] = g.pick([
    ['example.com/v1', 'Widget'],
    ['example.com/v1', 'Widget'],
    ['cluster.x-k8s.io/v1beta1', 'Cluster'],
    ['cert-manager.io/v1', 'Certificate'],
    ['networking.k8s.io/v1', 'Ingress'],
    ['autoscaling/v2', 'HorizontalPodAutoscaler'],
    ['v1', 'Namespace'],
    ['v1', 'Node'],
    ['v1', 'Deployment'], // the core group has no Deployment rule
    ['apps/v1', 'Pod'],
    ['apps/v1', 'ControllerRevision'],
    ['extensions/v1beta1', 'StatefulSet'],
    ['batch/v1', 'Service'],
  ] as const);
  const o = base(apiVersion, kind, name, kind !== 'Namespace' && kind !== 'Node');
  const r = g.random();
  if (r < 0.15) return { object: o, tags: [kind, 'noStatus'] };
  if (r < 0.25) {
    o.status = {};
    return { object: o, tags: [kind, 'emptyStatus'] };
  }
  const list: Obj[] = [];
  for (let i = g.int(0, 3); i > 0; i--) {
    const type = g.pick(['Ready', 'Ready', 'Ready', 'Available', 'Synced', 'Progressing']);
    list.push(
      g.condition(
        type,
        type === 'Ready'
          ? g.pick(['True', 'False', 'Unknown', 'Weird', 'true', ''])
          : g.conditionStatus(),
      ),
    );
  }
  o.status = { conditions: list };
  if (kind === 'Namespace') (o.status as Obj).phase = 'Active';
  return { object: o, tags: [kind] };
}
