/**
 * kstatus's Compute, rule for rule and message for message: Terminating, then the generation
 * check, then the Reconciling/Stalled conditions, then the per-kind rule, then the Ready
 * condition, then Current. Pure: no I/O; the clock (Pod scheduling window) is an option.
 */
import { current, inProgress, readConditions, unknown } from './conditions.js';
import {
  alwaysReadyRule,
  crdRule,
  jobRule,
  pdbRule,
  podRule,
  pvcRule,
  serviceRule,
} from './core-kinds.js';
import {
  FieldError,
  formatInt,
  goTypeName,
  goValue,
  groupKindOf,
  isMap,
  nestedInt64,
  nestedString,
  topString,
} from './fields.js';
import type { GroupKind, KubeObject, Result } from './types.js';
import { daemonSetRule, deploymentRule, replicaSetRule, statefulSetRule } from './workloads.js';

/** Readiness rules for kinds kstatus has no rule for (see rules.ts); consulted before the built-ins. */
export interface CustomRules {
  /** The rule for a GroupKind, if any. */
  ruleFor(gk: GroupKind): CustomRule | undefined;
}

export interface CustomRule {
  /** Runs after the generic steps 1–3; throws (or returns Unknown) when an expression fails. */
  evaluate(object: KubeObject): Result;
}

/**
 * cluster-api#9299: kstatus calls a custom resource Current before its controller has written
 * anything. `status` treats a CR with no (or an empty) status as InProgress; `ready` also
 * requires a Ready condition. Applies only to CRs without a rule, never to Kubernetes' own kinds.
 */
export type FreshGuard = 'off' | 'status' | 'ready';

export interface ComputeOptions {
  /** Milliseconds since the epoch; the Pod rule's 15 s scheduling window needs it. */
  now?: () => number;
  rules?: CustomRules;
  /** Default 'off' (exactly kstatus). */
  freshGuard?: FreshGuard;
}

type Rule = (obj: KubeObject, now: number) => Result;

/** kstatus's legacyTypes table, keyed by `group/Kind` (`Kind` for the core group). */
const builtinRules: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['Service', serviceRule],
  ['Pod', podRule],
  ['Secret', alwaysReadyRule],
  ['PersistentVolumeClaim', pvcRule],
  ['ConfigMap', alwaysReadyRule],
  ['apps/StatefulSet', statefulSetRule],
  ['apps/DaemonSet', daemonSetRule],
  ['extensions/DaemonSet', daemonSetRule],
  ['apps/Deployment', deploymentRule],
  ['extensions/Deployment', deploymentRule],
  ['apps/ReplicaSet', replicaSetRule],
  ['extensions/ReplicaSet', replicaSetRule],
  ['policy/PodDisruptionBudget', pdbRule],
  ['batch/Job', jobRule],
  ['batch/CronJob', alwaysReadyRule],
  ['apiextensions.k8s.io/CustomResourceDefinition', crdRule],
]);

/** True when kstatus has a rule of its own for this GroupKind. */
export function hasBuiltinRule(gk: GroupKind): boolean {
  return builtinRules.has(gk.group === '' ? gk.kind : `${gk.group}/${gk.kind}`);
}

/**
 * Kubernetes' own API groups (core, `apps`, `*.k8s.io` but not `*.x-k8s.io`): the fresh guard
 * leaves them alone, since many of their kinds (ServiceAccount, Role...) never get a status.
 */
export function isBuiltinGroup(group: string): boolean {
  if (!group.includes('.')) return true;
  return (group === 'k8s.io' || group.endsWith('.k8s.io')) && !group.endsWith('x-k8s.io');
}

/** Runs a strict getter, prefixing its error as kstatus does (`looking up X from resource: ...`). */
function lookup<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FieldError) {
      throw new FieldError(`looking up ${what} from resource: ${err.message}`);
    }
    throw err;
  }
}

/** Steps 1–3 of kstatus's pipeline; undefined when they decide nothing. */
function genericProperties(obj: KubeObject): Result | undefined {
  const deletion = lookup('metadata.deletionTimestamp', () =>
    nestedString(obj, 'metadata', 'deletionTimestamp'),
  );
  if (deletion !== undefined && deletion !== '') {
    return { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] };
  }

  const generation = lookup('metadata.generation', () =>
    nestedInt64(obj, 'metadata', 'generation'),
  );
  if (generation !== undefined) {
    const observed = lookup('status.observedGeneration', () =>
      nestedInt64(obj, 'status', 'observedGeneration'),
    );
    // Lenient: a missing observedGeneration skips the check; any difference (even ahead) is InProgress.
    if (observed !== undefined && observed !== generation) {
      const message = `${topString(obj, 'kind')} generation is ${formatInt(generation)}, but latest observed generation is ${formatInt(observed)}`;
      return inProgress('LatestGenerationNotObserved', message);
    }
  }

  for (const c of readConditions(obj)) {
    if (c.status !== 'True') continue;
    if (c.type === 'Reconciling') return inProgress(c.reason, c.message);
    if (c.type === 'Stalled') {
      return {
        status: 'Failed',
        message: c.message,
        conditions: [{ type: 'Stalled', status: 'True', reason: c.reason, message: c.message }],
      };
    }
  }
  return undefined;
}

