/**
 * The run status document (types.ts) as a schema, for where it is read back: a local run's
 * status.json and the Kubernetes aggregator pod's annotation.
 */
import { Type, type Static } from '../core/schema.js';
import type { RunStatus } from './types.js';

const Count = Type.Integer({ minimum: 0 });
const Strings = Type.Array(Type.String());

const progressSchema = Type.Object({
  name: Type.String(),
  node: Type.String(),
  timestamp: Type.String(),
  msg: Type.String(),
  total: Type.Number(),
  completed: Type.Number(),
  errors: Type.Optional(Strings),
  failures: Type.Optional(Strings),
  appendtotals: Type.Optional(Type.Boolean()),
  appendcompleted: Type.Optional(Type.Number()),
  appendfailing: Type.Optional(Strings),
  droppedfailures: Type.Optional(Count),
  droppederrors: Type.Optional(Count),
});

export const runStatusSchema = Type.Object({
  plugins: Type.Array(
    Type.Object({
      plugin: Type.String(),
      node: Type.String(),
      status: Type.Union([
        Type.Literal('running'),
        Type.Literal('complete'),
        Type.Literal('failed'),
      ]),
      'result-status': Type.String(),
      'result-counts': Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
      progress: Type.Optional(progressSchema),
    }),
  ),
  status: Type.Union([
    Type.Literal('running'),
    Type.Literal('post-processing'),
    Type.Literal('complete'),
    Type.Literal('failed'),
  ]),
  'tar-info': Type.Object({
    name: Type.String(),
    created: Type.String(),
    sha256: Type.String(),
    size: Count,
  }),
});

// Compile-time: the schema accepts only what the code's type says.
const _status = (v: Static<typeof runStatusSchema>): RunStatus => v;
