/**
 * Configs as an agent receives them from the dispatcher: JSON from the network, checked once at
 * this edge (each field, each instance against its type's schema) and frozen, and its digest
 * recomputed: a config whose content does not match its digest is refused, so what an agent
 * runs is exactly what was dispatched under that identity.
 */
import { FathomError } from '../../core/errors.js';
import { firstProblem, Type, type Schema } from '../../core/schema.js';
import { deepFreeze } from '../../core/validated.js';
import { checkTypes, type CheckConfig, type CheckType } from '../types.js';
import { configDigest } from './identity.js';
import { checkDurations, checkLimits } from './limits.js';
import { checkNamePattern } from './parse.js';
import { instanceSchemas } from './schemas.js';

const ms = Type.Integer({ minimum: 1, maximum: checkDurations.maxIntervalMs });

const common = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    type: Type.Enum(checkTypes),
    intervalMs: ms,
    timeoutMs: ms,
    instances: Type.Array(Type.Unknown(), { minItems: 1, maxItems: checkLimits.instances }),
    nodeSelector: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 63 }))),
    exclude: Type.Optional(Type.Boolean()),
    pinned: Type.Optional(Type.Boolean()),
    node: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    source: Type.String({ maxLength: 4096 }),
    digest: Type.String({ minLength: 16, maxLength: 16 }),
  },
  { additionalProperties: false },
);

function refuse(where: string, problem: string): never {
  throw new FathomError('FATHOM_CHECK_INVALID', `${where}: ${problem}`, { details: { where } });
}

/** One config from the wire, validated and frozen; FATHOM_CHECK_INVALID naming `where` and the field. */
export function configFromWire(value: unknown, where: string): CheckConfig {
  const problem = firstProblem(common, value);
  if (problem) refuse(where, `${problem.path ? `${problem.path}: ` : ''}${problem.message}`);
  const c = value as CheckConfig & { type: CheckType };
  if (!checkNamePattern.test(c.name)) refuse(where, `name: "${c.name}" is not a check name`);
  const schema: Schema<unknown> = instanceSchemas[c.type];
  c.instances.forEach((instance, i) => {
    const p = firstProblem(schema, instance);
    if (p) refuse(where, `instances[${i}]${p.path ? `.${p.path}` : ''}: ${p.message}`);
  });
  if (configDigest(c) !== c.digest)
    refuse(where, `digest: does not match the content of ${c.name}`);
  return deepFreeze(structuredClone(c));
}
