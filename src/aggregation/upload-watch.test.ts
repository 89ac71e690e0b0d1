import { describe, expect, it } from 'vitest';
import { stallVerdict } from './upload-watch.js';

const limits = { idleMs: 60_000, deadlineMs: 3_600_000 };

describe('stallVerdict', () => {
  it.each([
    ['fresh upload: wake when idle would expire', 0, 0, 0, { wakeAt: 60_000 }],
    ['bytes keep coming: idle counts from the last byte', 100_000, 0, 90_000, { wakeAt: 150_000 }],
    ['idle exactly at the limit', 160_000, 0, 100_000, { expired: 'idle' }],
    ['near the deadline: wake at the deadline', 3_590_000, 0, 3_589_000, { wakeAt: 3_600_000 }],
    ['deadline wins over a steady trickle', 3_600_000, 0, 3_599_999, { expired: 'deadline' }],
    ['deadline and idle at once: deadline', 3_600_000, 0, 0, { expired: 'deadline' }],
  ] as const)('%s', (_name, now, started, last, verdict) => {
    expect(stallVerdict(now, started, last, limits)).toEqual(verdict);
  });
});
