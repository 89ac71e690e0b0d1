import { describe, expect, it } from 'vitest';
import { formatSelector, matchesSelector, selectorOf } from './selector.js';
import type { LabelSelector } from './types.js';

const withSelector = (selector: unknown): Record<string, unknown> => ({ spec: { selector } });

describe('selectorOf', () => {
  it('reads matchLabels and matchExpressions', () => {
    expect(
      selectorOf(
        withSelector({
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
        }),
      ),
    ).toEqual({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
    });
  });

  it.each([
    ['missing', {}, 'no selector found'],
    [
      'not a map',
      withSelector('app=web'),
      '.spec.selector accessor error: app=web is of the type string, expected map[string]interface{}',
    ],
    [
      'bad operator',
      withSelector({ matchExpressions: [{ key: 'a', operator: 'Equals' }] }),
      '"Equals" is not a valid label selector operator',
    ],
    [
      'In without values',
      withSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }),
      "for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      'Exists with values',
      withSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      'values set must be empty for exists and does not exist',
    ],
    [
      'label value not a string',
      withSelector({ matchLabels: { a: 1 } }),
      'matchLabels.a: must be a string',
    ],
  ])('%s is an error', (_name, object, message) => {
    expect(() => selectorOf(object)).toThrow(message);
  });
});

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each<[string, LabelSelector, boolean]>([
    ['empty matches everything', {}, true],
    ['matchLabels', { matchLabels: { app: 'web' } }, true],
    ['matchLabels mismatch', { matchLabels: { app: 'db' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, true],
    [
      'In missing key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      false,
    ],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [
      'NotIn missing key matches',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'all requirements must hold',
      {
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }],
      },
      false,
    ],
  ])('%s', (_name, selector, want) => expect(matchesSelector(labels, selector)).toBe(want));
});

describe('formatSelector', () => {
  it('prints the API syntax sorted by key', () => {
    expect(
      formatSelector({
        matchLabels: { z: '1', app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['b', 'a'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'has', operator: 'Exists' },
          { key: 'gone', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,env notin (prod),!gone,has,tier in (a,b),z=1');
    expect(formatSelector({})).toBe('');
  });
});
