import { describe, expect, it } from 'vitest';
import { leaseAction, nextLease, releasedLease, type LeaseRecord } from './lease.js';

const held: LeaseRecord = {
  holder: 'a',
  address: '10.0.0.1:5005',
  durationMs: 15_000,
  acquiredAt: 1_000,
  renewedAt: 10_000,
  transitions: 2,
};

describe('leaseAction', () => {
  it.each([
    ['nobody ever held it', 'b', 0, undefined, 'acquire'],
    ['the holder itself, expired or not', 'a', 99_000, held, 'renew'],
    ['another, before expiry', 'b', 24_999, held, 'wait'],
    ['another, at expiry', 'b', 25_000, held, 'acquire'],
    ['another, released before expiry', 'b', 10_001, releasedLease(10_000, held), 'acquire'],
  ] as const)('%s', (_what, identity, now, current, action) => {
    expect(leaseAction(now, identity, current)).toBe(action);
  });
});

describe('nextLease', () => {
  it('keeps the acquisition time and count on renewal', () => {
    expect(nextLease(20_000, 'a', 'x:1', 15_000, held)).toEqual({
      ...held,
      address: 'x:1',
      renewedAt: 20_000,
    });
  });

  it('counts a change of hands and starts a new tenure', () => {
    expect(nextLease(30_000, 'b', '', 15_000, held)).toEqual({
      holder: 'b',
      address: '',
      durationMs: 15_000,
      acquiredAt: 30_000,
      renewedAt: 30_000,
      transitions: 3,
    });
    expect(nextLease(5, 'b', '', 15_000, undefined).transitions).toBe(0);
  });
});

describe('releasedLease', () => {
  it('leaves no holder and a 1 s duration, keeping the count: the next holder has the next term', () => {
    const released = releasedLease(12_000, held);
    expect(released).toEqual({
      holder: '',
      address: '',
      durationMs: 1000,
      acquiredAt: 12_000,
      renewedAt: 12_000,
      transitions: 2,
    });
    // Even its old holder comes back with a new term: its old work is fenced off.
    expect(nextLease(12_500, 'a', '', 15_000, released).transitions).toBe(3);
    expect(nextLease(12_500, 'b', '', 15_000, released).transitions).toBe(3);
  });
});
