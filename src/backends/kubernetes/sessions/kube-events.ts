/**
 * A session event as a core/v1 Kubernetes Event on its Session, so `kubectl describe session`
 * and `kubectl get events` show the queue, provisioning and failures next to everything else.
 * The store keeps the record; these are a mirror that the API server expires on its own. Pure.
 */
import { randomBytes } from 'node:crypto';
import type { SessionEvent } from '../../../sessions/index.js';
import type { KubeObject } from '../api/types.js';
import { microTime } from '../lease.js';
import { SESSION_CONTROLLER, SESSION_GROUP, SESSION_VERSION } from './names.js';

/** The API refuses longer messages on Events that carry an eventTime. */
export const EVENT_MESSAGE_BYTES = 1024;

/** The Session an Event is about, as the API server names it. */
export interface InvolvedSession {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion?: string;
}

/** At most `max` bytes of UTF-8, cut at a character, marked when cut. */
export function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let used = Buffer.byteLength('…');
  for (const ch of text) {
    used += Buffer.byteLength(ch);
    if (used > max) break;
    out += ch;
  }
  return `${out}…`;
}

/** Whole seconds, as metav1.Time is written. */
const seconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function kubeEventFor(
  event: SessionEvent,
  involved: InvolvedSession,
  instance: string,
  suffix: string = randomBytes(8).toString('hex'),
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.name}.${suffix}`, namespace: involved.namespace },
    involvedObject: {
      apiVersion: `${SESSION_GROUP}/${SESSION_VERSION}`,
      kind: 'Session',
      name: involved.name,
      namespace: involved.namespace,
      uid: involved.uid,
      ...(involved.resourceVersion ? { resourceVersion: involved.resourceVersion } : {}),
    },
    reason: event.reason,
    message: cutBytes(event.message, EVENT_MESSAGE_BYTES),
    type: event.kind === 'errored' ? 'Warning' : 'Normal',
    // The original's event kinds (queued, accepted, ...) are what happened: the action.
    action: event.kind,
    source: { component: SESSION_CONTROLLER },
    reportingComponent: SESSION_CONTROLLER,
    reportingInstance: cutBytes(instance, 128),
    firstTimestamp: seconds(event.time),
    lastTimestamp: seconds(event.time),
    eventTime: microTime(event.time),
    count: 1,
  };
}
