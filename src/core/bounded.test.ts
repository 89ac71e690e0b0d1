import { describe, expect, it } from 'vitest';
import { jsonSize } from './bounded.js';

describe('jsonSize', () => {
  it('is the size of JSON.stringify(value, null, 2)', () => {
    const values: unknown[] = [
      {},
      [],
      'é"\n',
      { a: [1, true, null, { b: 'c' }], 'k"y': [] },
      [[[]], { x: { y: { z: 'deep' } } }],
    ];
    for (const v of values) {
      const exact = Buffer.byteLength(JSON.stringify(v, null, 2));
      const size = jsonSize(v, Infinity, 64);
      expect(size).toBe(exact);
    }
  });

  it('stops at the budget or the depth', () => {
    expect(jsonSize({ a: 'x'.repeat(100) }, 50, 64)).toBe('bytes');
    expect(jsonSize([[[1]]], Infinity, 2)).toBe('depth');
    expect(jsonSize([[1]], Infinity, 2)).toBeTypeOf('number');
  });
});
