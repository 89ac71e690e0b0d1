/**
 * A Session as a custom resource and back. Written: the session's metadata and spec, its place
 * in the queue as an annotation (status goes through the status subresource). Read: checked by
 * the domain's parser and the status schema, exactly as a file would be, then frozen; a CR the
 * parser refuses (`kubectl apply` of two drivers) comes back as invalid with the parser's
 * message, never as a session and never silently dropped. Pure.
 */
import { parseDocument, LineCounter } from 'yaml';
import { formatBytes, jsonSize } from '../../../core/bounded.js';
import { parseDuration } from '../../../core/duration.js';
import { FathomError, isFathomError } from '../../../core/errors.js';
import { firstProblem, Type } from '../../../core/schema.js';
import { deepFreeze, validated } from '../../../core/validated.js';
import type { DocContext } from '../../../core/yaml-locate.js';
import {
  decodeSession,
  isFinal,
  sessionDefaults,
  sessionLimits,
  sessionStates,
  sessionStatusSchema,
  type Session,
  type SessionState,
  type SessionStatus,
  type StoredSession,
} from '../../../sessions/index.js';
import type { KubeObject } from '../api/types.js';
import { STATUS_MESSAGE_MAX } from './crd.js';
import { SUBMITTED_AT_ANNOTATION } from './names.js';

/** What every object the API returns has; anything else is the API's fault, not the user's. */
const envelopeSchema = Type.Object({
  metadata: Type.Object({
    name: Type.String({ minLength: 1 }),
    uid: Type.String({ minLength: 1 }),
    resourceVersion: Type.String({ minLength: 1 }),
    creationTimestamp: Type.String({ minLength: 1 }),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  }),
});

/** A Session CR as the API returned it. */
export interface SessionResource extends KubeObject {
  spec?: unknown;
  status?: unknown;
}

interface Read {
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly raw: SessionResource;
}

export type DecodedResource =
  | (Read & { readonly ok: true; readonly stored: StoredSession })
  | (Read & {
      readonly ok: false;
      /** The parser's message, naming the field. */
      readonly message: string;
      /** Its state when the status names one, even if the status is otherwise bad. */
      readonly state?: SessionState;
    });

/** The custom resource for a new session in `namespace` (no status: the subresource has it). */
export function sessionResource(
  session: Session,
  submittedAt: number,
  namespace: string,
): SessionResource {
  const { name, labels } = session.metadata;
  const given = session.metadata.namespace;
  if (given !== undefined && given !== namespace) {
    throw new FathomError(
      'FATHOM_SESSION_INVALID',
      `session ${name}: metadata.namespace is "${given}", but the sessions are in namespace "${namespace}" (-n)`,
    );
  }
  const out: SessionResource = {
    apiVersion: session.apiVersion,
    kind: session.kind,
    metadata: {
      name,
      namespace,
      ...(labels ? { labels: { ...labels } } : {}),
      annotations: { [SUBMITTED_AT_ANNOTATION]: String(Math.round(submittedAt)) },
    },
    spec: structuredClone(session.spec),
  };
  const size = jsonSize(out, sessionLimits.sessionBytes, sessionLimits.nestingDepth);
  if (typeof size !== 'number') {
    throw new FathomError(
      'FATHOM_SESSION_INVALID',
      `session ${name}: is over ${formatBytes(sessionLimits.sessionBytes)} as JSON`,
    );
  }
  return out;
}

