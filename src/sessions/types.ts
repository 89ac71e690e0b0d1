/**
 * The Session object, kubectl-style: what a user writes (`spec`) and what the controller reports
 * (`status`). A session is a test made of components (a driver, servers, clients, any other
 * role), each instance of which takes one whole node of its pool. Pure data: the parser
 * (spec.ts) builds it once at the edge and freezes it.
 */

export const sessionApiVersion = 'fathom.dev/v1alpha1';
export const sessionKind = 'Session';

/** The role that decides the session: exactly one, with one replica. */
export const driverKind = 'driver';

/** `driver`, `server`, `client`, or any other role (a DNS label). */
export type ComponentKind = 'driver' | 'server' | 'client' | (string & {});

export interface SessionComponent {
  /** A DNS label, unique in the session. */
  readonly name: string;
  readonly kind: ComponentKind;
  /** The node pool each replica takes one whole node of (a label value). */
  readonly pool: string;
  /** Instances of the component, each on its own node; 1 when not written. */
  readonly replicas: number;
  /** The executable and its first arguments. */
  readonly command: readonly [string, ...string[]];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Required on Kubernetes; the local backend runs `command` on the host. */
  readonly image?: string;
  /** The component serves on this port (found in FATHOM_PORT; addresses reach the driver). */
  readonly port?: number;
}

export interface SessionSpec {
  readonly components: readonly SessionComponent[];
  /**
   * How long provisioning and running may take together (the queue does not count), as
   * written (`15m`); `0` means no limit. Read it with `timeoutMs`.
   */
  readonly timeout: string;
  /** How long a finished session and its logs are kept, as written (`1h`). */
  readonly ttl: string;
  /** Higher is admitted first; equal priorities are first come, first served. */
  readonly priority: number;
}

export interface SessionMetadata {
  /** A DNS label. */
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** LoadTest's states, plus the queue (`Queued`) and cancellation (`Cancelled`). */
export type SessionState =
  'Queued' | 'Initializing' | 'Running' | 'Succeeded' | 'Errored' | 'Cancelled';

export const sessionStates: readonly SessionState[] = [
  'Queued',
  'Initializing',
  'Running',
  'Succeeded',
  'Errored',
  'Cancelled',
];

export function isFinal(state: SessionState): boolean {
  return state === 'Succeeded' || state === 'Errored' || state === 'Cancelled';
}

/**
 * Why a session is in its state. LoadTest's reasons where they mean the same (`PoolError`,
 * `ContainerError`, `PodsMissing`, `TimeoutErrored`), and fathom's own for what it adds.
 */
export type SessionReason =
  | 'Submitted' // queued, waiting for nodes and an executor
  | 'Provisioning' // components are being placed and waited for
  | 'Running' // every component is ready; the driver runs
  | 'DriverSucceeded' // the driver exited 0
  | 'PoolError' // a component names a pool no node has
  | 'CapacityError' // a pool has fewer nodes than the session needs of it
  | 'ContainerError' // a container exited non-zero or crash-looped
  | 'ImagePullError' // an image cannot be pulled (fails fast)
  | 'ComponentExited' // a component other than the driver ended while the driver ran
  | 'PodsMissing' // a component's workload or node is gone
  | 'TimeoutErrored' // provisioning and running took longer than spec.timeout
  | 'InvalidSpec' // written around the parser (kubectl apply) and refused by it
  | 'Cancelled'; // `fathom session cancel`

export type ConditionType = 'Ready' | 'Reconciling' | 'Stalled';

/** A kstatus-compatible condition (`kubectl wait --for=condition=Ready` reads it). */
export interface SessionCondition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  /** RFC 3339. */
  readonly lastTransitionTime: string;
}

export interface SessionStatus {
  readonly state: SessionState;
  readonly reason: SessionReason;
  readonly message: string;
  /** RFC 3339: when the session left the queue (its timeout counts from here). */
  readonly startTime?: string;
  /** RFC 3339: when it reached a final state. */
  readonly stopTime?: string;
  readonly conditions: readonly SessionCondition[];
}

export interface Session {
  readonly apiVersion: typeof sessionApiVersion;
  readonly kind: typeof sessionKind;
  readonly metadata: SessionMetadata;
  readonly spec: SessionSpec;
  readonly status?: SessionStatus;
}

/** Nodes a session needs per pool, sorted by pool name (one per component replica). */
export type PoolNeeds = readonly (readonly [pool: string, nodes: number])[];
