import { describe, expect, it } from 'vitest';
import { AsyncQueue } from './queue.js';

describe('AsyncQueue', () => {
  it('delivers items pushed before and after the consumer starts, then ends', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const n of q) seen.push(n);
    })();
    q.push(2);
    q.push(3);
    q.end();
    q.push(4); // ignored after end
    await consumer;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('stops waiting when the signal aborts', async () => {
    const q = new AsyncQueue<string>();
    const ac = new AbortController();
    const consumer = (async () => {
      const got: string[] = [];
      for await (const s of q.drain(ac.signal)) got.push(s);
      return got;
    })();
    q.push('a');
    await new Promise((r) => setImmediate(r));
    ac.abort();
    expect(await consumer).toEqual(['a']);
  });
});
