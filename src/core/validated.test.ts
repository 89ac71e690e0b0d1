import { describe, expect, it } from 'vitest';
import { FathomError } from './errors.js';
import { Type } from './schema.js';
import { deepFreeze, validated, validatedJson } from './validated.js';

const Node = Type.Object({
  name: Type.String({ minLength: 1 }),
  labels: Type.Record(Type.String(), Type.String()),
});
const Doc = Type.Object({
  uuid: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 0, maximum: 65_535, description: 'a TCP port' }),
  policy: Type.Union([Type.Literal('Always'), Type.Literal('Never')]),
  nodes: Type.Array(Node),
  note: Type.Optional(Type.String()),
});
const good = {
  uuid: 'u',
  port: 80,
  policy: 'Always',
  nodes: [{ name: 'n1', labels: { 'kubernetes.io/os': 'linux' } }],
};

function failure(value: unknown, file = '/state/run.json'): FathomError {
  try {
    validated(Doc, value, { file });
  } catch (err) {
    if (err instanceof FathomError) return err;
    throw err;
  }
  throw new Error('expected a FathomError');
}

describe('validated', () => {
  it('returns the value deep-frozen when it matches', () => {
    const v = validated(Doc, structuredClone(good), { file: 'x.json' });
    expect(v).toEqual(good);
    expect(Object.isFrozen(v)).toBe(true);
    expect(Object.isFrozen(v.nodes)).toBe(true);
    expect(Object.isFrozen(v.nodes[0]!.labels)).toBe(true);
    expect(() => {
      (v.nodes as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('names the file and the JSON path of the first bad field', () => {
    const bad = { ...good, nodes: [...good.nodes, { name: 'n2', labels: { zone: 3 } }] };
    const err = failure(bad);
    expect(err.code).toBe('FATHOM_STATE_INVALID');
    expect(err.kind).toBe('input');
    expect(err.message).toBe('/state/run.json: nodes[1].labels.zone: must be string');
    expect(err.details).toEqual({ file: '/state/run.json', field: 'nodes[1].labels.zone' });
  });

  it('names a missing field', () => {
    const { uuid: _uuid, ...rest } = good;
    expect(failure(rest).message).toBe('/state/run.json: uuid: is missing');
  });

  it('says what a union accepts, and uses a description when the schema has one', () => {
    expect(failure({ ...good, policy: 'Sometimes' }).message).toBe(
      '/state/run.json: policy: must be one of "Always", "Never"',
    );
    expect(failure({ ...good, port: 70_000 }).message).toBe(
      '/state/run.json: port: must be a TCP port',
    );
  });

  it('names the file alone when the document is not an object', () => {
    expect(failure([]).message).toBe('/state/run.json: must be object');
    expect(failure(null).message).toBe('/state/run.json: must be object');
  });

  it('takes another catalogue code', () => {
    try {
      validated(Doc, {}, { file: 'c.json', code: 'FATHOM_CONFIG_INVALID' });
      expect.unreachable();
    } catch (err) {
      expect((err as FathomError).code).toBe('FATHOM_CONFIG_INVALID');
    }
  });
});

describe('validatedJson', () => {
  it('parses, checks and freezes', () => {
    const v = validatedJson(Doc, JSON.stringify(good), { file: 'x.json' });
    expect(Object.isFrozen(v.nodes[0])).toBe(true);
  });

  it('text that is not JSON is one line naming the file', () => {
    try {
      validatedJson(Doc, '{"uuid": "u",\n', { file: '/state/run.json' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FathomError);
      const e = err as FathomError;
      expect(e.code).toBe('FATHOM_STATE_INVALID');
      expect(e.message).toMatch(/^\/state\/run\.json: not JSON \(/);
      expect(e.message).not.toContain('\n');
    }
  });
});

describe('deepFreeze', () => {
  it('freezes nested arrays and objects and leaves primitives', () => {
    const v = deepFreeze({ a: [{ b: 1 }] });
    expect(Object.isFrozen(v.a[0])).toBe(true);
    expect(deepFreeze(3)).toBe(3);
  });
});
