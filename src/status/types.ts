/** The shapes shared by status computation, the poller and its readers (kstatus's vocabulary). */

/**
 * kstatus's statuses. `NotFound` and `Unknown` come only from reading (the poller), or from a
 * compute error (`Unknown`); `compute` itself gives the other four.
 */
export type Status = 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';

export const STATUSES: readonly Status[] = [
  'InProgress',
  'Failed',
  'Current',
  'Terminating',
  'NotFound',
  'Unknown',
];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A standard condition that `compute` says belongs on the object (Reconciling or Stalled). */
export interface Condition {
  readonly type: 'Reconciling' | 'Stalled';
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/** What `compute` returns. `conditions` is empty or holds exactly one Reconciling/Stalled entry. */
export interface Result {
  readonly status: Status;
  readonly message: string;
  readonly conditions: readonly Condition[];
  /** Set only when status is Unknown: why the object's status could not be computed. */
  readonly error?: string;
}

/** A Kubernetes object as plain JSON (integers may be numbers or bigints). */
export type KubeObject = Record<string, unknown>;

export interface GroupKind {
  /** '' for the core group. */
  readonly group: string;
  readonly kind: string;
}

/** kstatus's ObjMetadata: which object to watch. `namespace` is '' for cluster-scoped kinds. */
export interface ObjectIdentifier extends GroupKind {
  readonly namespace: string;
  readonly name: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** A metav1.LabelSelector, as the API serves it. An empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/** One object's status as the poller reports it (kstatus's event.ResourceStatus). */
export interface ResourceStatus {
  readonly identifier: ObjectIdentifier;
  readonly status: Status;
  /** '' when `error` is set, as in kstatus. */
  readonly message: string;
  /** The object as read; absent for NotFound and for read errors. */
  readonly resource?: KubeObject;
  /** The per-resource error text when status is Unknown. */
  readonly error?: string;
  /** ReplicaSets of a Deployment, Pods of a ReplicaSet/StatefulSet: sorted by namespace, group, kind, name. */
  readonly generatedResources: readonly ResourceStatus[];
}

/** What `StatusPoller.poll` yields. */
export type PollEvent =
  | { readonly type: 'ResourceUpdate'; readonly resource: ResourceStatus }
  /** Fatal: the iteration ends after it. */
  | { readonly type: 'Error'; readonly error: Error }
  /** Every identifier has been read once (sent once, after the first cycle). */
  | { readonly type: 'Sync' };
