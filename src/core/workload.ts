/**
 * Placing a workload on a node: the shared port for what check agents and session components
 * need from a backend. A workload is one or more containers started together on one node, as a
 * pod is; the domain decides the node, the backend runs it there (a Pod bound to the node on
 * Kubernetes, process groups on the local backend) and reports its state and logs. Containers
 * are not restarted: a container that ends stays ended, and the domain decides what follows.
 */
import { FathomError } from './errors.js';

export interface WorkloadContainer {
  readonly name: string;
  /** The executable and its first arguments (a container's `command`). */
  readonly command: readonly [string, ...string[]];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** The image on Kubernetes (required there); the local backend runs `command` on the host. */
  readonly image?: string;
  /**
   * The container serves on a port: on Kubernetes this container port on the pod's IP; locally
   * a free port on 127.0.0.1 chosen by the backend. Either way the container finds it in
   * `FATHOM_PORT` and the workload's `addresses` names it once known.
   */
  readonly port?: number;
}

export interface WorkloadSpec {
  /** A DNS label, unique among the backend's workloads. */
  readonly name: string;
  /** Groups workloads for `list`, `watch` and cleanup: a session's name, `check-agents`. */
  readonly owner: string;
  readonly node: string;
  readonly containers: readonly WorkloadContainer[];
}

export type ContainerStatus = { readonly name: string; readonly restarts: number } & (
  | { readonly state: 'waiting'; readonly reason: string; readonly message: string }
  | { readonly state: 'running' }
  | {
      readonly state: 'terminated';
      /** Null when unknown (the process was not ours to wait for). */
      readonly exitCode: number | null;
      readonly reason: string;
      readonly message: string;
    }
);

/** A pod's phases: Pending until every container started, then Running until all ended. */
export type WorkloadPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface WorkloadState {
  readonly name: string;
  readonly owner: string;
  readonly node: string;
  readonly phase: WorkloadPhase;
  readonly containers: readonly ContainerStatus[];
  /** `host:port` per container that declared a port, once the backend knows it. */
  readonly addresses: Readonly<Record<string, string>>;
}

export type WorkloadEvent =
  | { readonly type: 'changed'; readonly workload: WorkloadState }
  | { readonly type: 'removed'; readonly name: string }
  /** A failure to watch, as data: the watch goes on (with backoff) until its signal ends it. */
  | { readonly type: 'error'; readonly error: Error };

export interface LogOptions {
  /** Follow the output until the container ends (or the signal fires); else what is there. */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
}

export interface WorkloadRuntime {
  /** Starts the workload on its node; FATHOM_WORKLOAD_EXISTS when the name is taken. */
  place(spec: WorkloadSpec): Promise<WorkloadState>;
  get(name: string): Promise<WorkloadState | undefined>;
  list(owner: string): Promise<readonly WorkloadState[]>;
  /** Every workload of `owner` as it is now, then each change, until `signal` aborts. */
  watch(owner: string, signal: AbortSignal): AsyncIterable<WorkloadEvent>;
  /** A container's output as it was written (stdout and stderr together). */
  logs(name: string, container: string, options?: LogOptions): AsyncIterable<Buffer>;
  /** Stops every container (SIGTERM, then SIGKILL after `graceMs`) and forgets it; false if absent. */
  remove(name: string, options?: { readonly graceMs?: number }): Promise<boolean>;
}

/** Bounds on a workload spec, checked by `checkWorkloadSpec` before any backend sees it. */
export const workloadLimits = { containers: 16, envEntries: 256, argBytes: 128 * 1024 } as const;

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A label value (the owner ends up in one on Kubernetes). */
const labelValue = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Throws FATHOM_WORKLOAD_INVALID naming the first bad field; both backends call it first. */
export function checkWorkloadSpec(spec: WorkloadSpec): void {
  const bad = (field: string, why: string): never => {
    throw new FathomError('FATHOM_WORKLOAD_INVALID', `workload ${spec.name}: ${field}: ${why}`, {
      details: { field },
    });
  };
  if (!dnsLabel.test(spec.name)) bad('name', 'must be a DNS label (a-z, 0-9, -; at most 63)');
  if (!labelValue.test(spec.owner)) bad('owner', 'must be a label value (at most 63 characters)');
  if (!spec.node) bad('node', 'must name a node');
  if (!spec.containers.length || spec.containers.length > workloadLimits.containers) {
    bad('containers', `must hold 1 to ${workloadLimits.containers} containers`);
  }
  const names = new Set<string>();
  spec.containers.forEach((c, i) => {
    const at = `containers[${i}]`;
    if (!dnsLabel.test(c.name)) bad(`${at}.name`, 'must be a DNS label');
    if (names.has(c.name)) bad(`${at}.name`, `${c.name} is used twice`);
    names.add(c.name);
    if (!c.command[0]) bad(`${at}.command`, 'must name an executable');
    const argBytes = [...c.command, ...(c.args ?? [])].reduce((n, a) => n + a.length, 0);
    if (argBytes > workloadLimits.argBytes) bad(`${at}.args`, 'over 128 KiB');
    const env = Object.keys(c.env ?? {});
    if (env.length > workloadLimits.envEntries) bad(`${at}.env`, 'over 256 entries');
    for (const k of env) if (!envName.test(k)) bad(`${at}.env.${k}`, 'not a variable name');
    if (c.port !== undefined && !(Number.isInteger(c.port) && c.port >= 1 && c.port <= 65535)) {
      bad(`${at}.port`, 'must be a port number from 1 to 65535');
    }
  });
}

/**
 * Pure: a pod's phase from its containers' states when none restarts (restartPolicy Never):
 * Pending while any waits, Running while any runs, then Succeeded if all exited 0 else Failed.
 */
export function phaseOf(containers: readonly ContainerStatus[]): WorkloadPhase {
  if (!containers.length || containers.some((c) => c.state === 'waiting')) return 'Pending';
  if (containers.some((c) => c.state === 'running')) return 'Running';
  return containers.every((c) => c.state === 'terminated' && c.exitCode === 0)
    ? 'Succeeded'
    : 'Failed';
}
