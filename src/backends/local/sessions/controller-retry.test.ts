/**
 * A controller that wins the lease but cannot open what it controls (its store did not answer)
 * hands the lease back and campaigns again after a pause, instead of dying: the next attempt
 * that opens leads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ManualClock } from '../../../core/clock.js';
import { FathomError } from '../../../core/errors.js';
import { runControllerDaemon } from '../../../sessions/index.js';
import { LocalLeaseStore } from '../lease.js';
import { openSite, sessionLease } from './controller-process.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-controller-retry-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

it('a leader that cannot open its site steps down, then leads after a pause', async () => {
  const clock = new ManualClock(1_000_000);
  const lease = new LocalLeaseStore(home, clock);
  const logged: string[] = [];
  const log = {
    info: (_: object, m: string) => void logged.push(m),
    error: (f: object, m: string) => void logged.push(`${m}: ${JSON.stringify(f)}`),
  };
  let opened = 0;
  const stop = new AbortController();
  const daemon = runControllerDaemon({
    clock,
    signal: stop.signal,
    log,
    identity: 'me',
    executors: 1,
    labelKey: 'pool',
    lease: { store: lease, name: sessionLease, durationMs: 10_000, retryMs: 1_000 },
    open: () => {
      if (opened++ === 0)
        return Promise.reject(
          new FathomError('FATHOM_KUBE_UNREACHABLE', 'listing nodes: ECONNRESET'),
        );
      return openSite({ home, clock, labelKey: 'pool' });
    },
  });
  await clock.whenSleeping();
  expect(logged).toContain(
    'cannot start the controller; stepping down: {"error":"listing nodes: ECONNRESET"}',
  );
  expect((await lease.get(sessionLease))?.record.holder).toBe('');
  expect(clock.pendingDelays()).toEqual([1_000]);

  await clock.advance(1_000);
  await clock.whenSleeping(2); // the elector's renewal and the controller's loop
  expect(opened).toBe(2);
  expect(logged.filter((m) => m === 'leading')).toHaveLength(1);
  expect((await lease.get(sessionLease))?.record.holder).toBe('me');

  stop.abort();
  await daemon;
  expect(logged.at(-1)).toBe('stopped');
  expect((await lease.get(sessionLease))?.record.holder).toBe('');
});
