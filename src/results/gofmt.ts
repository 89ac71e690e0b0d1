/**
 * Go's `fmt.Sprint` for values decoded from JSON into `interface{}` (Sonobuoy stringifies every
 * key of an error.json this way): maps as `map[k:v ...]` with sorted keys, slices as `[a b]`,
 * null as `<nil>`, numbers as float64 `%v`.
 */
import { compareStrings } from './item.js';

/** A float64 as `%v` prints it: shortest digits; exponent form when the exponent is < -4 or >= 6. */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = f.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // strconv's shortest 'g' uses precision 6 to choose between %e and %f.
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(f);
}

/** `fmt.Sprint(v)` for a JSON-decoded value. */
export function goSprint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goSprint).join(' ')}]`;
  if (typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).sort(compareStrings);
    return `map[${keys.map((k) => `${k}:${goSprint(obj[k])}`).join(' ')}]`;
  }
  return typeof v === 'bigint' ? v.toString() : '';
}
