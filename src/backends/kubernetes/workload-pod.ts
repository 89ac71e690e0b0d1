/**
 * A workload as a Pod, and back: the pure half of the Kubernetes workload adapter. A workload
 * is one Pod bound to its node by `spec.nodeName` (the domain chose the node, as the DaemonSet
 * controller does), never restarted, labelled so that `fathom cluster get` shows it.
 */
import { FathomError } from '../../core/errors.js';
import { firstProblem, Type, type Static } from '../../core/schema.js';
import { deepFreeze } from '../../core/validated.js';
import {
  phaseOf,
  type ContainerStatus,
  type WorkloadPhase,
  type WorkloadSpec,
  type WorkloadState,
} from '../../core/workload.js';
import type { KubeObject } from './api/types.js';
import { COMPONENT, LABEL } from './names.js';

export const WORKLOAD_ROLE = 'workload';
export const OWNER_LABEL = 'fathom.dev/owner';

/** The selector of one owner's workloads. */
export function ownerSelector(owner: string): string {
  return `${LABEL.component}=${COMPONENT},${LABEL.role}=${WORKLOAD_ROLE},${OWNER_LABEL}=${owner}`;
}

/** Kubernetes expands `$(VAR)` in command, args and env values; `$$` keeps a `$` literal. */
const literal = (text: string): string => text.replaceAll('$', '$$$$');

/** The Pod for `spec` (already checked by checkWorkloadSpec); FATHOM_WORKLOAD_INVALID without an image. */
export function workloadPod(spec: WorkloadSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      labels: {
        [LABEL.component]: COMPONENT,
        [LABEL.role]: WORKLOAD_ROLE,
        [OWNER_LABEL]: spec.owner,
      },
    },
    spec: {
      nodeName: spec.node,
      restartPolicy: 'Never',
      // A workload talks to fathom, not to the API server; and no Service variables either.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: spec.containers.map((c, i) => {
        if (!c.image) {
          throw new FathomError(
            'FATHOM_WORKLOAD_INVALID',
            `workload ${spec.name}: containers[${i}].image: is required on Kubernetes`,
            { details: { field: `containers[${i}].image` } },
          );
        }
        const env: object[] = Object.entries(c.env ?? {})
          .filter(([k]) => c.port === undefined || (k !== 'FATHOM_PORT' && k !== 'FATHOM_HOST'))
          .map(([name, value]) => ({ name, value: literal(value) }));
        if (c.port !== undefined) {
          env.push(
            { name: 'FATHOM_PORT', value: String(c.port) },
            { name: 'FATHOM_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          );
        }
        return {
          name: c.name,
          image: c.image,
          command: c.command.map(literal),
          ...(c.args?.length ? { args: c.args.map(literal) } : {}),
          ...(env.length ? { env } : {}),
          ...(c.port !== undefined ? { ports: [{ containerPort: c.port, protocol: 'TCP' }] } : {}),
        };
      }),
    },
  };
}

const text = Type.Optional(Type.String());
const containerState = Type.Object({
  waiting: Type.Optional(Type.Object({ reason: text, message: text })),
  running: Type.Optional(Type.Object({})),
  terminated: Type.Optional(
    Type.Object({ exitCode: Type.Optional(Type.Integer()), reason: text, message: text }),
  ),
});

/** The fields of a Pod the adapter reads, checked before use. */
export const workloadPodSchema = Type.Object({
  metadata: Type.Object({
    name: Type.String({ minLength: 1 }),
    uid: text,
    labels: Type.Record(Type.String(), Type.String()),
  }),
  spec: Type.Object({
    nodeName: text,
    containers: Type.Array(
      Type.Object({
        name: Type.String(),
        ports: Type.Optional(Type.Array(Type.Object({ containerPort: Type.Integer() }))),
      }),
    ),
  }),
  status: Type.Optional(
    Type.Object({
      phase: text,
      podIP: text,
      containerStatuses: Type.Optional(
        Type.Array(
          Type.Object({
            name: Type.String(),
            restartCount: Type.Optional(Type.Integer({ minimum: 0 })),
            state: Type.Optional(containerState),
          }),
        ),
      ),
    }),
  ),
});
export type WorkloadPod = Static<typeof workloadPodSchema>;

/** Whether a Pod is one of fathom's workloads (another Pod of that name is not ours to touch). */
export function isWorkloadPod(pod: { metadata: { labels?: Record<string, string> } }): boolean {
  const labels = pod.metadata.labels ?? {};
  return labels[LABEL.role] === WORKLOAD_ROLE && OWNER_LABEL in labels;
}

/**
 * `pod` checked against the schema (not frozen: a watch's cache still holds it); a Pod that
 * does not match is FATHOM_STATE_INVALID naming `Pod <ns>/<name>` and the field.
 */
export function checkedPod(pod: unknown, where: string): WorkloadPod {
  const problem = firstProblem(workloadPodSchema, pod);
  if (problem) {
    const field = problem.path ? `${problem.path}: ` : '';
    throw new FathomError('FATHOM_STATE_INVALID', `${where}: ${field}${problem.message}`, {
      details: { file: where, ...(problem.path ? { field: problem.path } : {}) },
    });
  }
  return pod as WorkloadPod;
}

const phases: readonly WorkloadPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

type WireStatus = NonNullable<NonNullable<WorkloadPod['status']>['containerStatuses']>[number];

function containerOf(name: string, wire: WireStatus | undefined): ContainerStatus {
  const restarts = wire?.restartCount ?? 0;
  const s = wire?.state;
  if (s?.terminated) {
    return {
      name,
      restarts,
      state: 'terminated',
      exitCode: s.terminated.exitCode ?? null,
      reason: s.terminated.reason ?? '',
      message: s.terminated.message ?? '',
    };
  }
  if (s?.running) return { name, restarts, state: 'running' };
  // No status yet, or waiting: the kubelet has not started it (an image pull, a back-off).
  return {
    name,
    restarts,
    state: 'waiting',
    reason: s?.waiting?.reason ?? 'ContainerCreating',
    message: s?.waiting?.message ?? '',
  };
}

/** The IP and port as one address; an IPv6 pod IP in brackets. */
function address(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Pure: the workload a checked Pod is, frozen. Containers in the order the Pod declares them. */
export function workloadStateOf(pod: WorkloadPod): WorkloadState {
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = pod.spec.containers.map((c) =>
    containerOf(
      c.name,
      statuses.find((s) => s.name === c.name),
    ),
  );
  const wire = pod.status?.phase;
  // No phase yet (just created): what the containers say; a phase from a newer API: Unknown.
  const phase =
    wire === undefined
      ? phaseOf(containers)
      : (((phases as readonly string[]).includes(wire) ? wire : 'Unknown') as WorkloadPhase);
  const addresses: Record<string, string> = {};
  const ip = pod.status?.podIP;
  for (const c of pod.spec.containers) {
    const port = c.ports?.[0]?.containerPort;
    if (ip && port !== undefined) addresses[c.name] = address(ip, port);
  }
  return deepFreeze({
    name: pod.metadata.name,
    owner: pod.metadata.labels[OWNER_LABEL] ?? '',
    node: pod.spec.nodeName ?? '',
    phase,
    containers,
    addresses,
  });
}
