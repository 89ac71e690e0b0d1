import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, ExponentialBackoff } from './informer.js';

describe('ExponentialBackoff', () => {
  it('doubles from 1 s up to 30 s and starts over after a success', () => {
    const b = new ExponentialBackoff(DEFAULT_BACKOFF);
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    b.reset();
    expect([b.next(), b.next()]).toEqual([1000, 2000]);
  });

  it('takes other limits', () => {
    const b = new ExponentialBackoff({ initialMs: 100, maxMs: 250, factor: 3 });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 250, 250]);
  });
});
