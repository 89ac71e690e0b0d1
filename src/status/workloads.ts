/** kstatus's rules for the replicated workloads: Deployment, ReplicaSet, StatefulSet, DaemonSet. */
import { current, inProgress, readConditions } from './conditions.js';
import { formatInt as n, intField, nestedInt64, stringField, topString } from './fields.js';
import type { Result } from './types.js';

const MAX_INT32 = 2147483647n;

/** Go's int arithmetic: a difference that leaves int64 wraps around, as in kstatus. */
const sub = (a: bigint, b: bigint): bigint => BigInt.asIntN(64, a - b);

export function deploymentRule(obj: unknown): Result {
  // Without a deadline the controller never sets Progressing, so it counts as progressing.
  let progressing = intField(obj, '.spec.progressDeadlineSeconds', MAX_INT32) === MAX_INT32;
  let available = false;
  for (const c of readConditions(obj)) {
    if (c.type === 'Progressing') {
      if (c.reason === 'ProgressDeadlineExceeded') {
        return {
          status: 'Failed',
          message: 'Progress deadline exceeded',
          conditions: [{ type: 'Stalled', status: 'True', reason: c.reason, message: c.message }],
        };
      }
      if (c.status === 'True' && c.reason === 'NewReplicaSetAvailable') progressing = true;
    } else if (c.type === 'Available' && c.status === 'True') {
      available = true;
    }
  }

  const spec = intField(obj, '.spec.replicas', 1n);
  const replicas = intField(obj, '.status.replicas', 0n);
  const updated = intField(obj, '.status.updatedReplicas', 0n);
  const ready = intField(obj, '.status.readyReplicas', 0n);
  const avail = intField(obj, '.status.availableReplicas', 0n);

  if (spec > replicas) return inProgress('LessReplicas', `Replicas: ${n(replicas)}/${n(spec)}`);
  if (spec > updated) return inProgress('LessUpdated', `Updated: ${n(updated)}/${n(spec)}`);
  if (replicas > spec) {
    return inProgress('ExtraPods', `Pending termination: ${n(sub(replicas, spec))}`);
  }
  if (updated > avail) return inProgress('LessAvailable', `Available: ${n(avail)}/${n(updated)}`);
  if (spec > ready) return inProgress('LessReady', `Ready: ${n(ready)}/${n(spec)}`);
  if (!progressing) return inProgress('ReplicaSetNotAvailable', 'ReplicaSet not Available');
  if (!available) return inProgress('DeploymentNotAvailable', 'Deployment not Available');
  return current(`Deployment is available. Replicas: ${n(replicas)}`);
}

export function replicaSetRule(obj: unknown): Result {
  for (const c of readConditions(obj)) {
    // kstatus keeps this InProgress: the pods tell whether it is stuck.
    if (c.type === 'ReplicaFailure' && c.status === 'True') {
      return inProgress('ReplicaFailure', 'Replica Failure condition. Check Pods');
    }
  }
  const spec = intField(obj, '.spec.replicas', 1n);
  const replicas = intField(obj, '.status.replicas', 0n);
  const ready = intField(obj, '.status.readyReplicas', 0n);
  const avail = intField(obj, '.status.availableReplicas', 0n);
  const labelled = intField(obj, '.status.fullyLabeledReplicas', 0n);

  if (spec > labelled) return inProgress('LessLabelled', `Labelled: ${n(labelled)}/${n(spec)}`);
  if (spec > avail) return inProgress('LessAvailable', `Available: ${n(avail)}/${n(spec)}`);
  if (spec > ready) return inProgress('LessReady', `Ready: ${n(ready)}/${n(spec)}`);
  if (replicas > spec) {
    return inProgress('ExtraPods', `Pending termination: ${n(sub(replicas, spec))}`);
  }
  return current(`ReplicaSet is available. Replicas: ${n(replicas)}`);
}

export function statefulSetRule(obj: unknown): Result {
  if (stringField(obj, '.spec.updateStrategy.type', '') === 'OnDelete') {
    return current('StatefulSet is using the ondelete update strategy');
  }
  const spec = intField(obj, '.spec.replicas', 1n);
  const ready = intField(obj, '.status.readyReplicas', 0n);
  const cur = intField(obj, '.status.currentReplicas', 0n);
  const updated = intField(obj, '.status.updatedReplicas', 0n);
  const replicas = intField(obj, '.status.replicas', 0n);
  const partition = intField(obj, '.spec.updateStrategy.rollingUpdate.partition', -1n);

  if (spec > replicas) return inProgress('LessReplicas', `Replicas: ${n(replicas)}/${n(spec)}`);
  if (spec > ready) return inProgress('LessReady', `Ready: ${n(ready)}/${n(spec)}`);
  if (replicas > spec) {
    return inProgress('ExtraPods', `Pending termination: ${n(sub(replicas, spec))}`);
  }
  // Only -1 means unset: an explicit 0 takes the partition branch.
  if (partition !== -1n) {
    const want = sub(spec, partition);
    if (updated < want) return inProgress('PartitionRollout', `updated: ${n(updated)}/${n(want)}`);
    return current(`Partition rollout complete. updated: ${n(updated)}`);
  }
  if (spec > cur) return inProgress('LessCurrent', `current: ${n(cur)}/${n(spec)}`);
  const currentRevision = stringField(obj, '.status.currentRevision', '');
  const updateRevision = stringField(obj, '.status.updateRevision', '');
  if (currentRevision !== updateRevision) {
    return inProgress('RevisionMismatch', 'Waiting for updated revision to match current');
  }
  return current(`All replicas scheduled as expected. Replicas: ${n(replicas)}`);
}

/** True when the strict getter finds an integer there (a type error counts as missing). */
function hasInt(obj: unknown, ...fields: string[]): boolean {
  try {
    return nestedInt64(obj, ...fields) !== undefined;
  } catch {
    return false;
  }
}

export function daemonSetRule(obj: unknown): Result {
  // Strict generation (cli-utils#548): a DaemonSet the controller never saw has all counts at 0.
  const kind = topString(obj, 'kind');
  if (!hasInt(obj, 'metadata', 'generation')) {
    return inProgress('NoGeneration', `${kind} metadata.generation not found`);
  }
  if (!hasInt(obj, 'status', 'observedGeneration')) {
    return inProgress('NoObservedGeneration', `${kind} status.observedGeneration not found`);
  }
  const desired = intField(obj, '.status.desiredNumberScheduled', -1n);
  const cur = intField(obj, '.status.currentNumberScheduled', 0n);
  const updated = intField(obj, '.status.updatedNumberScheduled', 0n);
  const avail = intField(obj, '.status.numberAvailable', 0n);
  const ready = intField(obj, '.status.numberReady', 0n);

  if (desired === -1n)
    return inProgress('NoDesiredNumber', 'Missing .status.desiredNumberScheduled');
  if (desired > cur) return inProgress('LessCurrent', `Current: ${n(cur)}/${n(desired)}`);
  if (desired > updated) return inProgress('LessUpdated', `Updated: ${n(updated)}/${n(desired)}`);
  if (desired > avail) return inProgress('LessAvailable', `Available: ${n(avail)}/${n(desired)}`);
  if (desired > ready) return inProgress('LessReady', `Ready: ${n(ready)}/${n(desired)}`);
  return current(`All replicas scheduled as expected. Replicas: ${n(desired)}`);
}
