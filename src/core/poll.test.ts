import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { FathomError } from './errors.js';
import { isUnavailable, pollUntil } from './poll.js';

const down = (): FathomError =>
  new FathomError('FATHOM_KUBE_UNREACHABLE', 'getting Session s: cannot reach the API server');

/** Answers from a script: a value, undefined (not yet), or an error to throw. */
function scripted(steps: readonly (string | undefined | Error)[]) {
  let i = 0;
  return {
    calls: () => i,
    attempt: (): Promise<string | undefined> => {
      const step = steps[Math.min(i++, steps.length - 1)];
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
    },
  };
}

describe('pollUntil', () => {
  it('asks every everyMs until it gets a value', async () => {
    const clock = new ManualClock();
    const s = scripted([undefined, undefined, 'done']);
    const warned: string[] = [];
    const p = pollUntil({ clock, everyMs: 200, warn: (l) => warned.push(l) }, s.attempt);
    await clock.whenSleeping();
    expect(clock.pendingDelays()).toEqual([200]);
    await clock.advance(400);
    await expect(p).resolves.toBe('done');
    expect(s.calls()).toBe(3);
    expect(warned).toEqual([]);
  });

  it('waits out an unavailable dependency: one warning, doubling pauses up to the cap, one line when it answers', async () => {
    const clock = new ManualClock();
    const s = scripted([down(), down(), down(), down(), down(), undefined, 'done']);
    const warned: string[] = [];
    const delays: number[] = [];
    const p = pollUntil(
      { clock, everyMs: 200, maxBackoffMs: 1_000, warn: (l) => warned.push(l) },
      s.attempt,
    );
    for (let i = 0; i < 6; i++) {
      await clock.whenSleeping();
      delays.push(...clock.pendingDelays());
      await clock.advance(clock.pendingDelays()[0]!);
    }
    await expect(p).resolves.toBe('done');
    expect(delays).toEqual([200, 400, 800, 1_000, 1_000, 200]);
    expect(warned).toEqual([
      'warning: getting Session s: cannot reach the API server; retrying\n',
      'it answered again; going on\n',
    ]);
  });

  it('ends with the last error once a streak lasts giveUpAfterMs', async () => {
    const clock = new ManualClock();
    const s = scripted([down()]);
    const p = pollUntil(
      { clock, everyMs: 100, giveUpAfterMs: 1_000, maxBackoffMs: 300, warn: () => {} },
      s.attempt,
    );
    const settled = p.catch((err: unknown) => err);
    await clock.runUntil(() => clock.now() - Date.UTC(2026, 0, 1) > 1_500, 100, 2_000);
    const err = await settled;
    expect(isUnavailable(err)).toBe(true);
    // 0, 100, 300, 600, 900 then 1,200 ms: the attempt at or past 1 s is the last.
    expect(s.calls()).toBe(6);
  });

  it('any other failure ends the poll at once', async () => {
    const clock = new ManualClock();
    const bad = new FathomError('FATHOM_KUBE_FORBIDDEN', 'getting Session s: Forbidden');
    const s = scripted([bad]);
    await expect(pollUntil({ clock, everyMs: 100, warn: () => {} }, s.attempt)).rejects.toBe(bad);
    expect(s.calls()).toBe(1);
    expect(isUnavailable(bad)).toBe(false);
    expect(isUnavailable(new Error('plain'))).toBe(false);
  });
});
