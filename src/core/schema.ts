/**
 * State fathom writes and later reads back is checked against a typebox schema when read, so a
 * file edited or cut short by hand is one line naming the file and the field, never a bare cast.
 */
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import { FathomError, type ErrorCode } from './errors.js';

interface SchemaIssue {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

/** `/nodes/1/labels/pool` → `nodes[1].labels.pool`. */
export function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/** The one problem to report: a field, and what is wrong with it in words. */
function describe(issue: SchemaIssue): { field: string; problem: string } {
  const at = fieldOf(issue.instancePath);
  const join = (name: string): string => (at ? `${at}.${name}` : name);
  const p = issue.params;
  if (issue.keyword === 'required') {
    const missing = (p.requiredProperties as string[] | undefined)?.[0] ?? '?';
    return { field: join(missing), problem: 'is missing' };
  }
  if (issue.keyword === 'additionalProperties') {
    const extra = (p.additionalProperties as string[] | undefined)?.[0] ?? '?';
    return { field: join(extra), problem: 'is not a field fathom writes' };
  }
  if (issue.keyword === 'enum') {
    return {
      field: at || '(top level)',
      problem: `must be one of ${(p.allowedValues as unknown[]).join(', ')}`,
    };
  }
  return { field: at || '(top level)', problem: issue.message };
}

/**
 * Returns `value` typed by `schema`, or throws `code` with `<file>: <field> <problem>`, naming
 * the first problem only.
 */
export function checkSchema<S extends TSchema>(
  schema: S,
  value: unknown,
  file: string,
  code: ErrorCode,
): Static<S> {
  if (Value.Check(schema, value)) return value;
  const issues = [...Value.Errors(schema, value)] as SchemaIssue[];
  // `additionalProperties: false` also reports each extra field as "schema is false".
  const first = issues.find((i) => i.keyword !== 'boolean') ?? issues[0];
  const { field, problem } = first
    ? describe(first)
    : { field: '(top level)', problem: 'does not match' };
  throw new FathomError(code, `${file}: ${field} ${problem}`, { details: { file, field } });
}