function readyCondition(obj: KubeObject): Result | undefined {
  for (const c of readConditions(obj)) {
    if (c.type !== 'Ready') continue;
    if (c.status === 'True') return current('Resource is Ready');
    if (c.status === 'False' || c.status === 'Unknown') return inProgress(c.reason, c.message);
  }
  return undefined;
}

function freshGuard(obj: KubeObject, gk: GroupKind, mode: FreshGuard): Result | undefined {
  if (mode === 'off' || isBuiltinGroup(gk.group)) return undefined;
  const status = obj.status;
  if (!isMap(status) || Object.keys(status).length === 0) {
    return inProgress('NoStatus', 'Resource has no status yet');
  }
  if (mode === 'ready')
    return inProgress('NoReadyCondition', 'Resource has no Ready condition yet');
  return undefined;
}

/**
 * fathom's own kinds (Run, Session): fathom writes their status as soon as it takes one in, so
 * one without status has not been seen yet and is InProgress, as with `--fresh-guard status`.
 */
export const FATHOM_GROUP = 'fathom.dev';

function computeOrThrow(obj: KubeObject, options: ComputeOptions): Result {
  const generic = genericProperties(obj);
  if (generic) return generic;

  const gk = groupKindOf(obj);
  const custom = options.rules?.ruleFor(gk);
  if (custom) return custom.evaluate(obj);

  const rule = builtinRules.get(gk.group === '' ? gk.kind : `${gk.group}/${gk.kind}`);
  if (rule) return rule(obj, (options.now ?? Date.now)());

  const mode = options.freshGuard ?? 'off';
  return (
    readyCondition(obj) ??
    freshGuard(obj, gk, mode === 'off' && gk.group === FATHOM_GROUP ? 'status' : mode) ??
    current('Resource is current')
  );
}

/**
 * The status of one object. Never throws: a malformed object (a generation that is not an
 * integer, conditions that are not a list, a status that is not a map, an unknown Pod phase...)
 * gives Unknown with the reason in `message` and `error`.
 */
export function compute(object: unknown, options: ComputeOptions = {}): Result {
  if (!isMap(object)) {
    return unknown(
      `object accessor error: ${goValue(object)} is of the type ${goTypeName(object)}, expected map[string]interface{}`,
    );
  }
  try {
    return computeOrThrow(object, options);
  } catch (err) {
    return unknown(err instanceof Error ? err.message : String(err));
  }
}

export interface AugmentResult {
  /** A copy of the object with the conditions merged in (the input itself when `result` is Unknown). */
  readonly object: KubeObject;
  readonly result: Result;
}

/** RFC 3339 in UTC to the second, as Go's time.RFC3339 prints it. */
function rfc3339Seconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * kstatus's Augment: compute, then merge the result's Reconciling/Stalled condition into
 * `status.conditions` by type. An existing entry gets status, reason, message and
 * lastUpdateTime (lastTransitionTime only when the status changes); a missing one is appended
 * with both times. Like kstatus it always writes the list back (`[]` when there was none).
 */
export function augment(object: unknown, options: ComputeOptions = {}): AugmentResult {
  const result = compute(object, options);
  const fail = (error: string): AugmentResult => ({
    object: object as KubeObject,
    result: unknown(error),
  });
  if (result.status === 'Unknown') return fail(result.error ?? result.message);

  const copy = structuredClone(object) as KubeObject;
  const existing = copy.status === undefined || copy.status === null ? undefined : copy.status;
  const list: unknown = isMap(existing) ? existing.conditions : undefined;
  const conditions: unknown[] = Array.isArray(list) ? [...(list as unknown[])] : [];
  const now = rfc3339Seconds((options.now ?? Date.now)());
  for (const want of result.conditions) {
    let present = false;
    for (const c of conditions) {
      if (!isMap(c)) return fail('condition does not have the expected structure');
      if (typeof c.type !== 'string') return fail('condition type does not have the expected type');
      if (c.type !== want.type) continue;
      if (typeof c.status !== 'string') {
        return fail('condition status does not have the expected type');
      }
      if (c.status !== want.status) c.lastTransitionTime = now;
      c.status = want.status;
      c.lastUpdateTime = now;
      c.reason = want.reason;
      c.message = want.message;
      present = true;
    }
    if (!present) {
      conditions.push({
        lastTransitionTime: now,
        lastUpdateTime: now,
        message: want.message,
        reason: want.reason,
        status: want.status,
        type: want.type,
      });
    }
  }
  copy.status = { ...(isMap(existing) ? existing : {}), conditions };
  return { object: copy, result };
}
