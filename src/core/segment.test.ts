import { describe, expect, it } from 'vitest';
import { isFathomError } from './errors.js';
import { isSafeSegment, safeSegment } from './segment.js';

describe('isSafeSegment', () => {
  it.each(['e2e', 'systemd-logs', 'ip-10-0-0-1.ec2.internal', 'junit_01.xml', '.hidden', 'a..b'])(
    'accepts %j',
    (name) => expect(isSafeSegment(name)).toBe(true),
  );

  it.each(['', '.', '..', 'a/b', '../x', 'a\\b', 'nul\0', 'line\nbreak', 'x'.repeat(256)])(
    'rejects %j',
    (name) => expect(isSafeSegment(name)).toBe(false),
  );

  it('throws FATHOM_RESULT_BAD_NAME naming what was wrong', () => {
    expect(() => safeSegment('node', '..')).toThrow('node name ".." is not a safe path segment');
    let caught: unknown;
    try {
      safeSegment('file', 'a/b');
    } catch (err) {
      caught = err;
    }
    expect(isFathomError(caught, 'FATHOM_RESULT_BAD_NAME')).toBe(true);
    expect((caught as Error).message).toBe('file name "a/b" is not a safe path segment');
  });
});
