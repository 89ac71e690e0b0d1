import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { FathomError } from './errors.js';
import { checkSchema, fieldOf } from './schema.js';

describe('state checked when read back', () => {
  it.each([
    ['', ''],
    ['/nodes/1/labels/pool', 'nodes[1].labels.pool'],
    ['/labels/kubernetes.io~1os', 'labels.kubernetes.io/os'],
    ['/a~0b/0/0', 'a~b[0][0]'],
  ])('names JSON pointer %j as %j', (pointer, field) => {
    expect(fieldOf(pointer)).toBe(field);
  });

  const schema = Type.Object(
    { labels: Type.Record(Type.String(), Type.String()), n: Type.Integer({ minimum: 1 }) },
    { additionalProperties: false },
  );

  it('returns the value when it fits and names the first problem when not', () => {
    expect(checkSchema(schema, { labels: {}, n: 1 }, 'f.json', 'FATHOM_CLUSTER_INVALID')).toEqual({
      labels: {},
      n: 1,
    });
    const problem = (value: unknown): string => {
      try {
        checkSchema(schema, value, 'f.json', 'FATHOM_CLUSTER_INVALID');
        return 'fits';
      } catch (err) {
        expect(err).toBeInstanceOf(FathomError);
        return (err as FathomError).message;
      }
    };
    expect(problem({ labels: { 'a.io/b': 1 }, n: 1 })).toBe('f.json: labels.a.io/b must be string');
    expect(problem({ labels: {} })).toBe('f.json: n is missing');
    expect(problem({ labels: {}, n: 0 })).toBe('f.json: n must be >= 1');
    expect(problem({ labels: {}, n: 1, x: 1 })).toBe('f.json: x is not a field fathom writes');
    expect(problem(null)).toBe('f.json: (top level) must be object');
  });
});
