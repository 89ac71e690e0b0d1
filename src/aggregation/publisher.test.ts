import { describe, expect, it } from 'vitest';
import { flushMicrotasks, ManualClock } from '../core/clock.js';
import { CoalescingPublisher } from './publisher.js';
import type { RunStatus } from './types.js';

const snapshot = (id: string): RunStatus => ({
  plugins: [],
  status: 'running',
  'tar-info': { name: id, created: '', sha256: '', size: 0 },
});

type Step = readonly ['push' | 'flush', number, string];

/** Plays `steps` (operation, time in ms from the start, snapshot id); returns what was written when. */
async function play(steps: readonly Step[], minIntervalMs = 1000): Promise<string[]> {
  const clock = new ManualClock(0);
  const written: string[] = [];
  const publisher = new CoalescingPublisher(
    (s) => {
      written.push(`${s['tar-info'].name}@${clock.now()}`);
      return Promise.resolve();
    },
    { clock, minIntervalMs, onError: (err) => expect.fail(String(err)) },
  );
  for (const [op, at, id] of steps) {
    await clock.advance(at - clock.now());
    void publisher[op](snapshot(id));
    await flushMicrotasks();
  }
  await clock.advance(10 * minIntervalMs);
  return written;
}

describe('CoalescingPublisher', () => {
  it.each<[string, Step[], string[], number?]>([
    ['writes the first snapshot at once', [['push', 0, 'a']], ['a@0']],
    [
      'holds later ones to one write per interval, the newest',
      [
        ['push', 0, 'a'],
        ['push', 10, 'b'],
        ['push', 500, 'c'],
        ['push', 999, 'd'],
      ],
      ['a@0', 'd@1000'],
    ],
    [
      'writes at once when the interval has passed already',
      [
        ['push', 0, 'a'],
        ['push', 2500, 'b'],
        ['push', 2600, 'c'],
      ],
      ['a@0', 'b@2500', 'c@3500'],
    ],
    [
      'lets a flush skip the wait, and the newest still wins',
      [
        ['push', 0, 'a'],
        ['push', 100, 'b'],
        ['flush', 200, 'c'],
        ['push', 300, 'd'],
      ],
      ['a@0', 'c@200', 'd@1200'],
    ],
    ['writes a lone final flush at once', [['flush', 0, 'z']], ['z@0']],
    [
      'writes every snapshot when the interval is 0',
      [
        ['push', 0, 'a'],
        ['push', 0, 'b'],
        ['push', 1, 'c'],
      ],
      ['a@0', 'b@0', 'c@1'],
      0,
    ],
  ])('%s', async (_name, steps, expected, interval = 1000) => {
    expect(await play(steps, interval)).toEqual(expected);
  });

  it('writes at most one snapshot per interval under a stream of pushes, ending with the newest', async () => {
    const steps: Step[] = Array.from({ length: 500 }, (_, i) => ['push', i * 17, `s${i}`]);
    const written = await play(steps);
    const times = written.map((w) => Number(w.split('@')[1]));
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(written.length).toBeLessThanOrEqual(Math.floor((499 * 17) / 1000) + 2);
    expect(written.at(-1)).toMatch(/^s499@/);
  });

  it('resolves a push once that snapshot or a newer one is written', async () => {
    const clock = new ManualClock(0);
    const written: string[] = [];
    const publisher = new CoalescingPublisher(
      (s) => {
        written.push(s['tar-info'].name);
        return Promise.resolve();
      },
      { clock, minIntervalMs: 1000, onError: () => undefined },
    );
    await publisher.push(snapshot('a'));
    let done = false;
    const b = publisher.push(snapshot('b')).then(() => (done = true));
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    await b;
    expect(written).toEqual(['a', 'b']);
  });

  it('reports a failed write and goes on with the next snapshot', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const written: string[] = [];
    const publisher = new CoalescingPublisher(
      (s) => {
        if (s['tar-info'].name === 'a') return Promise.reject(new Error('disk full'));
        written.push(s['tar-info'].name);
        return Promise.resolve();
      },
      { clock, minIntervalMs: 1000, onError: (err) => errors.push(err) },
    );
    await publisher.push(snapshot('a'));
    const b = publisher.push(snapshot('b'));
    await clock.advance(1000);
    await b;
    expect(errors).toEqual([new Error('disk full')]);
    expect(written).toEqual(['b']);
  });
});
