import { describe, expect, it } from 'vitest';
import { compute, hasBuiltinRule, isBuiltinGroup } from './compute.js';
import type { KubeObject, Result } from './types.js';
import { cond, cur, failedResult, ip, obj, unknownResult } from './test-helpers.js';

const cr = (parts = {}): KubeObject => obj('example.com/v1', 'Widget', parts);
const deploymentCurrent = (parts: Record<string, unknown> = {}): KubeObject =>
  obj('apps/v1', 'Deployment', {
    spec: { replicas: 1 },
    status: {
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      conditions: [cond('Available', 'True')],
    },
    ...parts,
  });

describe('compute: step 1, Terminating', () => {
  const cases: [string, KubeObject, Result][] = [
    [
      'deletionTimestamp set',
      cr({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
      { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] },
    ],
    [
      'before a generation mismatch and Stalled',
      deploymentCurrent({
        metadata: { deletionTimestamp: 'x', generation: 7 },
        status: { observedGeneration: 6, conditions: [cond('Stalled', 'True', 'R', 'M')] },
      }),
      { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] },
    ],
    [
      'an empty deletionTimestamp is not set',
      cr({ metadata: { deletionTimestamp: '' } }),
      cur('Resource is current'),
    ],
    [
      'a deletionTimestamp that is not a string is an error',
      cr({ metadata: { deletionTimestamp: 5 } }),
      unknownResult(
        'looking up metadata.deletionTimestamp from resource: .metadata.deletionTimestamp accessor error: 5 is of the type int64, expected string',
      ),
    ],
    [
      'a null deletionTimestamp is an error',
      cr({ metadata: { deletionTimestamp: null } }),
      unknownResult(
        'looking up metadata.deletionTimestamp from resource: .metadata.deletionTimestamp accessor error: <nil> is of the type <nil>, expected string',
      ),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('compute: step 2, observedGeneration', () => {
  const msg = 'Deployment generation is 7, but latest observed generation is 6';
  const cases: [string, KubeObject, Result][] = [
    [
      'observed behind generation',
      deploymentCurrent({ metadata: { generation: 7 }, status: { observedGeneration: 6 } }),
      ip('LatestGenerationNotObserved', msg),
    ],
    [
      'observed ahead of generation is InProgress too',
      cr({ metadata: { generation: 2 }, status: { observedGeneration: 3 } }),
      ip(
        'LatestGenerationNotObserved',
        'Widget generation is 2, but latest observed generation is 3',
      ),
    ],
    [
      'before Reconciling/Stalled',
      cr({
        metadata: { generation: 2 },
        status: { observedGeneration: 1, conditions: [cond('Stalled', 'True', 'R', 'M')] },
      }),
      ip(
        'LatestGenerationNotObserved',
        'Widget generation is 2, but latest observed generation is 1',
      ),
    ],
    [
      'bigints from a YAML parser work the same',
      cr({ metadata: { generation: 9007199254740993n }, status: { observedGeneration: 1n } }),
      ip(
        'LatestGenerationNotObserved',
        'Widget generation is 9007199254740993, but latest observed generation is 1',
      ),
    ],
    [
      'equal generations pass',
      cr({ metadata: { generation: 3 }, status: { observedGeneration: 3 } }),
      cur('Resource is current'),
    ],
    [
      'a missing observedGeneration skips the check',
      cr({ metadata: { generation: 3 }, status: {} }),
      cur('Resource is current'),
    ],
    [
      'a missing generation skips the check',
      cr({ status: { observedGeneration: 'x' } }),
      cur('Resource is current'),
    ],
    [
      'a string generation is an error',
      cr({ metadata: { generation: '3' } }),
      unknownResult(
        'looking up metadata.generation from resource: .metadata.generation accessor error: 3 is of the type string, expected int64',
      ),
    ],
    [
      'a float generation is an error',
      cr({ metadata: { generation: 1.5 } }),
      unknownResult(
        'looking up metadata.generation from resource: .metadata.generation accessor error: 1.5 is of the type float64, expected int64',
      ),
    ],
    [
      'an integer beyond int64 is a float64 to Go, so an error (printed as Go prints floats)',
      cr({ metadata: { generation: 1e21 }, status: { observedGeneration: 1 } }),
      unknownResult(
        'looking up metadata.generation from resource: .metadata.generation accessor error: 1e+21 is of the type float64, expected int64',
      ),
    ],
    [
      'just past int64 (2^63) is a float64 too',
      cr({ metadata: { generation: 1 }, status: { observedGeneration: 2 ** 63 } }),
      unknownResult(
        'looking up status.observedGeneration from resource: .status.observedGeneration accessor error: 9.223372036854776e+18 is of the type float64, expected int64',
      ),
    ],
    [
      'a float with a large exponent prints in exponent form',
      cr({ metadata: { generation: 1234567.5 } }),
      unknownResult(
        'looking up metadata.generation from resource: .metadata.generation accessor error: 1.2345675e+06 is of the type float64, expected int64',
      ),
    ],
    [
      'a null generation is an error',
      cr({ metadata: { generation: null } }),
      unknownResult(
        'looking up metadata.generation from resource: .metadata.generation accessor error: <nil> is of the type <nil>, expected int64',
      ),
    ],
    [
      'a string observedGeneration (Argo Rollout, helm#32615) is an error',
      obj('argoproj.io/v1alpha1', 'Rollout', {
        metadata: { generation: 2 },
        status: { observedGeneration: '2' },
      }),
      unknownResult(
        'looking up status.observedGeneration from resource: .status.observedGeneration accessor error: 2 is of the type string, expected int64',
      ),
    ],
    [
      'a status that is not a map, seen through observedGeneration',
      cr({ metadata: { generation: 2 }, status: 'ok' }),
      unknownResult(
        'looking up status.observedGeneration from resource: .status.observedGeneration accessor error: ok is of the type string, expected map[string]interface{}',
      ),
    ],
    [
      'metadata that is not a map',
      { apiVersion: 'v1', kind: 'Pod', metadata: ['a', 1] },
      unknownResult(
        'looking up metadata.deletionTimestamp from resource: .metadata.deletionTimestamp accessor error: [a 1] is of the type []interface {}, expected map[string]interface{}',
      ),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('compute: step 3, Reconciling and Stalled', () => {
  const cases: [string, KubeObject, Result][] = [
    [
      'Reconciling True is InProgress with its own reason and message',
      cr({ status: { conditions: [cond('Reconciling', 'True', 'Progressing', 'working on it')] } }),
      ip('Progressing', 'working on it'),
    ],
    [
      'the message may be empty',
      cr({ status: { conditions: [{ type: 'Reconciling', status: 'True' }] } }),
      ip('', ''),
    ],
    [
      'Stalled True is Failed',
      cr({ status: { conditions: [cond('Stalled', 'True', 'Broken', 'it broke')] } }),
      failedResult('Broken', 'it broke'),
    ],
    [
      'the first True one wins',
      cr({
        status: {
          conditions: [
            cond('Stalled', 'True', 'S', 'stalled'),
            cond('Reconciling', 'True', 'R', 'rec'),
          ],
        },
      }),
      failedResult('S', 'stalled'),
    ],
    [
      'False and Unknown are ignored',
      cr({
        status: {
          conditions: [
            cond('Reconciling', 'False'),
            cond('Stalled', 'Unknown'),
            cond('Ready', 'True'),
          ],
        },
      }),
      cur('Resource is Ready'),
    ],
    [
      'it comes before the per-kind rule',
      deploymentCurrent({
        status: { conditions: [cond('Reconciling', 'True', 'R', 'rolling')] },
      }),
      ip('R', 'rolling'),
    ],
    [
      'conditions that are not a list are an error',
      cr({ status: { conditions: { type: 'Ready' } } }),
      unknownResult('status.conditions: cannot decode map[string]interface {} into a list'),
    ],
    [
      'a condition that is not a map is an error',
      cr({ status: { conditions: ['Ready'] } }),
      unknownResult('status.conditions[0]: cannot decode string into a condition'),
    ],
    [
      'a condition field that is not a string is an error',
      cr({ status: { conditions: [{ type: 'Ready', status: true }] } }),
      unknownResult('status.conditions[0].status: cannot decode bool into a string'),
    ],
    [
      'a status that is not a map is an error',
      cr({ status: ['x'] }),
      unknownResult('status: cannot decode []interface {} into a status object'),
    ],
    [
      'null conditions and null fields read as empty',
      cr({ status: { conditions: [null, { type: 'Ready', status: null }] } }),
      cur('Resource is current'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('compute: steps 5 and 6, Ready fallback and default', () => {
  const cases: [string, KubeObject, Result][] = [
    [
      'Ready True',
      cr({ status: { conditions: [cond('Ready', 'True')] } }),
      cur('Resource is Ready'),
    ],
    [
      'Ready False is InProgress with its reason and message',
      cr({ status: { conditions: [cond('Ready', 'False', 'Waiting', 'not yet')] } }),
      ip('Waiting', 'not yet'),
    ],
    [
      'Ready Unknown is InProgress',
      cr({ status: { conditions: [cond('Ready', 'Unknown', 'Checking', 'hm')] } }),
      ip('Checking', 'hm'),
    ],
    [
      'a Ready with another status is skipped and the walk goes on',
      cr({
        status: { conditions: [cond('Ready', 'Maybe'), cond('Ready', 'False', 'R', 'second')] },
      }),
      ip('R', 'second'),
    ],
    [
      'only odd Ready statuses: the default',
      cr({ status: { conditions: [cond('Ready', 'Maybe')] } }),
      cur('Resource is current'),
    ],
    ['no status at all is Current', cr(), cur('Resource is current')],
    [
      'Ready is not consulted for kinds with a rule',
      obj('v1', 'Service', { status: { conditions: [cond('Ready', 'False', 'R', 'M')] } }),
      cur('Service is ready'),
    ],
    [
      'HPA, Ingress, Namespace go to the fallback',
      obj('v1', 'Namespace', { status: { phase: 'Active' } }),
      cur('Resource is current'),
    ],
    [
      'an unknown kind falls back to the generic rules',
      obj('v1', 'Frobnicator'),
      cur('Resource is current'),
    ],
  ];
  it.each(cases)('%s', (_name, o, want) => expect(compute(o)).toEqual(want));
});

describe('compute: rule lookup', () => {
  const pending = { spec: { replicas: 2 }, status: { replicas: 1 } };
  it('uses the group only: any version of apps/Deployment has the rule', () => {
    for (const v of ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1']) {
      expect(compute(obj(v, 'Deployment', pending))).toEqual(ip('LessReplicas', 'Replicas: 1/2'));
    }
  });
  it('a Deployment in another group (or the core group) has none', () => {
    expect(compute(obj('v1', 'Deployment', pending))).toEqual(cur('Resource is current'));
    expect(compute(obj('example.com/v1', 'Deployment', pending))).toEqual(
      cur('Resource is current'),
    );
  });
  it('an apiVersion with two slashes matches no rule', () => {
    expect(compute(obj('apps/v1/x', 'Deployment', pending))).toEqual(cur('Resource is current'));
  });
  it('a non-object is Unknown, never a throw', () => {
    expect(compute('nope').status).toBe('Unknown');
    expect(compute(null)).toEqual(
      unknownResult(
        'object accessor error: <nil> is of the type <nil>, expected map[string]interface{}',
      ),
    );
    expect(compute([1]).status).toBe('Unknown');
  });
  it('knows its rule table and the built-in groups', () => {
    expect(hasBuiltinRule({ group: 'batch', kind: 'Job' })).toBe(true);
    expect(hasBuiltinRule({ group: '', kind: 'Namespace' })).toBe(false);
    expect(isBuiltinGroup('')).toBe(true);
    expect(isBuiltinGroup('apps')).toBe(true);
    expect(isBuiltinGroup('networking.k8s.io')).toBe(true);
    expect(isBuiltinGroup('cluster.x-k8s.io')).toBe(false);
    expect(isBuiltinGroup('cert-manager.io')).toBe(false);
  });
});

describe('compute: the fresh custom resource guard (cluster-api#9299)', () => {
  it('is off by default: a CR with no status is Current, as in kstatus', () => {
    expect(compute(cr())).toEqual(cur('Resource is current'));
  });
  it('status: a CR with no or an empty status is InProgress', () => {
    expect(compute(cr(), { freshGuard: 'status' })).toEqual(
      ip('NoStatus', 'Resource has no status yet'),
    );
    expect(compute(cr({ status: {} }), { freshGuard: 'status' })).toEqual(
      ip('NoStatus', 'Resource has no status yet'),
    );
    expect(compute(cr({ status: { observedGeneration: 1 } }), { freshGuard: 'status' })).toEqual(
      cur('Resource is current'),
    );
  });
  it('ready: a CR must also have a Ready condition', () => {
    const observed = cr({ metadata: { generation: 1 }, status: { observedGeneration: 1 } });
    expect(compute(observed, { freshGuard: 'ready' })).toEqual(
      ip('NoReadyCondition', 'Resource has no Ready condition yet'),
    );
    const ready = cr({ status: { conditions: [cond('Ready', 'True')] } });
    expect(compute(ready, { freshGuard: 'ready' })).toEqual(cur('Resource is Ready'));
  });
  it("leaves Kubernetes' own kinds alone", () => {
    expect(compute(obj('v1', 'ServiceAccount'), { freshGuard: 'ready' })).toEqual(
      cur('Resource is current'),
    );
    expect(compute(obj('rbac.authorization.k8s.io/v1', 'Role'), { freshGuard: 'ready' })).toEqual(
      cur('Resource is current'),
    );
  });
  it("is on for fathom's own kinds (fathom.dev): one without status has not been seen yet", () => {
    const session = obj('fathom.dev/v1alpha1', 'Session');
    expect(compute(session)).toEqual(ip('NoStatus', 'Resource has no status yet'));
    expect(compute(session, { freshGuard: 'ready' })).toEqual(
      ip('NoStatus', 'Resource has no status yet'),
    );
    const ready = { ...session, status: { conditions: [cond('Ready', 'True')] } };
    expect(compute(ready)).toEqual(cur('Resource is Ready'));
  });
  it('runs after the generic steps', () => {
    const terminating = cr({ metadata: { deletionTimestamp: 'x' } });
    expect(compute(terminating, { freshGuard: 'status' }).status).toBe('Terminating');
  });
});
