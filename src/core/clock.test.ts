import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('wakes sleepers in due order and only when time reaches them', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push('b'));
    void clock.sleep(100).then(() => woke.push('a'));
    await clock.advance(99);
    expect(woke).toEqual([]);
    expect(clock.pendingDelays()).toEqual([1, 201]);
    await clock.advance(201);
    expect(woke).toEqual(['a', 'b']);
    expect(clock.now()).toBe(300);
  });

  it('whenSleeping resolves once the code under test reaches its wait, not before', async () => {
    const clock = new ManualClock(0);
    let reached = false;
    const waiting = clock.whenSleeping(2).then(() => (reached = true));
    void clock.sleep(10);
    await Promise.resolve();
    expect(reached).toBe(false);
    void clock.sleep(20);
    await waiting;
    expect(reached).toBe(true);
    await clock.whenSleeping(1); // already true: resolves at once
  });

  it('runs chains of sleeps scheduled while advancing', async () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1000);
        at.push(clock.now());
      }
    })();
    await clock.advance(5000);
    expect(at).toEqual([1000, 2000, 3000]);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });
});

describe('systemClock', () => {
  it('rejects an already-aborted sleep at once', async () => {
    await expect(systemClock.sleep(60_000, AbortSignal.abort(new Error('gone')))).rejects.toThrow(
      'gone',
    );
  });
});
