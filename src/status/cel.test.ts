import { describe, expect, it } from 'vitest';
import { CelCompileError, celVariables, compileExpression } from './cel.js';

const fresh = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } };
const evalOn = (expr: string, object: Record<string, unknown>, type: 'bool' | 'string' = 'bool') =>
  compileExpression(expr, type).evaluate(celVariables(object));

describe('CEL for readiness rules', () => {
  it('sees the top-level fields, with empty maps for a missing spec or status', () => {
    expect(evalOn("kind == 'Thing' && apiVersion == 'example.com/v1'", fresh)).toBe(true);
    expect(evalOn('has(self.status)', fresh)).toBe(false);
    expect(evalOn("status.?phase.orValue('none') == 'none'", fresh)).toBe(true);
    expect(evalOn('size(spec) == 0', fresh)).toBe(true);
    expect(evalOn("self.?data.?key.orValue('') == 'v'", { ...fresh, data: { key: 'v' } })).toBe(
      true,
    );
  });

  it('integers are ints, fractions are doubles', () => {
    const o = { ...fresh, status: { replicas: 3, ratio: 0.5 } };
    expect(evalOn('status.replicas * 2 == 6', o)).toBe(true);
    expect(evalOn('status.ratio < 1.0', o)).toBe(true);
    expect(evalOn("string(status.replicas) + '/' + string(status.ratio)", o, 'string')).toBe(
      '3/0.5',
    );
  });

  it('compile errors carry the offset; unknown variables are caught before any object', () => {
    expect(() => compileExpression('status.phase == ', 'bool')).toThrow(CelCompileError);
    let caught: unknown;
    try {
      compileExpression('true && stat.x', 'bool');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ message: 'Unknown variable: stat', offset: 8 });
    expect(() => compileExpression("'a'", 'bool')).toThrow('must give a bool, but gives string');
  });

  it('evaluation errors and wrong result types throw one-line messages', () => {
    expect(() => evalOn('status.phase == "x"', fresh)).toThrow('No such key: phase');
    expect(() => evalOn('status.phase', { ...fresh, status: { phase: 1 } })).toThrow(
      'gave int, not a bool',
    );
  });
});
