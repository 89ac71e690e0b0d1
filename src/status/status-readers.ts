/**
 * kstatus's StatusReaders: read an object through a ClusterReader and compute its status,
 * following generated resources (Deployment → ReplicaSets → Pods; ReplicaSet, StatefulSet and DaemonSet →
 * Pods) by label selector, so that "N pods have failed" comes out as in kstatus.
 */
import { messageOf } from '../core/errors.js';
import type { ComputeOptions } from './compute.js';
import { compute } from './compute.js';
import { groupKindKey, identifierOf } from './fields.js';
import type { ClusterReader } from './reader.js';
import { isAbortError, settle } from './reader.js';
import { selectorOf } from './selector.js';
import type { GroupKind, KubeObject, ObjectIdentifier, ResourceStatus } from './types.js';

/** Computes the status of the kinds it supports. Throws only for an abort. */
export interface StatusReader {
  supports(gk: GroupKind): boolean;
  /** Reads the object, then `readStatusForObject`; NotFound and read errors are statuses. */
  readStatus(
    reader: ClusterReader,
    id: ObjectIdentifier,
    signal?: AbortSignal,
  ): Promise<ResourceStatus>;
  readStatusForObject(
    reader: ClusterReader,
    object: KubeObject,
    signal?: AbortSignal,
  ): Promise<ResourceStatus>;
}

const POD: GroupKind = { group: '', kind: 'Pod' };
const REPLICA_SET: GroupKind = { group: 'apps', kind: 'ReplicaSet' };

function compareIds(a: ResourceStatus, b: ResourceStatus): number {
  const x = a.identifier;
  const y = b.identifier;
  for (const k of ['namespace', 'group', 'kind', 'name'] as const) {
    if (x[k] !== y[k]) return x[k] < y[k] ? -1 : 1;
  }
  return 0;
}

/** Sorted by namespace, group, kind, name (kstatus's ResourceStatuses order). */
export function sortStatuses(statuses: ResourceStatus[]): ResourceStatus[] {
  return statuses.sort(compareIds);
}

/** A read error as a status: Unknown, with whatever was already read. */
function errorStatus(
  err: unknown,
  signal: AbortSignal | undefined,
  identifier: ObjectIdentifier,
  resource?: KubeObject,
  generated: readonly ResourceStatus[] = [],
): ResourceStatus {
  if (isAbortError(err, signal)) throw err;
  return {
    identifier,
    status: 'Unknown',
    message: '',
    ...(resource ? { resource } : {}),
    error: messageOf(err),
    generatedResources: generated,
  };
}

/** The status of one object from `compute`, with its generated resources. */
function statusFromCompute(
  object: KubeObject,
  options: ComputeOptions,
  generated: readonly ResourceStatus[],
  signal?: AbortSignal,
): ResourceStatus {
  const identifier = identifierOf(object);
  const res = compute(object, options);
  if (res.status === 'Unknown') {
    return errorStatus(new Error(res.error ?? res.message), signal, identifier, object, generated);
  }
  return {
    identifier,
    status: res.status,
    message: res.message,
    resource: object,
    generatedResources: generated,
  };
}

abstract class BaseReader implements StatusReader {
  constructor(protected readonly options: ComputeOptions) {}

  abstract supports(gk: GroupKind): boolean;
  abstract readStatusForObject(
    reader: ClusterReader,
    object: KubeObject,
    signal?: AbortSignal,
  ): Promise<ResourceStatus>;

  async readStatus(
    reader: ClusterReader,
    id: ObjectIdentifier,
    signal?: AbortSignal,
  ): Promise<ResourceStatus> {
    let object: KubeObject | undefined;
    try {
      object = await reader.get(id, signal);
    } catch (err) {
      return errorStatus(err, signal, id);
    }
    if (object === undefined) {
      return {
        identifier: id,
        status: 'NotFound',
        message: 'Resource not found',
        generatedResources: [],
      };
    }
    return this.readStatusForObject(reader, object, signal);
  }
}

class GenericReader extends BaseReader {
  supports(): boolean {
    return true;
  }
  readStatusForObject(
    _reader: ClusterReader,
    object: KubeObject,
    signal?: AbortSignal,
  ): Promise<ResourceStatus> {
    return settle(() => statusFromCompute(object, this.options, [], signal));
  }
}

