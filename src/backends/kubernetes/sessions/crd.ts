/**
 * The Session CustomResourceDefinition (`sessions.fathom.dev`), and installing it on first use.
 *
 * Its schema refuses what is malformed by type or range (replicas as a string, a port of 70000,
 * an unknown state) at `kubectl apply`, with the parser's defaults; what needs the whole session
 * (exactly one driver, unique component names) is the parser's to judge, and the store shows a
 * CR it refuses as Errored/InvalidSpec rather than ignoring it. The spec cannot change once
 * written: the controller has placed pods for it.
 */
import type { Clock } from '../../../core/clock.js';
import { formatDuration } from '../../../core/duration.js';
import { FathomError, isFathomError } from '../../../core/errors.js';
import { workloadLimits } from '../../../core/workload.js';
import { sessionDefaults, sessionLimits, sessionStates } from '../../../sessions/index.js';
import type { KubeClient } from '../api/client.js';
import type { KubeObject } from '../api/types.js';
import { applyObject } from '../apply.js';
import { kindPath } from '../objects.js';
import {
  SESSION_CRD,
  SESSION_FIELD_MANAGER,
  SESSION_GROUP,
  SESSION_PLURAL,
  SESSION_VERSION,
  sessionsLabels,
} from './names.js';

export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** What `parseDuration` takes: `90s`, `1h30m`, `250ms`, or whole seconds. */
export const DURATION_PATTERN = '^\\s*([0-9]+|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)\\s*$';
/** Status messages are cut to this many characters when written (the CRD allows no more). */
export const STATUS_MESSAGE_MAX = 8192;

/** Bounded strings keep the immutability rule's cost estimate within the API server's budget. */
const text = (maxLength: number) => ({ type: 'string', maxLength });
const ARG_MAX = workloadLimits.argBytes;

const duration = (fallback: string) => ({
  'x-kubernetes-int-or-string': true,
  pattern: DURATION_PATTERN,
  minimum: 0,
  default: fallback,
});

