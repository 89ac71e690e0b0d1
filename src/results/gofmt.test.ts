import { describe, expect, it } from 'vitest';
import { goFloat, goSprint } from './gofmt.js';

describe('goSprint (outputs recorded from Go 1.26 fmt.Sprint on json-decoded values)', () => {
  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [420, '420'],
    [123456, '123456'],
    [999999, '999999'],
    [1000000, '1e+06'],
    [1234567, '1.234567e+06'],
    [1e20, '1e+20'],
    [1e21, '1e+21'],
    [1.5, '1.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [12345678901234567000, '1.2345678901234567e+19'],
    [3.14159, '3.14159'],
    [-2.5e10, '-2.5e+10'],
    [100000, '100000'],
    [1e100, '1e+100'],
  ])('float %d → %s', (n, s) => expect(goFloat(n)).toBe(s));

  it('prints maps sorted, slices spaced, null as <nil>', () => {
    expect(goSprint(null)).toBe('<nil>');
    expect(goSprint(true)).toBe('true');
    expect(goSprint({ b: 1, a: [1, 'x', { z: null }] })).toBe('map[a:[1 x map[z:<nil>]] b:1]');
    expect(goSprint([])).toBe('[]');
    expect(goSprint({})).toBe('map[]');
    expect(goSprint('plain')).toBe('plain');
  });
});
