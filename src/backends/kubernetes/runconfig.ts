/** The run's settings as the CLI writes them into the `fathom-config` ConfigMap for the aggregator pod. */
import { Type, type Static } from '../../core/schema.js';
import { deepFreeze, validatedJson } from '../../core/validated.js';
import { readSnapshotConfig, type SnapshotConfig } from '../../snapshot/config.js';

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface KubeRunConfig {
  readonly uuid: string;
  readonly namespace: string;
  readonly createdAt: string;
  /** Per-plugin result timeout; 0 = none. */
  readonly timeoutMs: number;
  readonly maxResultBytes: number;
  /** fathom's image: the aggregator and every worker sidecar. */
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  /** The server's version, given to plugins as SONOBUOY_K8S_VERSION. */
  readonly kubernetesVersion: string;
  readonly uploadPort: number;
  readonly resultsPort: number;
  /** What the cluster snapshot collects, in Sonobuoy's config keys; its defaults when absent. */
  readonly snapshot?: SnapshotConfig;
}

export const CONFIG_KEY = 'config.json';

const nonEmpty = Type.String({ minLength: 1, description: 'a non-empty string' });
const port = Type.Integer({ minimum: 0, maximum: 65_535, description: 'a TCP port' });

const runConfigSchema = Type.Object({
  uuid: nonEmpty,
  namespace: nonEmpty,
  createdAt: Type.String({ minLength: 1, description: 'a timestamp' }),
  timeoutMs: Type.Integer({ minimum: 0, description: 'a whole number of milliseconds' }),
  maxResultBytes: Type.Integer({ minimum: 0, description: 'a whole number of bytes' }),
  image: Type.String({ minLength: 1, description: 'an image reference' }),
  imagePullPolicy: Type.Union(
    [Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')],
    { description: 'Always, IfNotPresent or Never' },
  ),
  kubernetesVersion: Type.String(),
  uploadPort: port,
  resultsPort: port,
  snapshot: Type.Optional(Type.Unknown()),
});
// Compile-time: the schema accepts only what KubeRunConfig says.
const _config = (v: Static<typeof runConfigSchema>): Omit<KubeRunConfig, 'snapshot'> => v;

/** Reads and checks the aggregator's config.json; the result is frozen. */
export function parseRunConfig(text: string): KubeRunConfig {
  const { snapshot, ...rest } = validatedJson(runConfigSchema, text, { file: CONFIG_KEY });
  return deepFreeze({
    ...rest,
    ...(snapshot !== undefined
      ? {
          snapshot: readSnapshotConfig(snapshot, {
            where: `${CONFIG_KEY}: snapshot`,
            code: 'FATHOM_STATE_INVALID',
          }),
        }
      : {}),
  });
}
