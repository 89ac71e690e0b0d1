import { describe, expect, expectTypeOf, it } from 'vitest';
import { firstProblem, Type, type Static } from './schema.js';

const taint = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z./-]+$' }),
    value: Type.Optional(Type.String({ maxLength: 3 })),
    effect: Type.Enum(['NoSchedule', 'NoExecute']),
  },
  { additionalProperties: false },
);
const doc = Type.Object({
  labels: Type.Record(Type.String(), Type.String()),
  n: Type.Integer({ minimum: 1, maximum: 9 }),
  ratio: Type.Number(),
  on: Type.Boolean(),
  counts: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  taints: Type.Array(taint, { minItems: 1, maxItems: 2 }),
  kind: Type.Literal('Cluster'),
  anything: Type.Unknown(),
  port: Type.Integer({ description: 'a TCP port', maximum: 65_535 }),
});
const good = {
  labels: { 'kubernetes.io/os': 'linux' },
  n: 1,
  ratio: 0.5,
  on: true,
  counts: null,
  taints: [{ key: 'gpu', effect: 'NoSchedule' }],
  kind: 'Cluster',
  anything: [1, 'x'],
  port: 80,
};

describe('schemas', () => {
  it('infers the checked type (optional fields optional)', () => {
    expectTypeOf<Static<typeof taint>>().toEqualTypeOf<
      { key: string; effect: 'NoSchedule' | 'NoExecute' } & { value?: string }
    >();
  });

  it('accepts what matches', () => {
    expect(firstProblem(doc, good)).toBeUndefined();
    expect(firstProblem(doc, { ...good, counts: { passed: 3 } })).toBeUndefined();
  });

  it.each([
    [
      'a wrong leaf type, by path',
      { labels: { 'a.io/b': 1 } },
      'labels["a.io/b"]',
      'must be string',
    ],
    ['a missing field', { n: undefined }, 'n', 'is missing'],
    ['below the minimum', { n: 0 }, 'n', 'must be >= 1'],
    ['above the maximum', { n: 10 }, 'n', 'must be <= 9'],
    ['a fraction for an integer', { n: 1.5 }, 'n', 'must be integer'],
    ['NaN for a number', { ratio: Number.NaN }, 'ratio', 'must be number'],
    ['a string for a boolean', { on: 'yes' }, 'on', 'must be boolean'],
    ['neither form of a union', { counts: 3 }, 'counts', 'must be one of object, null'],
    ['a field inside a union branch', { counts: { a: 'x' } }, 'counts.a', 'must be number'],
    ['too few items', { taints: [] }, 'taints', 'must have at least 1 items'],
    [
      'an enum value',
      { taints: [{ key: 'k', effect: 'Soon' }] },
      'taints[0].effect',
      'must be one of "NoSchedule", "NoExecute"',
    ],
    [
      'a pattern',
      { taints: [{ key: 'K!', effect: 'NoExecute' }] },
      'taints[0].key',
      'must match ^[a-z./-]+$',
    ],
    [
      'a string too long',
      { taints: [{ key: 'k', value: 'long', effect: 'NoExecute' }] },
      'taints[0].value',
      'must have at most 3 characters',
    ],
    [
      'a field it does not name',
      { taints: [{ key: 'k', effect: 'NoExecute', x: 1 }] },
      'taints[0].x',
      'is not a field fathom writes',
    ],
    ['a literal', { kind: 'Node' }, 'kind', 'must be "Cluster"'],
    ['a described field, in its words', { port: 70_000 }, 'port', 'must be a TCP port'],
  ])('names %s', (_what, change, path, message) => {
    expect(firstProblem(doc, { ...good, ...change })).toEqual({ path, message });
  });

  it('names the value itself with an empty path', () => {
    expect(firstProblem(doc, [])).toEqual({ path: '', message: 'must be object' });
    expect(firstProblem(Type.Array(Type.String()), {})).toEqual({
      path: '',
      message: 'must be array',
    });
  });
});
