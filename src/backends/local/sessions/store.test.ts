/** The sessions' store over the real SQLite store of a temp home. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../../core/store.js';
import type { SessionStore } from '../../../sessions/index.js';
import { nextStatus, sessionStoreLimits, sessionStoreOver } from '../../../sessions/index.js';
import { openLocalStore } from '../durable-store.js';
import { driverCommand, sessionOf } from './test-helpers.js';

let home: string;
const opened: DurableStore[] = [];
const open = (): { raw: DurableStore; store: SessionStore } => {
  const raw = openLocalStore(home);
  opened.push(raw);
  return { raw, store: sessionStoreOver(raw) };
};
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-session-store-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(home, { recursive: true, force: true });
});

const t0 = Date.parse('2026-03-01T00:00:00Z');
const session = (name: string) =>
  sessionOf(name, [{ name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0) }]);

describe('the sessions store', () => {
  it('keeps a session with its status for another handle, validated and frozen', async () => {
    const { store } = open();
    const s = { ...session('a'), status: nextStatus(undefined, 'Queued', 'Submitted', 'q', t0) };
    expect(await store.create({ session: s, submittedAt: t0 })).toBe(true);
    expect(await store.create({ session: s, submittedAt: t0 + 1 })).toBe(false);
    const back = await open().store.get('a');
    expect(back).toEqual({ session: s, submittedAt: t0 });
    expect(Object.isFrozen(back!.session.spec.components[0])).toBe(true);
    expect(await store.get('none')).toBeUndefined();
  });

  it('refuses a corrupt stored session with one line naming the key and the field', async () => {
    const { raw, store } = open();
    const bad = { session: { ...session('a'), spec: { components: 'x' } }, submittedAt: t0 };
    await raw.collection('sessions').create('a', bad);
    await expect(store.get('a')).rejects.toMatchObject({
      code: 'FATHOM_STATE_INVALID',
      message: expect.stringMatching(/sessions\/a: session\.spec\.components: must be array/),
    });
  });

  it('loses no update when writers race: each change applied once, on the latest value', async () => {
    const [x, y] = [open().store, open().store];
    await x.create({ session: session('a'), submittedAt: t0 });
    const bump = (st: SessionStore) =>
      st.update('a', (s) => ({ ...s, spec: { ...s.spec, priority: s.spec.priority + 1 } }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => bump(i % 2 ? x : y)));
    expect((await x.get('a'))?.session.spec.priority).toBe(10);
    // A change that declines writes nothing; a missing session gives undefined.
    expect((await x.update('a', () => undefined))?.spec.priority).toBe(10);
    expect(await x.update('none', (s) => s)).toBeUndefined();
  });

  it('keeps the latest events of a session, bounded', async () => {
    const { store } = open();
    const max = sessionStoreLimits.eventsPerSession;
    for (let i = 0; i < max + 5; i++) {
      await store.addEvent({
        session: 'a',
        kind: 'queued',
        time: t0 + i,
        reason: 'Submitted',
        message: `e${i}`,
      });
    }
    const events = await store.events('a');
    expect(events).toHaveLength(max);
    expect(events[0]!.message).toBe('e5');
    expect(events.at(-1)!.message).toBe(`e${max + 4}`);
    expect(await store.events('b')).toEqual([]);
  });

  it('holdings, logs and removal: a session goes with everything it kept', async () => {
    const { store } = open();
    await store.create({ session: session('a'), submittedAt: t0 });
    await store.hold('a', { drv: ['drv-0'] });
    await store.hold('b', { srv: ['srv-0', 'srv-1'] });
    const log = { session: 'a', workload: 'a-d-0', component: 'd', replica: 0, text: 'hi' };
    await store.saveLog({ ...log, truncated: 0 });
    expect([...(await open().store.holdings())]).toEqual([
      ['a', { drv: ['drv-0'] }],
      ['b', { srv: ['srv-0', 'srv-1'] }],
    ]);
    expect(await store.logs('a')).toEqual([{ ...log, truncated: 0 }]);
    await store.unhold('b');
    await store.remove('a');
    expect(await store.get('a')).toBeUndefined();
    expect(await store.logs('a')).toEqual([]);
    expect((await store.holdings()).size).toBe(0);
  });
});