const componentSchema = {
  type: 'object',
  required: ['name', 'kind', 'pool', 'command', 'image'],
  properties: {
    name: { ...text(63), pattern: DNS_LABEL_PATTERN },
    kind: { ...text(63), pattern: DNS_LABEL_PATTERN, description: 'driver, server, client, ...' },
    pool: { ...text(63), pattern: LABEL_VALUE_PATTERN },
    replicas: { type: 'integer', minimum: 1, maximum: sessionLimits.replicas, default: 1 },
    command: { type: 'array', minItems: 1, maxItems: 1024, items: text(ARG_MAX) },
    args: { type: 'array', maxItems: 1024, items: text(ARG_MAX) },
    env: {
      type: 'object',
      maxProperties: workloadLimits.envEntries,
      additionalProperties: text(ARG_MAX),
    },
    image: { ...text(4096), minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
};

const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { ...text(316), enum: ['Ready', 'Reconciling', 'Stalled'] },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: text(1024),
    message: text(STATUS_MESSAGE_MAX),
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

const statusSchema = {
  type: 'object',
  required: ['state', 'reason', 'message', 'conditions'],
  properties: {
    state: { type: 'string', enum: [...sessionStates] },
    reason: text(1024),
    message: text(STATUS_MESSAGE_MAX),
    startTime: { type: 'string', format: 'date-time' },
    stopTime: { type: 'string', format: 'date-time' },
    conditions: {
      type: 'array',
      maxItems: 8,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: conditionSchema,
    },
  },
};

const specSchema = {
  type: 'object',
  required: ['components'],
  'x-kubernetes-validations': [
    {
      rule: 'self == oldSelf',
      message: 'spec is immutable: delete the session and create it again',
    },
  ],
  properties: {
    components: {
      type: 'array',
      minItems: 1,
      maxItems: sessionLimits.components,
      items: componentSchema,
    },
    timeout: duration(sessionDefaults.timeout),
    ttl: duration(sessionDefaults.ttl),
    priority: {
      type: 'integer',
      minimum: -sessionLimits.priority,
      maximum: sessionLimits.priority,
      default: sessionDefaults.priority,
    },
  },
};

/** The CustomResourceDefinition of `Session` (fathom.dev/v1alpha1, namespaced). Pure. */
export function sessionCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: SESSION_CRD, labels: sessionsLabels() },
    spec: {
      group: SESSION_GROUP,
      scope: 'Namespaced',
      names: {
        kind: 'Session',
        listKind: 'SessionList',
        plural: SESSION_PLURAL,
        singular: 'session',
        shortNames: ['fsess'],
        categories: ['fathom'],
      },
      versions: [
        {
          name: SESSION_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'State', type: 'string', jsonPath: '.status.state' },
            { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
            { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A test made of components, each instance on a whole node of its pool.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: {
                  type: 'object',
                  properties: { name: { ...text(63), pattern: DNS_LABEL_PATTERN } },
                },
                spec: specSchema,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}

export interface EnsureCrdOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  /** How long to wait for `Established` (0: no limit). */
  readonly timeoutMs: number;
  /** Between reads of the CRD; default 250 ms. */
  readonly pollMs?: number;
}

interface Crd extends KubeObject {
  spec: { group: string; names: { plural: string }; versions: { name: string }[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/**
 * Whether the API serves the CRD's resource. Discovery, not the CRD: every authenticated user
 * may read it, and the controller's service account may not read CRDs.
 */
async function served(client: KubeClient, crd: Crd): Promise<boolean> {
  const { group, versions, names } = crd.spec;
  const list = await client.find<{ resources?: { name: string }[] }>(
    `/apis/${group}/${versions[0]!.name}`,
    `discovering ${group}/${versions[0]!.name}`,
  );
  return list?.resources?.some((r) => r.name === names.plural) ?? false;
}

function established(crd: Crd | undefined): boolean {
  return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
    ? true
    : false;
}

/**
 * Installs `crd` unless the API serves it already (server-side apply, fathom's field manager),
 * then waits until it is Established. A 403 is FATHOM_SESSION_CRD_MISSING, saying who may.
 */
export async function ensureCrd(
  crd: KubeObject,
  o: EnsureCrdOptions,
): Promise<'present' | 'created'> {
  const c = crd as Crd;
  if (await served(o.client, c)) return 'present';
  try {
    await applyObject(o.client, crd, false, SESSION_FIELD_MANAGER);
  } catch (err) {
    if (!isFathomError(err, 'FATHOM_KUBE_FORBIDDEN')) throw err;
    throw new FathomError(
      'FATHOM_SESSION_CRD_MISSING',
      `the Session CRD ${crd.metadata.name} is not installed, and these credentials may not install it (${err.message}): run \`fathom gen sessions | kubectl apply -f -\` as a cluster admin`,
      { cause: err },
    );
  }
  const path = kindPath({ kind: 'CustomResourceDefinition', name: crd.metadata.name });
  const deadline = o.timeoutMs > 0 ? o.clock.now() + o.timeoutMs : Infinity;
  for (;;) {
    const now = await o.client.find<Crd>(path, `reading CRD ${crd.metadata.name}`);
    if (established(now)) return 'created';
    if (o.clock.now() >= deadline) {
      const why = now?.status?.conditions?.find((x) => x.type === 'NamesAccepted')?.message;
      throw new FathomError(
        'FATHOM_TIMEOUT',
        `CRD ${crd.metadata.name} is not Established after ${formatDuration(o.timeoutMs)}${why ? ` (${why})` : ''}`,
      );
    }
    await o.clock.sleep(o.pollMs ?? 250);
  }
}

/** `ensureCrd` for the Session CRD: what the controller and the CLI call before using sessions. */
export function ensureSessionCrd(o: EnsureCrdOptions): Promise<'present' | 'created'> {
  return ensureCrd(sessionCrd(), o);
}
