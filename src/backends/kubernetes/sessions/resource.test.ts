import { describe, expect, it } from 'vitest';
import { isFathomError } from '../../../core/errors.js';
import { nextStatus, parseSessionText, type SessionStatus } from '../../../sessions/index.js';
import { cutBytes, kubeEventFor } from './kube-events.js';
import {
  boundedStatus,
  decodeSessionResource,
  expiresAt,
  sessionResource,
  type SessionResource,
} from './resource.js';

const yaml = `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: {name: load, labels: {team: a}}
spec:
  timeout: 5m
  components:
    - {name: srv, kind: server, pool: big, replicas: 2, command: [serve], image: img, port: 9000}
    - {name: drv, kind: driver, pool: small, command: [drive], image: img, env: {A: b}}
`;
const session = parseSessionText(yaml, 'load.yaml', { requireImage: true })[0]!;
const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 123);

/** The CR as the API server gives it back: what it sets on create added. */
function served(r: SessionResource, extra: Partial<SessionResource> = {}): SessionResource {
  return {
    ...structuredClone(r),
    metadata: {
      ...structuredClone(r.metadata),
      uid: 'u-1',
      resourceVersion: '42',
      creationTimestamp: '2026-01-01T11:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
    } as SessionResource['metadata'],
    ...extra,
  };
}

describe('Session custom resources', () => {
  it('round-trips a session and its place in the queue, frozen', () => {
    const cr = sessionResource(session, t0, 'ns');
    expect(cr.metadata).toEqual({
      name: 'load',
      namespace: 'ns',
      labels: { team: 'a' },
      annotations: { 'fathom.dev/submitted-at': String(t0) },
    });
    expect(cr.status).toBeUndefined(); // the status subresource writes it
    const status = nextStatus(undefined, 'Queued', 'Submitted', 'waiting', t0);
    const d = decodeSessionResource(served(cr, { status }), 'ns');
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.stored.submittedAt).toBe(t0);
    expect(d.stored.session).toEqual({
      ...session,
      metadata: { ...session.metadata, namespace: 'ns' },
      status,
    });
    expect(Object.isFrozen(d.stored.session.spec.components[0])).toBe(true);
    expect(Object.isFrozen(d.stored.session.status!.conditions)).toBe(true);
    expect([d.uid, d.resourceVersion]).toEqual(['u-1', '42']);
  });

  it('places a CR without the annotation (kubectl) at its creation time', () => {
    const cr = sessionResource(session, t0, 'ns');
    delete cr.metadata.annotations;
    const d = decodeSessionResource(served(cr), 'ns');
    expect(d.ok && d.stored.submittedAt).toBe(Date.UTC(2026, 0, 1, 11));
  });

  it('refuses what the parser refuses, naming the field, without lines of a JSON rendering', () => {
    const cr = sessionResource(session, t0, 'ns');
    const spec = structuredClone(session.spec) as unknown as { components: { kind: string }[] };
    spec.components[0]!.kind = 'driver';
    const d = decodeSessionResource(served({ ...cr, spec }), 'ns');
    expect(d).toMatchObject({
      ok: false,
      name: 'load',
      message: 'Session ns/load: spec.components[1].kind is a second driver (components[0] is one)',
    });
    const noImage = structuredClone(session.spec) as unknown as {
      components: { image?: string }[];
    };
    delete noImage.components[1]!.image;
    const e = decodeSessionResource(served({ ...cr, spec: noImage }), 'ns');
    expect(!e.ok && e.message).toBe(
      'Session ns/load: spec.components[1] needs "image" on Kubernetes',
    );
  });

  it('refuses a bad status or mark, keeping the state it names', () => {
    const cr = sessionResource(session, t0, 'ns');
    const status = { ...nextStatus(undefined, 'Running', 'Running', 'ok', t0), conditions: 'x' };
    const d = decodeSessionResource(served(cr, { status }), 'ns');
    expect(d).toMatchObject({
      ok: false,
      state: 'Running',
      message: expect.stringMatching(/^Session ns\/load: status\.conditions must be/),
    });
    cr.metadata.annotations = { 'fathom.dev/submitted-at': 'yesterday' };
    const m = decodeSessionResource(served(cr), 'ns');
    expect(!m.ok && m.message).toMatch(
      /annotations\["fathom.dev\/submitted-at"\] must be milliseconds/,
    );
  });

  it('throws only for what the API server always sets', () => {
    const cr = sessionResource(session, t0, 'ns');
    expect(() => decodeSessionResource(cr, 'ns')).toThrow(
      expect.objectContaining({
        code: 'FATHOM_STATE_INVALID',
        message: expect.stringMatching(/uid/),
      }),
    );
  });

  it('refuses a namespace other than the store’s, and a session over the size limit', () => {
    const other = { ...session, metadata: { ...session.metadata, namespace: 'x' } };
    expect(() => sessionResource(other, t0, 'ns')).toThrow(/metadata.namespace is "x"/);
    const c = session.spec.components[0]!;
    const big = {
      ...session,
      spec: { ...session.spec, components: [{ ...c, args: ['x'.repeat(600 * 1024)] }] },
    };
    const err = (() => {
      try {
        sessionResource(big, t0, 'ns');
      } catch (e) {
        return e;
      }
    })();
    expect(isFathomError(err, 'FATHOM_SESSION_INVALID')).toBe(true);
    expect((err as Error).message).toBe('session load: is over 512 KiB as JSON');
    const d = decodeSessionResource(
      served({ ...sessionResource(session, t0, 'ns'), spec: big.spec }),
      'ns',
    );
    expect(!d.ok && d.message).toBe('Session ns/load: is over 512 KiB as JSON');
  });

  it('cuts long status messages to what the CRD allows', () => {
    const s: SessionStatus = nextStatus(
      undefined,
      'Errored',
      'ContainerError',
      'y'.repeat(9000),
      t0,
    );
    const b = boundedStatus(s);
    expect(b.message).toHaveLength(8192);
    expect(b.message.endsWith('…')).toBe(true);
    expect(b.conditions.find((c) => c.type === 'Stalled')!.message).toHaveLength(8192);
  });

  it('lets an ended invalid CR go after its ttl, the default ttl when its own is bad', () => {
    const cr = served(sessionResource(session, t0, 'ns'));
    const stopped = nextStatus(undefined, 'Errored', 'InvalidSpec', 'bad', t0);
    expect(expiresAt({ ...cr, status: stopped })).toBe(t0 + 3_600_000);
    expect(expiresAt({ ...cr, spec: { ttl: '10s' }, status: stopped })).toBe(t0 + 10_000);
    expect(expiresAt({ ...cr, spec: { ttl: 'soon' }, status: stopped })).toBe(t0 + 3_600_000);
    expect(expiresAt({ ...cr, status: nextStatus(undefined, 'Queued', 'Submitted', '', t0) })).toBe(
      undefined,
    );
  });
});

