import { describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../src/core/clock.js';
import { pollUntil } from './wait.js';

describe('pollUntil', () => {
  it('checks once per interval of clock time until the check gives a value', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const result = pollUntil('ready', () => Promise.resolve(++calls >= 3 ? 'yes' : undefined), {
      clock,
      intervalMs: 250,
      timeoutMs: 10_000,
    });
    await flushMicrotasks();
    expect(calls).toBe(1);
    expect(clock.pendingDelays()).toEqual([250]);
    await clock.advance(250);
    expect(calls).toBe(2);
    await clock.advance(250);
    await expect(result).resolves.toBe('yes');
    expect(calls).toBe(3);
  });

  it('times out on the clock and names the last error', async () => {
    const clock = new ManualClock();
    const result = pollUntil(
      'kube-apiserver /readyz',
      () => Promise.reject(new Error('connect ECONNREFUSED')),
      { clock, intervalMs: 1000, timeoutMs: 3000 },
    );
    let settled = false;
    const caught = result.catch((e: Error) => e).finally(() => (settled = true));
    const used = await clock.runUntil(() => settled, 1000, 10_000);
    expect(used).toBe(3000);
    const err = await caught;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'kube-apiserver /readyz: not done after 3 s (last error: connect ECONNREFUSED)',
    );
  });

  it('gives up at once when fatal reports a reason', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const component = { dead: undefined as string | undefined };
    const result = pollUntil('nodes Ready', () => Promise.resolve(void calls++), {
      clock,
      intervalMs: 100,
      timeoutMs: 60_000,
      fatal: () => Promise.resolve(component.dead),
    }).catch((e: Error) => e.message);
    await flushMicrotasks();
    component.dead = 'kwok exited (1)';
    await clock.advance(100);
    expect(await result).toBe('nodes Ready: kwok exited (1)');
    expect(calls).toBe(1);
  });
});
