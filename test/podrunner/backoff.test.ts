import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { Backoff, backoffDelay } from './backoff.js';

describe('backoff', () => {
  const policy = { initialMs: 100, maxMs: 1000 };

  it('doubles from the initial delay up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 60].map((n) => backoffDelay(policy, n))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('sleeps on the injected clock, grows with each failure and starts over after reset', async () => {
    const clock = new ManualClock();
    const b = new Backoff(clock, policy);
    let woke = 0;
    const wait = (): Promise<void> => b.wait().then(() => void woke++);

    const first = wait();
    expect(clock.pendingDelays()).toEqual([100]);
    await clock.advance(99);
    expect(woke).toBe(0);
    await clock.advance(1);
    await first;
    expect(woke).toBe(1);

    const second = wait();
    expect(clock.pendingDelays()).toEqual([200]);
    await clock.advance(200);
    await second;
    expect(b.failures).toBe(2);

    b.reset();
    void wait();
    expect(clock.pendingDelays()).toEqual([100]);
    await clock.advance(100);
  });

  it('stops waiting when aborted', async () => {
    const clock = new ManualClock();
    const b = new Backoff(clock, policy);
    const abort = new AbortController();
    const waiting = b.wait(abort.signal);
    abort.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    expect(clock.pending).toBe(0);
  });
});
