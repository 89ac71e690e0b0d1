import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { isFathomError } from '../../core/errors.js';
import { elect, type Leadership } from '../../core/lease.js';
import { LocalLeaseStore } from './lease.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-lease-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

/** Moves time one retry at a time, each once the elector is waiting again (its I/O is real). */
async function retries(clock: ManualClock, n: number, retryMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await clock.whenSleeping(1);
    await clock.advance(retryMs);
  }
}

/** Pulls leadership changes from an elector as the test asks for them. */
function follow(events: AsyncIterable<Leadership>): () => Promise<Leadership> {
  const it = events[Symbol.asyncIterator]();
  return async () => (await it.next()).value as Leadership;
}

describe('local lease store', () => {
  it('creates once, and replaces only at the version read', async () => {
    const store = new LocalLeaseStore(home, new ManualClock());
    const record = {
      holder: 'a',
      address: '',
      durationMs: 1000,
      acquiredAt: 1,
      renewedAt: 1,
      transitions: 0,
    };
    expect(await store.create('dispatch', record)).toBe(true);
    expect(await store.create('dispatch', { ...record, holder: 'b' })).toBe(false);
    const read = (await store.get('dispatch'))!;
    expect(read.record.holder).toBe('a');
    expect(await store.update('dispatch', { ...record, renewedAt: 2 }, read.version)).toBe(true);
    // Someone else wrote meanwhile: the old version no longer wins.
    expect(await store.update('dispatch', { ...record, holder: 'b' }, read.version)).toBe(false);
    expect((await store.get('dispatch'))!.record).toMatchObject({ holder: 'a', renewedAt: 2 });
  });

  it('names the file and field of a corrupt lease', async () => {
    await mkdir(join(home, 'leases'), { recursive: true });
    await writeFile(join(home, 'leases', 'dispatch.json'), '{"holder": 3}');
    const err: unknown = await new LocalLeaseStore(home, new ManualClock())
      .get('dispatch')
      .catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_STATE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/dispatch\.json: holder: must be string$/);
  });
});

describe('leader election over the local store', () => {
  it('one leads, the other follows it; when the leader stops, the lease passes after its duration', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new LocalLeaseStore(home, clock);
    const options = { store, name: 'dispatch', clock, durationMs: 15_000, retryMs: 2_000 };
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = follow(elect({ ...options, identity: 'a', address: '10.0.0.1:5005' }, stopA.signal));
    expect(await a()).toEqual({ role: 'leader', term: 0 });
    const b = follow(elect({ ...options, identity: 'b' }, stopB.signal));
    expect(await b()).toEqual({
      role: 'follower',
      holder: 'a',
      address: '10.0.0.1:5005',
      term: 0,
    });

    stopA.abort(); // the leader goes away without a word
    let changed: Leadership | undefined;
    const next = b().then((l) => (changed = l));
    await retries(clock, 7, 2_000); // 14 s: still a's lease, b keeps following (nothing new)
    expect(changed).toBeUndefined();
    await retries(clock, 1, 2_000); // 16 s: expired
    expect(await next).toEqual({ role: 'leader', term: 1 }); // a new holder: a higher term
    expect((await store.get('dispatch'))!.record).toMatchObject({ holder: 'b', transitions: 1 });
    stopB.abort();
  });

  it('a leader that stops releases the lease: a peer takes it on its next try, with the next term', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new LocalLeaseStore(home, clock);
    const options = { store, name: 'dispatch', clock, durationMs: 15_000, retryMs: 2_000 };
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = elect({ ...options, identity: 'a', address: '10.0.0.1:5005' }, stopA.signal);
    const ai = a[Symbol.asyncIterator]();
    expect((await ai.next()).value).toEqual({ role: 'leader', term: 0 });
    const b = follow(elect({ ...options, identity: 'b' }, stopB.signal));
    expect(await b()).toMatchObject({ role: 'follower', holder: 'a' });

    const ended = ai.next(); // a waits for its next renewal
    await clock.whenSleeping(1);
    stopA.abort();
    expect((await ended).done).toBe(true); // released before the iterable ended
    expect((await store.get('dispatch'))!.record).toMatchObject({
      holder: '',
      address: '',
      transitions: 0,
    });
    const next = b();
    await retries(clock, 1, 2_000); // one retry, not the 15 s duration
    expect(await next).toEqual({ role: 'leader', term: 1 });
    stopB.abort();
  });

  it('a consumer leaving the loop releases too; a follower never writes on leaving', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new LocalLeaseStore(home, clock);
    const options = { store, name: 'dispatch', clock, durationMs: 15_000, retryMs: 2_000 };
    const never = new AbortController();
    for await (const l of elect({ ...options, identity: 'a' }, never.signal)) {
      expect(l).toEqual({ role: 'leader', term: 0 });
      break;
    }
    expect((await store.get('dispatch'))!.record.holder).toBe('');
    for await (const l of elect({ ...options, identity: 'b' }, never.signal)) {
      expect(l).toEqual({ role: 'leader', term: 1 });
      break;
    }
    const held = (await store.get('dispatch'))!;
    expect(held.record).toMatchObject({ holder: '', transitions: 1 });
    await store.update(
      'dispatch',
      { ...held.record, holder: 'b', renewedAt: clock.now() },
      held.version,
    );
    for await (const l of elect({ ...options, identity: 'c' }, never.signal)) {
      expect(l).toMatchObject({ role: 'follower', holder: 'b' });
      break;
    }
    expect((await store.get('dispatch'))!.record).toMatchObject({ holder: 'b', transitions: 1 });
  });

  it('a leader whose store stops answering steps down before its lease could pass on', async () => {
    const clock = new ManualClock(1_000_000);
    const real = new LocalLeaseStore(home, clock);
    let down = false;
    const store = {
      get: (n: string) => (down ? Promise.reject(new Error('store down')) : real.get(n)),
      create: real.create.bind(real),
      update: real.update.bind(real),
    };
    const stop = new AbortController();
    const a = follow(
      elect(
        { store, name: 'dispatch', clock, identity: 'a', durationMs: 15_000, retryMs: 2_000 },
        stop.signal,
      ),
    );
    expect(await a()).toEqual({ role: 'leader', term: 0 });
    down = true;
    let changed: Leadership | undefined;
    const next = a().then((l) => (changed = l));
    await retries(clock, 6, 2_000); // renewals fail, but the last one is still valid
    expect(changed).toBeUndefined();
    await retries(clock, 1, 2_000); // 14 s after it: one retry short of the 15 s duration
    expect(await next).toEqual({ role: 'unknown', error: 'store down' });
    stop.abort();
  });
});
