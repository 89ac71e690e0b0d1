import { describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../src/core/clock.js';
import { StatusWriter } from './writer.js';

/** A write the test finishes by hand, recording the state each write sent. */
function gatedWrites() {
  const sent: number[] = [];
  const gates: ((r: 'ok' | 'gone' | Error) => void)[] = [];
  let state = 0;
  const write = (): Promise<'ok' | 'gone'> => {
    sent.push(state);
    return new Promise((resolve, reject) =>
      gates.push((r) => (r instanceof Error ? reject(r) : resolve(r))),
    );
  };
  return {
    sent,
    set: (s: number) => (state = s),
    finish: async (r: 'ok' | 'gone' | Error = 'ok') => {
      gates.shift()!(r);
      await flushMicrotasks();
    },
    write,
  };
}

describe('StatusWriter', () => {
  const retry = { initialMs: 100, maxMs: 1000 };

  it('keeps one write in flight and sends the latest state next', async () => {
    const w = gatedWrites();
    const writer = new StatusWriter(w.write, new ManualClock(), retry, () => undefined);
    w.set(1);
    writer.request();
    for (const s of [2, 3, 4]) {
      w.set(s);
      writer.request();
    }
    await flushMicrotasks();
    expect(w.sent).toEqual([1]);
    await w.finish();
    expect(w.sent).toEqual([1, 4]);
    const flushed = writer.flush();
    await w.finish();
    await w.finish();
    await flushed;
    expect(w.sent).toEqual([1, 4, 4]);
  });

  it('retries a failed write after a backoff on the clock', async () => {
    const w = gatedWrites();
    const clock = new ManualClock();
    const lines: string[] = [];
    const writer = new StatusWriter(w.write, clock, retry, (l) => lines.push(l));
    writer.request();
    await w.finish(new Error('apiserver down'));
    expect(lines).toEqual(['status: apiserver down; retrying in 100 ms']);
    expect(clock.pendingDelays()).toEqual([100]);
    expect(w.sent).toHaveLength(1);
    await clock.advance(100);
    expect(w.sent).toHaveLength(2);
    await w.finish();
    expect(clock.pending).toBe(0);
  });

  it('stops for good once the pod is gone, or when switched off', async () => {
    const w = gatedWrites();
    const writer = new StatusWriter(w.write, new ManualClock(), retry, () => undefined);
    writer.request();
    await w.finish('gone');
    expect(writer.isOff).toBe(true);
    writer.request();
    await writer.flush();
    expect(w.sent).toHaveLength(1);

    const w2 = gatedWrites();
    const off = new StatusWriter(w2.write, new ManualClock(), retry, () => undefined);
    off.off();
    off.request();
    await flushMicrotasks();
    expect(w2.sent).toEqual([]);
  });
});
