/**
 * Schemas for state fathom writes and reads back, with the types they check. The builder's
 * names follow typebox's (`Type.Object`, `Type.Optional`, `Static`), but it is fathom's own and
 * small: loading typebox cost every command that reads a run about 200 ms of start-up here, for
 * the dozen kinds of field these files hold.
 */

/** A schema: what it accepts, and the first problem with a value (a path and what it must be). */
export interface Schema<T> {
  /** Phantom: the type a value has once checked. */
  readonly _type?: T;
  readonly optional?: boolean;
  /** What a value must be, in words, instead of the checker's own. */
  readonly description?: string;
  problem(value: unknown, path: string): Problem | undefined;
}

export interface Problem {
  /** `nodes[1].labels.pool`; empty for the value itself. */
  readonly path: string;
  readonly message: string;
}

export type Static<S> = S extends Schema<infer T> ? T : never;

interface Described {
  readonly description?: string;
}
interface StringOptions extends Described {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}
interface NumberOptions extends Described {
  readonly minimum?: number;
  readonly maximum?: number;
}
interface ArrayOptions extends Described {
  readonly minItems?: number;
  readonly maxItems?: number;
}
interface ObjectOptions extends Described {
  /** false: a field the schema does not name is a problem. */
  readonly additionalProperties?: boolean;
}

type Props = Record<string, Schema<unknown>>;
type OptionalKeys<P extends Props> = {
  [K in keyof P]: P[K] extends { optional: true } ? K : never;
}[keyof P];
type ObjectOf<P extends Props> = {
  [K in Exclude<keyof P, OptionalKeys<P>>]: Static<P[K]>;
} & { [K in OptionalKeys<P>]?: Static<P[K]> };

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

function leaf<T>(options: Described, test: (value: unknown) => string | undefined): Schema<T> {
  return {
    ...(options.description ? { description: options.description } : {}),
    problem(value, path) {
      const message = test(value);
      if (message === undefined) return undefined;
      return { path, message: options.description ? `must be ${options.description}` : message };
    },
  };
}

function string(options: StringOptions = {}): Schema<string> {
  const pattern = options.pattern === undefined ? undefined : new RegExp(options.pattern, 'u');
  return leaf(options, (v) => {
    if (typeof v !== 'string') return 'must be string';
    if (options.minLength !== undefined && v.length < options.minLength)
      return `must have at least ${options.minLength} characters`;
    if (options.maxLength !== undefined && v.length > options.maxLength)
      return `must have at most ${options.maxLength} characters`;
    if (pattern && !pattern.test(v)) return `must match ${options.pattern}`;
    return undefined;
  });
}

function number(integer: boolean, options: NumberOptions = {}): Schema<number> {
  return leaf(options, (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      return integer ? 'must be integer' : 'must be number';
    if (integer && !Number.isInteger(v)) return 'must be integer';
    if (options.minimum !== undefined && v < options.minimum)
      return `must be >= ${options.minimum}`;
    if (options.maximum !== undefined && v > options.maximum)
      return `must be <= ${options.maximum}`;
    return undefined;
  });
}

function literal<const V extends string | number | boolean>(value: V): Schema<V> {
  return leaf({}, (v) => (v === value ? undefined : `must be ${JSON.stringify(value)}`));
}

function union<S extends readonly Schema<unknown>[]>(
  schemas: S,
  options: Described = {},
): Schema<Static<S[number]>> {
  return {
    ...(options.description ? { description: options.description } : {}),
    problem(value, path) {
      const problems = schemas.map((s) => s.problem(value, path));
      if (problems.some((p) => p === undefined)) return undefined;
      if (options.description) return { path, message: `must be ${options.description}` };
      // A problem inside one branch (a field of an object) says more than "none matched".
      const deeper = problems.find((p) => p && p.path !== path);
      if (deeper) return deeper;
      const literals = schemas.map((s) => s.problem(Symbol('probe'), '')?.message ?? '');
      return {
        path,
        message: literals.every((m) => m.startsWith('must be '))
          ? `must be one of ${literals.map((m) => m.slice('must be '.length)).join(', ')}`
          : 'matches none of its forms',
      };
    },
  };
}

function array<T>(item: Schema<T>, options: ArrayOptions = {}): Schema<T[]> {
  return {
    ...(options.description ? { description: options.description } : {}),
    problem(value, path) {
      if (!Array.isArray(value)) return { path, message: 'must be array' };
      if (options.minItems !== undefined && value.length < options.minItems)
        return { path, message: `must have at least ${options.minItems} items` };
      if (options.maxItems !== undefined && value.length > options.maxItems)
        return { path, message: `must have at most ${options.maxItems} items` };
      for (let i = 0; i < value.length; i++) {
        const p = item.problem(value[i], join(path, i));
        if (p) return p;
      }
      return undefined;
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object<P extends Props>(props: P, options: ObjectOptions = {}): Schema<ObjectOf<P>> {
  return {
    ...(options.description ? { description: options.description } : {}),
    problem(value, path) {
      if (!isObject(value)) return { path, message: 'must be object' };
      for (const [key, schema] of Object.entries(props)) {
        if (!Object.hasOwn(value, key) || value[key] === undefined) {
          if (schema.optional) continue;
          return { path: join(path, key), message: 'is missing' };
        }
        const p = schema.problem(value[key], join(path, key));
        if (p) return p;
      }
      if (options.additionalProperties === false) {
        const extra = Object.keys(value).find((k) => !Object.hasOwn(props, k));
        if (extra !== undefined)
          return { path: join(path, extra), message: 'is not a field fathom writes' };
      }
      return undefined;
    },
  };
}

function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  return {
    problem(v, path) {
      if (!isObject(v)) return { path, message: 'must be object' };
      for (const [key, item] of Object.entries(v)) {
        const p = value.problem(item, join(path, key));
        if (p) return p;
      }
      return undefined;
    },
  };
}

/** The builders. */
export const Type = {
  String: string,
  Number: (options?: NumberOptions) => number(false, options),
  Integer: (options?: NumberOptions) => number(true, options),
  Boolean: (options: Described = {}): Schema<boolean> =>
    leaf(options, (v) => (typeof v === 'boolean' ? undefined : 'must be boolean')),
  Null: (): Schema<null> => leaf({}, (v) => (v === null ? undefined : 'must be null')),
  Unknown: (): Schema<unknown> => ({ problem: () => undefined }),
  Literal: literal,
  /** One of the given strings. */
  Enum: <const V extends string>(values: readonly V[]): Schema<V> =>
    union<Schema<V>[]>(values.map((v) => literal(v))),
  Union: union,
  Array: array,
  Object: object,
  /** A map of string keys (the key schema is always a string). */
  Record: <T>(_key: Schema<string>, value: Schema<T>): Schema<Record<string, T>> => record(value),
  Optional: <T>(schema: Schema<T>): Schema<T> & { optional: true } => ({
    ...schema,
    problem: (v, path) => schema.problem(v, path),
    optional: true,
  }),
} as const;

/** The first problem with `value`, or undefined when it matches. */
export function firstProblem(schema: Schema<unknown>, value: unknown): Problem | undefined {
  return schema.problem(value, '');
}
