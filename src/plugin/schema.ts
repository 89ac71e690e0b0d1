/**
 * The validated plugin model (types.ts) as schemas, for state that carries plugins and nodes
 * and is read back (a local run's run.json): checked on read, not trusted as a cast.
 */
import { Type, type Static } from '../core/schema.js';
import type { ClusterNode, NodeSelectorTerm } from '../core/nodes.js';
import type { PluginDefinition } from './types.js';

const Strings = Type.Array(Type.String());
const StringMap = Type.Record(Type.String(), Type.String());

const taintEffect = Type.Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

export const clusterNodeSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  labels: StringMap,
  taints: Type.Optional(
    Type.Array(
      Type.Object({
        key: Type.String(),
        value: Type.Optional(Type.String()),
        effect: taintEffect,
      }),
    ),
  ),
});

const tolerationSchema = Type.Object({
  key: Type.Optional(Type.String()),
  operator: Type.Enum(['Exists', 'Equal']),
  value: Type.Optional(Type.String()),
  effect: Type.Optional(taintEffect),
});

const requirement = Type.Object({
  key: Type.String(),
  operator: Type.Union([
    Type.Literal('In'),
    Type.Literal('NotIn'),
    Type.Literal('Exists'),
    Type.Literal('DoesNotExist'),
    Type.Literal('Gt'),
    Type.Literal('Lt'),
  ]),
  values: Strings,
});

export const nodeSelectorTermSchema = Type.Object({
  matchExpressions: Type.Array(requirement),
  matchFields: Type.Array(requirement),
});

export const pluginDefinitionSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  driver: Type.Union([Type.Literal('Job'), Type.Literal('DaemonSet')]),
  resultFormat: Type.Union([
    Type.Literal('junit'),
    Type.Literal('e2e'),
    Type.Literal('gojson'),
    Type.Literal('raw'),
    Type.Literal('manual'),
  ]),
  resultFiles: Strings,
  skipCleanup: Type.Boolean(),
  exitCodeVerdict: Type.Boolean(),
  description: Type.String(),
  sourceUrl: Type.String(),
  order: Type.Integer(),
  container: Type.Object({
    name: Type.String(),
    image: Type.String(),
    command: Strings,
    args: Strings,
    env: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
    workingDir: Type.Optional(Type.String()),
  }),
  nodeSelector: StringMap,
  requiredNodeAffinity: Type.Optional(Type.Array(nodeSelectorTermSchema)),
  tolerations: Type.Array(tolerationSchema),
  configMap: StringMap,
  manifest: Type.Record(Type.String(), Type.Unknown()),
  source: Type.Object({ file: Type.String(), document: Type.Integer({ minimum: 0 }) }),
});

// Compile-time: what a schema accepts is the type the code uses (a field added to types.ts and
// not here fails the build).
const _node = (v: Static<typeof clusterNodeSchema>): ClusterNode => v;
const _term = (v: Static<typeof nodeSelectorTermSchema>): NodeSelectorTerm => v;
const _plugin = (v: Static<typeof pluginDefinitionSchema>): PluginDefinition => v;
