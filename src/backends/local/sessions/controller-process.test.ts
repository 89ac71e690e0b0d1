/**
 * The controller's lease on this host: a holder whose process is gone (a SIGKILLed controller)
 * is taken over at once; a live holder, or one of another host, is left alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/clock.js';
import type { LeaseRecord } from '../../../core/lease.js';
import { LocalLeaseStore } from '../lease.js';
import { sessionLease, takeOverDeadHolder } from './controller-process.js';

let home: string;
const clock = new ManualClock(1_000_000);
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-session-lease-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

const held = (holder: string): LeaseRecord => ({
  holder,
  address: '',
  durationMs: 10_000,
  acquiredAt: clock.now(),
  renewedAt: clock.now(),
  transitions: 3,
});

/** A pid that surely belonged to a process of this host that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

describe('takeOverDeadHolder', () => {
  it('releases a lease held by a dead process of this host, keeping the term count', async () => {
    const store = new LocalLeaseStore(home, clock);
    await store.create(sessionLease, held(`${hostname()}-${deadPid()}`));
    expect(await takeOverDeadHolder(store, sessionLease, clock.now())).toBe(true);
    const after = (await store.get(sessionLease))!.record;
    expect(after).toMatchObject({ holder: '', transitions: 3 });
  });

  it('leaves a live holder, another host, and a missing lease alone', async () => {
    const store = new LocalLeaseStore(home, clock);
    expect(await takeOverDeadHolder(store, sessionLease, clock.now())).toBe(false);
    await store.create(sessionLease, held(`${hostname()}-${process.pid}`));
    expect(await takeOverDeadHolder(store, sessionLease, clock.now())).toBe(false);
    expect((await store.get(sessionLease))!.record.holder).toBe(`${hostname()}-${process.pid}`);
    const other = new LocalLeaseStore(join(home, 'b'), clock);
    await other.create(sessionLease, held(`elsewhere-${deadPid()}`));
    expect(await takeOverDeadHolder(other, sessionLease, clock.now())).toBe(false);
  });
});
