import { describe, expect, it } from 'vitest';
import { createIpPool } from './ips.js';

describe('loopback IP pool', () => {
  it('hands out distinct 127.0.x.y addresses, never x.0 or x.255 or 127.0.0.*', () => {
    const pool = createIpPool(250); // 127.0.1.251: crosses a .255/.0 boundary soon
    const ips = Array.from({ length: 10 }, () => pool.allocate());
    expect(new Set(ips).size).toBe(10);
    expect(ips.slice(0, 6)).toEqual([
      '127.0.1.251',
      '127.0.1.252',
      '127.0.1.253',
      '127.0.1.254',
      '127.0.2.1',
      '127.0.2.2',
    ]);
    for (const ip of ips) expect(ip).toMatch(/^127\.0\.([1-9]\d*)\.([1-9]\d{0,2})$/);
    expect(pool.inUse).toBe(10);
  });

  it('wraps around the range and skips addresses still in use', () => {
    const pool = createIpPool(-2); // the last two addresses of the range
    expect([pool.allocate(), pool.allocate(), pool.allocate()]).toEqual([
      '127.0.255.253',
      '127.0.255.254',
      '127.0.1.1',
    ]);
    expect(pool.reserve('127.0.1.2')).toBe(true);
    expect(pool.allocate()).toBe('127.0.1.3');
  });

  it('does not reuse a released address at once, and reserves only addresses of its range', () => {
    const pool = createIpPool(0);
    const a = pool.allocate();
    pool.release(a);
    expect(pool.allocate()).not.toBe(a);
    expect(pool.inUse).toBe(1);
    expect(pool.reserve('10.224.0.5')).toBe(false);
    expect(pool.reserve('127.0.0.1')).toBe(false);
  });
});