/** Any kind: plain `compute`, no generated resources. */
export function createGenericStatusReader(options: ComputeOptions = {}): StatusReader {
  return new GenericReader(options);
}

/** Lists `kind` in the object's namespace by its `spec.selector` and reads each with `via`. */
async function generated(
  reader: ClusterReader,
  object: KubeObject,
  kind: GroupKind,
  via: StatusReader,
  signal?: AbortSignal,
): Promise<ResourceStatus[]> {
  const selector = selectorOf(object);
  const { namespace } = identifierOf(object);
  const items = await reader.list(kind, namespace, selector, signal);
  const out: ResourceStatus[] = [];
  for (const item of items) out.push(await via.readStatusForObject(reader, item, signal));
  return sortStatuses(out);
}

class PodControllerReader extends BaseReader {
  readonly #pods: StatusReader;
  constructor(
    readonly gk: GroupKind,
    options: ComputeOptions,
    /** Whether failed pods turn InProgress into Failed (kstatus: ReplicaSet, StatefulSet). */
    readonly escalate = true,
  ) {
    super(options);
    this.#pods = new GenericReader(options);
  }

  supports(gk: GroupKind): boolean {
    return groupKindKey(gk) === groupKindKey(this.gk);
  }

  async readStatusForObject(
    reader: ClusterReader,
    object: KubeObject,
    signal?: AbortSignal,
  ): Promise<ResourceStatus> {
    let pods: ResourceStatus[];
    try {
      pods = await generated(reader, object, POD, this.#pods, signal);
    } catch (err) {
      return errorStatus(err, signal, identifierOf(object), object);
    }
    const own = statusFromCompute(object, this.options, pods, signal);
    // A controller still in progress with a failed pod will likely never get there.
    if (this.escalate && own.status === 'InProgress') {
      const failedPods = pods.filter((p) => p.status === 'Failed').length;
      if (failedPods > 0)
        return { ...own, status: 'Failed', message: `${failedPods} pods have failed` };
    }
    return own;
  }
}

/** ReplicaSet or StatefulSet (group apps): their pods by selector; failed pods escalate InProgress to Failed. */
export function createPodControllerStatusReader(
  gk: GroupKind,
  options: ComputeOptions = {},
): StatusReader {
  return new PodControllerReader(gk, options);
}

/**
 * apps/DaemonSet: its pods by selector as generated resources, so a watch shows which node's pod
 * is behind. Its own status and message stay kstatus's (which reads DaemonSets with the generic
 * reader): failed pods are shown, never escalated.
 */
export function createDaemonSetStatusReader(options: ComputeOptions = {}): StatusReader {
  return new PodControllerReader({ group: 'apps', kind: 'DaemonSet' }, options, false);
}

class DeploymentReader extends BaseReader {
  readonly #replicaSets: StatusReader;
  constructor(options: ComputeOptions) {
    super(options);
    this.#replicaSets = new PodControllerReader(REPLICA_SET, options);
  }

  supports(gk: GroupKind): boolean {
    return gk.group === 'apps' && gk.kind === 'Deployment';
  }

  async readStatusForObject(
    reader: ClusterReader,
    object: KubeObject,
    signal?: AbortSignal,
  ): Promise<ResourceStatus> {
    let replicaSets: ResourceStatus[];
    try {
      replicaSets = await generated(reader, object, REPLICA_SET, this.#replicaSets, signal);
    } catch (err) {
      return errorStatus(err, signal, identifierOf(object), object);
    }
    // Failed pods are not escalated at the Deployment level (as in kstatus).
    return statusFromCompute(object, this.options, replicaSets, signal);
  }
}

/** apps/Deployment: its ReplicaSets by selector (labels, not ownerReferences), each with its pods. */
export function createDeploymentStatusReader(options: ComputeOptions = {}): StatusReader {
  return new DeploymentReader(options);
}

/**
 * kstatus's default wiring, in order: Deployment, StatefulSet, ReplicaSet, then the generic
 * reader; plus DaemonSet → Pods (generated resources only, statuses unchanged).
 */
export function defaultStatusReaders(options: ComputeOptions = {}): StatusReader[] {
  return [
    createDeploymentStatusReader(options),
    createPodControllerStatusReader({ group: 'apps', kind: 'StatefulSet' }, options),
    createPodControllerStatusReader(REPLICA_SET, options),
    createDaemonSetStatusReader(options),
    createGenericStatusReader(options),
  ];
}