describe('Kubernetes Events of sessions', () => {
  const involved = { name: 'load', namespace: 'ns', uid: 'u-1' };

  it('names the Session, its kind of event and the times as the API parses them', () => {
    const e = kubeEventFor(
      { session: 'load', kind: 'errored', time: t0, reason: 'PodsMissing', message: 'gone' },
      involved,
      'pod-a',
      'abc',
    );
    expect(e).toMatchObject({
      metadata: { name: 'load.abc', namespace: 'ns' },
      involvedObject: { apiVersion: 'fathom.dev/v1alpha1', kind: 'Session', ...involved },
      reason: 'PodsMissing',
      type: 'Warning',
      action: 'errored',
      reportingComponent: 'fathom-session-controller',
      reportingInstance: 'pod-a',
      source: { component: 'fathom-session-controller' },
      firstTimestamp: '2026-01-01T12:00:00Z',
      eventTime: '2026-01-01T12:00:00.123000Z',
      count: 1,
    });
    const ok = kubeEventFor(
      { ...{ session: 'load', kind: 'queued', time: t0, reason: 'Submitted', message: '' } },
      involved,
      'p',
    );
    expect(ok.type).toBe('Normal');
    expect(ok.metadata.name).toMatch(/^load\.[0-9a-f]{16}$/);
  });

  it('cuts a message to the API limit at a character boundary', () => {
    expect(cutBytes('short', 1024)).toBe('short');
    const cut = cutBytes('é'.repeat(1000), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut.endsWith('é…')).toBe(true);
  });
});
