/**
 * The local ClusterReader's `Session` kind, over the real SQLite store: NotFound without a
 * state.db (and none is created), each state read by the kstatus engine, the namespace rule,
 * and a watch on the manual clock that ends once the session succeeds.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { DurableStore } from '../../core/store.js';
import {
  nextStatus,
  parseSessionText,
  sessionStoreOver,
  type Session,
  type SessionReason,
  type SessionState,
  type SessionStore,
} from '../../sessions/index.js';
import { compute } from '../../status/compute.js';
import { createStatusPoller } from '../../status/poller.js';
import type { KubeObject } from '../../status/types.js';
import { watchStatus, type WatchUpdate } from '../../status/watch.js';
import { openLocalStore, stateDbOf } from './durable-store.js';
import { createLocalClusterReader, type LocalClusterReader } from './reader.js';

const SESSION = { group: 'fathom.dev', kind: 'Session' };
const t0 = Date.parse('2026-03-01T00:00:00Z');

let home: string;
let raw: DurableStore | undefined;
let reader: LocalClusterReader;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-reader-sessions-'));
  reader = createLocalClusterReader({ home });
});
afterEach(async () => {
  reader.close();
  await raw?.close();
  raw = undefined;
  await rm(home, { recursive: true, force: true });
});

function store(): SessionStore {
  raw ??= openLocalStore(home);
  return sessionStoreOver(raw);
}

function session(name: string, namespace?: string): Session {
  const ns = namespace ? `, namespace: ${namespace}` : '';
  const text = `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: { name: ${name}${ns}, labels: { team: a } }
spec:
  components:
    - { name: driver, kind: driver, pool: drivers, command: [./driver] }
`;
  return parseSessionText(text, `${name}.yaml`)[0]!;
}

async function submit(name: string, namespace?: string): Promise<void> {
  const s = session(name, namespace);
  const status = nextStatus(undefined, 'Queued', 'Submitted', 'waiting for nodes', t0);
  expect(await store().create({ session: { ...s, status }, submittedAt: t0 })).toBe(true);
}

async function moveTo(name: string, state: SessionState, reason: SessionReason, message: string) {
  await store().update(name, (s) => ({
    ...s,
    status: nextStatus(s.status, state, reason, message, t0 + 1000),
  }));
}

const id = (name: string, namespace = 'fathom') => ({ ...SESSION, namespace, name });
const verdict = (o: KubeObject | undefined) => {
  const r = compute(o!);
  return `${r.status}: ${r.message}`;
};

describe('the local ClusterReader: Session', () => {
  it('is a namespaced kind; NotFound while there is no state.db, which it never creates', async () => {
    expect(await reader.scopeOf(SESSION)).toBe('Namespaced');
    expect(await reader.get(id('lt'))).toBeUndefined();
    expect(await reader.list(SESSION, '')).toEqual([]);
    expect(existsSync(stateDbOf(home))).toBe(false);
  });

  it('serves the stored Session with its status and conditions, in namespace fathom', async () => {
    await submit('lt');
    const o = await reader.get(id('lt'));
    expect(o).toMatchObject({
      apiVersion: 'fathom.dev/v1alpha1',
      kind: 'Session',
      metadata: {
        name: 'lt',
        namespace: 'fathom',
        labels: { team: 'a' },
        creationTimestamp: '2026-03-01T00:00:00Z',
      },
      spec: { components: [{ name: 'driver', pool: 'drivers' }] },
      status: { state: 'Queued', reason: 'Submitted' },
    });
    const types = (o!.status as { conditions: { type: string; status: string }[] }).conditions;
    expect(types.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Ready=False',
      'Reconciling=True',
      'Stalled=False',
    ]);
    // Any other namespace does not hold it.
    expect(await reader.get(id('lt', 'default'))).toBeUndefined();
  });

  it.each<[SessionState, SessionReason, string, string]>([
    ['Queued', 'Submitted', 'waiting for nodes', 'InProgress: waiting for nodes'],
    ['Initializing', 'Provisioning', 'placing servers', 'InProgress: placing servers'],
    ['Running', 'Running', 'driver runs', 'InProgress: driver runs'],
    ['Succeeded', 'DriverSucceeded', 'driver exited 0', 'Current: Resource is Ready'],
    ['Errored', 'ContainerError', 'driver exited 3', 'Failed: driver exited 3'],
    ['Errored', 'TimeoutErrored', 'over 1m', 'Failed: over 1m'],
    ['Cancelled', 'Cancelled', 'cancelled by the user', 'Failed: cancelled by the user'],
  ])('%s (%s) reads as kstatus says', async (state, reason, message, want) => {
    await submit('lt');
    if (state !== 'Queued') await moveTo('lt', state, reason, message);
    expect(verdict(await reader.get(id('lt')))).toBe(want);
  });

  it('a session that names a namespace is served there only; "" lists every namespace', async () => {
    await submit('mine', 'team-a');
    await submit('plain');
    expect(await reader.get(id('mine'))).toBeUndefined();
    expect(await reader.get(id('mine', 'team-a'))).toMatchObject({
      metadata: { namespace: 'team-a' },
    });
    const names = (await reader.list(SESSION, '')).map(
      (o) =>
        `${(o.metadata as { namespace: string; name: string }).namespace}/${(o.metadata as { name: string }).name}`,
    );
    expect(names).toEqual(['team-a/mine', 'fathom/plain']);
    expect(await reader.list(SESSION, 'fathom', { matchLabels: { team: 'b' } })).toEqual([]);
    expect(await reader.list(SESSION, 'fathom', { matchLabels: { team: 'a' } })).toHaveLength(1);
  });

  it('a state.db that is not a database is an error naming the file', async () => {
    await writeFile(stateDbOf(home), 'not sqlite at all, just text that is long enough'.repeat(4));
    await expect(reader.get(id('lt'))).rejects.toMatchObject({
      code: 'FATHOM_STATE_INVALID',
      message: expect.stringContaining(stateDbOf(home)) as string,
    });
  });

  it('a watch started before the session exists ends once it succeeds', async () => {
    const clock = new ManualClock(t0);
    const updates: WatchUpdate[] = [];
    const outcome = watchStatus(
      createStatusPoller(reader),
      [id('lt')],
      { until: 'current', pollInterval: 1000, clock },
      (u) => updates.push(u),
    );
    const parked = () => Promise.race([clock.whenSleeping(), outcome]);
    await parked();
    await submit('lt');
    await clock.advance(1000);
    await parked();
    await moveTo('lt', 'Running', 'Running', 'driver runs');
    await clock.advance(1000);
    await parked();
    await moveTo('lt', 'Succeeded', 'DriverSucceeded', 'driver exited 0');
    await clock.advance(1000);
    expect(await outcome).toMatchObject({ end: 'reached', aggregate: 'Current' });
    expect(
      updates.flatMap((u) =>
        u.event.type === 'ResourceUpdate'
          ? [`${u.event.resource.status} ${u.event.resource.message}`]
          : [],
      ),
    ).toEqual([
      'NotFound Resource not found',
      'InProgress waiting for nodes',
      'InProgress driver runs',
      'Current Resource is Ready',
    ]);
  });
});
