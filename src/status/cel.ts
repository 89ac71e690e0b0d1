/**
 * CEL for readiness rules, through @marcbachmann/cel-js 8.x — the one new dependency of
 * src/status. Chosen after comparing the npm CEL implementations: it has no dependencies,
 * declares `engines: node >=20.19` (fathom runs on Node 20), ships TypeScript types and a
 * type checker, supports CEL's optional field syntax (`status.?phase.orValue("")`) that Flux and
 * Kubernetes users write, and is released often. `cel-js` (0.x) pulls in chevrotain and ramda;
 * `@bufbuild/cel` (0.x) is built around protobuf messages. Only this file imports it.
 */
import { FathomError } from '../core/errors.js';
import { Environment } from '@marcbachmann/cel-js';
import { isMap } from './fields.js';
import type { KubeObject } from './types.js';

/** The variables an expression sees: the object's top-level fields, plus `self` (the whole object). */
export const CEL_VARIABLES = ['self', 'apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;

export type CelResultType = 'bool' | 'string';

/** A compile error: `offset` is where in the expression it was found. */
export class CelCompileError extends FathomError {
  override readonly name = 'CelCompileError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('FATHOM_CONFIG_INVALID', message, { details: { offset } });
  }
}

/** An expression compiled once, evaluated per object. */
export interface CompiledExpression {
  readonly source: string;
  /** Throws an Error with CEL's one-line summary when evaluation fails or gives the wrong type. */
  evaluate(variables: CelVariables): unknown;
}

/** Built by `celVariables` once per object, shared by all expressions of a rule. */
export type CelVariables = Readonly<Record<(typeof CEL_VARIABLES)[number], unknown>>;

let shared: Environment | undefined;

/** Building an environment is costly: one for the process. */
function environment(): Environment {
  if (!shared) {
    const env = new Environment({
      enableOptionalTypes: true,
      homogeneousAggregateLiterals: false,
    });
    for (const name of CEL_VARIABLES) env.registerVariable(name, 'dyn');
    shared = env;
  }
  return shared;
}

interface CelErrorLike {
  summary?: string;
  message?: string;
  range?: { start: number };
}

function summaryOf(err: unknown): string {
  const e = err as CelErrorLike;
  return e.summary ?? (e.message ?? String(err)).split('\n')[0]!;
}

/**
 * Parses and type-checks `source`; the result must be able to be `want` (a `dyn` result is
 * checked again at evaluation time). Throws CelCompileError.
 */
export function compileExpression(source: string, want: CelResultType): CompiledExpression {
  const env = environment();
  const checked = env.check(source);
  if (!checked.valid) {
    const err = checked.error as CelErrorLike | undefined;
    throw new CelCompileError(summaryOf(err), err?.range?.start ?? 0);
  }
  if (checked.type !== want && checked.type !== 'dyn') {
    throw new CelCompileError(`must give a ${want}, but gives ${checked.type}`, 0);
  }
  const program = env.parse(source);
  return {
    source,
    evaluate(variables) {
      let value: unknown;
      try {
        value = program(variables) as unknown;
      } catch (err) {
        throw new Error(summaryOf(err), { cause: err });
      }
      if (typeof value !== (want === 'bool' ? 'boolean' : 'string')) {
        throw new Error(`gave ${celTypeName(value)}, not a ${want}`);
      }
      return value;
    },
  };
}

/** A value's type in CEL's words, for messages. */
function celTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  return Array.isArray(v) ? 'list' : 'map';
}

/** JSON to CEL values: integers become int (bigint), as Kubernetes' CEL sees them; the rest as is. */
function toCel(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toCel(x);
    return out;
  }
  return v;
}

/** Missing `metadata`, `spec` or `status` are empty maps, so `status.?phase` works on a fresh object. */
export function celVariables(object: KubeObject): CelVariables {
  const self = toCel(object) as Record<string, unknown>;
  const mapOr = (v: unknown): unknown => (isMap(v) ? v : v === undefined || v === null ? {} : v);
  return {
    self,
    apiVersion: self.apiVersion ?? '',
    kind: self.kind ?? '',
    metadata: mapOr(self.metadata),
    spec: mapOr(self.spec),
    status: mapOr(self.status),
  };
}
