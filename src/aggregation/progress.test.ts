import { describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { isAppending, mergeProgress, parseProgressUpdate } from './progress.js';
import type { ProgressUpdate } from './types.js';

const origin = { plugin: 'e2e', node: 'global', timestamp: '2026-01-01T00:00:00.000Z' };

function update(fields: Partial<ProgressUpdate>): ProgressUpdate {
  const { node, timestamp } = origin;
  return { name: 'e2e', node, timestamp, msg: '', total: 0, completed: 0, ...fields };
}

describe('parseProgressUpdate', () => {
  it("takes name, node and time from the aggregator, and drops keys Go's decoder would ignore", () => {
    const parsed = parseProgressUpdate(
      { name: 'other', node: 'n1', timestamp: 'yesterday', msg: 'hi', total: 3, extra: true },
      origin,
    );
    expect(parsed).toEqual({
      name: 'e2e',
      node: 'global',
      timestamp: '2026-01-01T00:00:00.000Z',
      msg: 'hi',
      total: 3,
      completed: 0,
    });
  });

  it('omits empty optional fields as omitempty does, and keeps set ones', () => {
    expect(
      parseProgressUpdate(
        { errors: [], failures: ['a'], appendtotals: false, appendcompleted: 0 },
        origin,
      ),
    ).toEqual(update({ failures: ['a'] }));
    expect(
      parseProgressUpdate(
        { errors: ['boom'], appendtotals: true, appendcompleted: 2, appendfailing: ['f'] },
        origin,
      ),
    ).toEqual(
      update({ errors: ['boom'], appendtotals: true, appendcompleted: 2, appendfailing: ['f'] }),
    );
  });

  it('treats null like a missing field, as Go does', () => {
    expect(parseProgressUpdate({ msg: null, total: null, failures: null }, origin)).toEqual(
      update({}),
    );
  });

  it.each([
    ['an array', [1]],
    ['null', null],
    ['a string', 'x'],
    ['a string total', { total: '3' }],
    ['a fractional count', { completed: 1.5 }],
    ['a numeric message', { msg: 5 }],
    ['failures that are not strings', { failures: [1] }],
    ['a string appendtotals', { appendtotals: 'yes' }],
  ])('rejects %s with FATHOM_PROGRESS_INVALID', (_name, body) => {
    let caught: unknown;
    try {
      parseProgressUpdate(body, origin);
    } catch (err) {
      caught = err;
    }
    expect(isFathomError(caught, 'FATHOM_PROGRESS_INVALID')).toBe(true);
  });
});

describe('isAppending', () => {
  it('is true for appendtotals, a positive appendcompleted, or any appendfailing', () => {
    expect(isAppending(update({}))).toBe(false);
    expect(isAppending(update({ appendtotals: true }))).toBe(true);
    expect(isAppending(update({ appendcompleted: 1 }))).toBe(true);
    expect(isAppending(update({ appendcompleted: -1 }))).toBe(false);
    expect(isAppending(update({ appendfailing: ['x'] }))).toBe(true);
  });
});

describe('mergeProgress', () => {
  const base = update({ msg: 'base', total: 10, completed: 4, failures: ['a'], errors: ['e'] });

  it('replaces the previous update with a non-appending one', () => {
    const next = update({ msg: 'new', total: 2 });
    expect(mergeProgress(base, next)).toBe(next);
  });

  it('adds appended counts and failures without growing the total unless appendtotals', () => {
    const next = update({
      msg: 'more',
      timestamp: 'later',
      appendcompleted: 2,
      appendfailing: ['b'],
    });
    expect(mergeProgress(base, next)).toEqual(
      update({
        msg: 'more',
        timestamp: 'later',
        total: 10,
        completed: 6,
        failures: ['a', 'b'],
        errors: ['e'],
      }),
    );
  });

  it('grows the total by what was appended when appendtotals is set', () => {
    const next = update({
      msg: 'grow',
      appendtotals: true,
      appendcompleted: 3,
      appendfailing: ['b', 'c'],
    });
    expect(mergeProgress(base, next)).toMatchObject({
      total: 15,
      completed: 7,
      failures: ['a', 'b', 'c'],
    });
  });

  it('starts from zero when nothing came before', () => {
    const next = update({
      msg: 'first',
      appendtotals: true,
      appendcompleted: 1,
      appendfailing: ['x'],
    });
    expect(mergeProgress(undefined, next)).toEqual(
      update({ msg: 'first', total: 2, completed: 1, failures: ['x'] }),
    );
  });

  it('does not change the previous update in place', () => {
    const before = structuredClone(base);
    mergeProgress(base, update({ appendcompleted: 1, appendfailing: ['z'] }));
    expect(base).toEqual(before);
  });
});