/** Cut to `max` characters (the CRD's maxLength), saying so. */
function cut(text: string, max = STATUS_MESSAGE_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The status as written: messages bounded, so a long container message never fails a transition. */
export function boundedStatus(status: SessionStatus): SessionStatus {
  return {
    ...status,
    message: cut(status.message),
    conditions: status.conditions.map((c) => ({ ...c, message: cut(c.message) })),
  };
}

/** A parse of the CR's own JSON, so the parser's field errors work; only the field is kept. */
function decodeSpec(raw: SessionResource, where: string, namespace: string | undefined): Session {
  const m = raw.metadata;
  const value = {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata: {
      name: m.name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
    },
    spec: raw.spec,
  };
  const size = jsonSize(value, sessionLimits.sessionBytes, sessionLimits.nestingDepth);
  if (size === 'bytes')
    throw invalid(`${where}: is over ${formatBytes(sessionLimits.sessionBytes)} as JSON`);
  if (size === 'depth')
    throw invalid(`${where}: nests deeper than ${sessionLimits.nestingDepth} levels`);
  const lines = new LineCounter();
  const doc = parseDocument(JSON.stringify(value), { lineCounter: lines });
  const ctx: DocContext = { file: where, doc, lines };
  try {
    return decodeSession(ctx, doc.toJS(), { requireImage: true });
  } catch (err) {
    if (!isFathomError(err, 'FATHOM_SESSION_INVALID')) throw err;
    // Lines and columns of a JSON rendering mean nothing to the user: the field does.
    const d = err.details as { line?: number; column?: number } | undefined;
    const at = `${where}:${d?.line}:${d?.column}: `;
    throw invalid(
      err.message.startsWith(at) ? `${where}: ${err.message.slice(at.length)}` : err.message,
    );
  }
}

function invalid(message: string): FathomError {
  return new FathomError('FATHOM_SESSION_INVALID', message);
}

function stateOf(status: unknown): SessionState | undefined {
  const s = (status as { state?: unknown } | null | undefined)?.state;
  return sessionStates.find((x) => x === s);
}

/** The first problem of a CR read back, as the parser words it; undefined when it is good. */
function problemOf(
  r: SessionResource,
  where: string,
  mark: string | undefined,
): string | undefined {
  if (r.status !== undefined && r.status !== null) {
    const p = firstProblem(sessionStatusSchema, r.status);
    if (p) return `${where}: status${p.path ? `.${p.path}` : ''} ${p.message}`;
  }
  if (mark !== undefined && !/^\d{1,15}$/.test(mark)) {
    return `${where}: metadata.annotations["${SUBMITTED_AT_ANNOTATION}"] must be milliseconds since the epoch, got "${mark}"`;
  }
  return undefined;
}

/**
 * A CR read back: the stored session, or why the parser refuses it. Throws FATHOM_STATE_INVALID
 * only when the object lacks what the API server always sets.
 */
export function decodeSessionResource(raw: unknown, namespace: string): DecodedResource {
  const envelope = validated(envelopeSchema, raw, { file: `a Session in namespace ${namespace}` });
  const r = raw as SessionResource;
  const { name, uid, resourceVersion, creationTimestamp, annotations } = envelope.metadata;
  const read: Read = { name, uid, resourceVersion, raw: r };
  const where = `Session ${namespace}/${name}`;
  const refused = (message: string): DecodedResource => {
    const state = stateOf(r.status);
    return { ...read, ok: false, message, ...(state ? { state } : {}) };
  };
  let session: Session;
  try {
    session = decodeSpec(r, where, r.metadata.namespace ?? namespace);
  } catch (err) {
    if (!isFathomError(err, 'FATHOM_SESSION_INVALID')) throw err;
    return refused(err.message);
  }
  const mark = annotations?.[SUBMITTED_AT_ANNOTATION];
  const problem = problemOf(r, where, mark);
  if (problem) return refused(problem);
  const status = r.status as SessionStatus | undefined | null;
  // A CR made by kubectl has no mark: its creation time (whole seconds) is its place.
  const submittedAt = mark !== undefined ? Number(mark) : Date.parse(creationTimestamp);
  const stored: StoredSession = deepFreeze({
    session: { ...session, ...(status ? { status: structuredClone(status) } : {}) },
    submittedAt,
  });
  return { ...read, ok: true, stored };
}

/** When an invalid CR that has ended may go: its ttl after it stopped (the default ttl if bad). */
export function expiresAt(raw: SessionResource): number | undefined {
  const state = stateOf(raw.status);
  const stop = (raw.status as { stopTime?: unknown } | undefined)?.stopTime;
  if (!state || !isFinal(state) || typeof stop !== 'string' || Number.isNaN(Date.parse(stop))) {
    return undefined;
  }
  const ttl = (raw.spec as { ttl?: unknown } | undefined)?.ttl;
  let ms: number;
  try {
    ms = parseDuration(typeof ttl === 'string' || typeof ttl === 'number' ? String(ttl) : '');
  } catch {
    ms = parseDuration(sessionDefaults.ttl);
  }
  return Date.parse(stop) + ms;
}
