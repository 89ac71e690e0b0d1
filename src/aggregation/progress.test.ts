import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { isFathomError } from '../core/errors.js';
import { createAggregator } from './aggregator.js';
import {
  isAppending,
  mergeProgress,
  parseProgressUpdate,
  PROGRESS_LIMITS,
  truncateUtf8,
} from './progress.js';
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

describe('progress bounds', () => {
  const bytes = (s: string): number => Buffer.byteLength(s);
  const progressBytes = (p: ProgressUpdate): number =>
    bytes(p.msg) + [...(p.failures ?? []), ...(p.errors ?? [])].reduce((n, s) => n + bytes(s), 0);

  it('keeps many appending updates under the bound, newest failures kept, the rest counted', () => {
    let kept: ProgressUpdate | undefined;
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const failure = `test-${String(i).padStart(5, '0')} ${'x'.repeat(200)}`;
      kept = mergeProgress(
        kept,
        update({
          msg: `ran ${i}`,
          appendtotals: true,
          appendcompleted: 1,
          appendfailing: [failure],
        }),
      );
    }
    const p = kept!;
    expect(p.total).toBe(2 * n);
    expect(p.completed).toBe(n);
    expect(progressBytes(p)).toBeLessThanOrEqual(PROGRESS_LIMITS.totalBytes);
    expect(p.failures!.length).toBeLessThanOrEqual(PROGRESS_LIMITS.entries);
    expect(p.failures!.length + p.droppedfailures!).toBe(n);
    expect(p.failures!.at(-1)).toMatch(/^test-04999 /);
    expect(p.failures![0]).toMatch(
      new RegExp(`^test-${String(p.droppedfailures).padStart(5, '0')} `),
    );
    expect(JSON.stringify(p).length).toBeLessThan(PROGRESS_LIMITS.totalBytes + 1024);
  });

  it('keeps at most the newest entries of a list sent whole, and counts the others', () => {
    const failures = Array.from({ length: 2500 }, (_, i) => `f${i}`);
    const errors = Array.from({ length: 1200 }, (_, i) => `e${i}`);
    const p = mergeProgress(undefined, update({ failures, errors }));
    expect(p.failures).toEqual(failures.slice(-PROGRESS_LIMITS.entries));
    expect(p.droppedfailures).toBe(1500);
    expect(p.errors).toEqual(errors.slice(-PROGRESS_LIMITS.entries));
    expect(p.droppederrors).toBe(200);
    // A replacing update starts the count afresh.
    expect(mergeProgress(p, update({ failures: ['only'] }))).toEqual(
      update({ failures: ['only'] }),
    );
  });

  it('drops failures before errors when the bytes run out', () => {
    const big = 'y'.repeat(1000);
    const p = mergeProgress(
      undefined,
      update({
        errors: Array.from({ length: 10 }, () => big),
        failures: Array.from({ length: 40 }, () => big),
      }),
    );
    expect(p.errors).toHaveLength(10);
    expect(p.failures!.length).toBeGreaterThan(0);
    expect(progressBytes(p)).toBeLessThanOrEqual(PROGRESS_LIMITS.totalBytes);
    expect(p.failures!.length + p.droppedfailures!).toBe(40);
    expect(p.droppederrors).toBeUndefined();
  });

  it('drops the oldest errors too once the failures are gone', () => {
    const errors = Array.from(
      { length: 30 },
      (_, i) => `${String(i).padStart(2, '0')}${'e'.repeat(998)}`,
    );
    const p = mergeProgress(undefined, update({ errors, failures: ['f'] }));
    expect(p.failures).toBeUndefined();
    expect(p.droppedfailures).toBe(1);
    expect(progressBytes(p)).toBeLessThanOrEqual(PROGRESS_LIMITS.totalBytes);
    expect(p.errors!.length + p.droppederrors!).toBe(30);
    expect(p.errors!.at(-1)).toMatch(/^29/);
  });

  it('cuts long strings on a character boundary and marks the cut', () => {
    const p = mergeProgress(
      undefined,
      update({ msg: 'é'.repeat(10_000), failures: ['€'.repeat(2000)], errors: ['ok'] }),
    );
    expect(bytes(p.msg)).toBeLessThanOrEqual(PROGRESS_LIMITS.msgBytes);
    expect(p.msg).toMatch(/^é+…$/);
    expect(bytes(p.failures![0]!)).toBeLessThanOrEqual(PROGRESS_LIMITS.entryBytes);
    expect(p.failures![0]).toMatch(/^€+…$/);
    expect(p.errors).toEqual(['ok']);
    expect(truncateUtf8('short', 3)).toBe('…');
    expect(truncateUtf8('fits', 4)).toBe('fits');
  });

  it('keeps the status document of an aggregator bounded however many updates arrive', () => {
    const aggregator = createAggregator({
      clock: systemClock,
      outputDir: '/nonexistent', // progress is kept in memory only
      expected: [{ plugin: 'e2e', node: 'global' }],
    });
    const failing = Array.from({ length: 60 }, (_, i) => `${i} ${'z'.repeat(1000)}`);
    for (let i = 0; i < 40; i++) {
      aggregator.updateProgress('e2e', 'global', { appendtotals: true, appendfailing: failing });
    }
    const [entry] = aggregator.entries();
    expect(entry!.progress!.total).toBe(40 * 60);
    expect(entry!.progress!.failures!.length + entry!.progress!.droppedfailures!).toBe(40 * 60);
    expect(JSON.stringify(aggregator.entries()).length).toBeLessThan(
      PROGRESS_LIMITS.totalBytes + 1024,
    );
  });
});
